"""Dates as printed on the forms → ISO ``YYYY-MM-DD``.

Forms print dates in the Japanese era calendar: ``昭和55年4月12日``, ``昭 55 4 12`` (the era
box ticked and three numbers), ``S55.4.12``, ``令和元年5月1日`` (元年 = year 1), ``平成31年``;
software sometimes prints Gregorian ``1980/4/12``. The era table is data (first day of each era),
not a chain of ifs. A date without an era (``1 4 1`` in 中途就・退職) takes the era in force in the
tax year when one is given.
"""

from __future__ import annotations

import re
from datetime import date

from taxcheck.normalize.text import Normalized, fold

# era → (first day, letters and kanji it is written with)
ERAS: dict[str, tuple[date, tuple[str, ...]]] = {
    "明治": (date(1868, 1, 25), ("明治", "明", "M")),
    "大正": (date(1912, 7, 30), ("大正", "大", "T")),
    "昭和": (date(1926, 12, 25), ("昭和", "昭", "S")),
    "平成": (date(1989, 1, 8), ("平成", "平", "H")),
    "令和": (date(2019, 5, 1), ("令和", "令", "R")),
}
_ALIASES = sorted(((alias, era) for era, (_, aliases) in ERAS.items() for alias in aliases), key=lambda t: -len(t[0]))
_ERA_RE = re.compile("|".join(re.escape(a) for a, _ in _ALIASES))
_ALIAS_TO_ERA = dict(_ALIASES)
# OCR look-alikes inside a date: O→0, l/I/|→1; 元 (first year) → 1.
_DATE_LOOKALIKE = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1", "元": "1"})


def era_to_year(era: str, era_year: int) -> int:
    """Gregorian year of ``era_year`` in ``era`` (令和 1 → 2019)."""
    return ERAS[era][0].year + era_year - 1


def _last_year(era: str) -> int:
    """The highest year ``era`` reached (昭和 64); the current era's is this calendar year's."""
    names = list(ERAS)
    i = names.index(era)
    end = ERAS[names[i + 1]][0].year if i + 1 < len(names) else date.today().year
    return end - ERAS[era][0].year + 1


def _stray_one(n: int, top: int) -> int:
    """``n`` without its leading 1 when it has three digits, where a box holds two, and the other two are at
    most ``top``: the cell's left rule read as 1 (昭 145 → 昭和45, 113日 → 13日), seen on faxes and 2-up scans.
    A two-digit 13月 is left as printed: an employer's slip the rules must see."""
    t = str(n)
    if len(t) == 3 and t[0] == "1" and 1 <= int(t[1:]) <= top:
        return int(t[1:])
    return n


def _default_era(tax_year: int | None) -> str | None:
    if tax_year is None:
        return None
    return "令和" if tax_year >= 2019 else "平成"


def printed_numbers(raw: str) -> str | None:
    """An era reading's year, month and day as ``YYYY-MM-DD`` whether or not a calendar has the date (昭 63 0 12 →
    1988-00-12), for comparing a date no calendar has, which :func:`parse_date` leaves as read, with what was
    printed; None without an era or three numbers."""
    s = fold(raw)
    m = _ERA_RE.search(s)
    nums = [int(n) for n in re.findall(r"\d+", s[m.end():].translate(_DATE_LOOKALIKE))] if m else []
    if len(nums) != 3:
        return None
    return f"{era_to_year(_ALIAS_TO_ERA[m.group(0)], nums[0]):04d}-{nums[1]:02d}-{nums[2]:02d}"


def parse_date(raw: str, *, tax_year: int | None = None) -> Normalized:
    """ISO date of ``raw``; ``""`` for a blank box; ok=False when it cannot be read as a real date."""
    s = fold(raw)
    if not s:
        return Normalized("", True)
    found = list(_ERA_RE.finditer(s))
    # "明 昭和51年 3月 22日": a mark read from the era boxes, then the era written in words by the
    # vendor; the written era name wins over a one-letter mark
    m = next((f for f in found if f.group(0) in ERAS), found[0] if found else None)
    era = _ALIAS_TO_ERA[m.group(0)] if m else None
    rest = s[m.end():] if m else s
    rest = rest.translate(_DATE_LOOKALIKE)
    nums = [int(n) for n in re.findall(r"\d+", rest)]
    if len(nums) == 1 and len(str(nums[0])) in (6, 8) and era is None:  # 19800412 / 550412
        t = str(nums[0])
        nums = [int(t[:-4]), int(t[-4:-2]), int(t[-2:])]
    if len(nums) < 3:
        return Normalized(s, False)
    y, mth, d = nums[:3]
    mth, d = _stray_one(mth, 12), _stray_one(d, 31)
    ok = len(nums) == 3
    explicit_era = era is not None
    if era is None and y >= 1868:
        year = y
    else:
        if era is None:
            era = _default_era(tax_year)
            ok = ok and era is not None
            if era is None:
                return Normalized(s, False)
            # 平成31年 and 令和元年 are both 2019; a bare "31" in a 令和 tax year means 平成31.
            if era == "令和" and y > 2 + (tax_year or 2019) - 2019 + 1:
                era = "平成"
        year = era_to_year(era, _stray_one(y, _last_year(era)))
    try:
        value = date(year, mth, d)
    except ValueError:  # 2月30日 as printed, in the contract's form (the rules name it impossible);
        if 1 <= mth <= 12 and 1 <= d <= 31:  # a month or day no calendar has is a misread: left as read
            return Normalized(f"{year:04d}-{mth:02d}-{d:02d}", False)
        return Normalized(s, False)
    if explicit_era and value < ERAS[era][0]:
        ok = False
    return Normalized(value.isoformat(), ok)
