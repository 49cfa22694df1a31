"""Statutory checks of a 給与支払報告書: recompute what the form should say and report every difference.

Pandera-style lazy validation: every check runs and each difference becomes a :class:`Finding` with a
stable code (the generator's error codes where the meaning is the same), the column and printed box,
the value read, the value expected, a residual scaled by the amount (a feature for the classifier) and
a Japanese message for the clerk. Year-dependent numbers come from :mod:`taxcheck.rules.statutory`;
none is written here.

``ALWAYS_ERROR`` names the checks whose firing is an error whatever the model says (a check digit
cannot be legitimately wrong); the others are evidence the classifier weighs against oddities that
are legal (乙欄, 中途退職, 所得金額調整控除, …).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from itertools import product

from taxcheck.forms import box_name
from taxcheck.privacy import mask_my_number
from taxcheck.records import Finding, Form
from taxcheck.rules import statutory
from taxcheck.rules.checkdigits import is_valid_corporate_number, is_valid_my_number

# Checks whose firing always sends the form to a person (the model cannot overrule them).
ALWAYS_ERROR: frozenset[str] = frozenset(
    {
        "my_number_check_digit",
        "my_number_missing",
        "payer_number_check_digit",
        "income_arithmetic",
        "wrong_year_table",
        "deduction_sum",
        "birth_date_invalid",
        "birth_date_out_of_range",
        "hire_retire_out_of_year",
        "dependents_count_mismatch",
        "spouse_amount_invalid",
        "duplicate_resubmission",
        "kana_missing",
        "address_missing",
        "required_missing",
        "amount_unreadable",
    }
)

# Every code a check may emit, in a stable order (the classifier's feature list is built from it).
CODES: tuple[str, ...] = (
    "income_arithmetic",
    "wrong_year_table",
    "income_adjustment_amount",
    "deduction_sum",
    "basic_deduction_invalid",
    "tax_mismatch",
    "my_number_check_digit",
    "my_number_missing",
    "payer_number_check_digit",
    "kana_missing",
    "address_missing",
    "required_missing",
    "amount_unreadable",
    "birth_date_invalid",
    "birth_date_out_of_range",
    "hire_retire_out_of_year",
    "dependents_count_mismatch",
    "spouse_amount_invalid",
    "duplicate_resubmission",
    "prior_job_not_noted",
)

AMOUNT_COLUMNS = (
    "payment_amount",
    "employment_income",
    "total_deductions",
    "withholding_tax",
    "spouse_deduction",
    "social_insurance",
    "life_insurance_deduction",
    "earthquake_insurance_deduction",
    "housing_loan_credit",
    "basic_deduction",
    "income_adjustment",
)
COUNT_COLUMNS = (
    "dependents_specific",
    "dependents_elderly",
    "dependents_elderly_cohabiting",
    "dependents_other",
    "dependents_under16",
    "disabled_special",
    "disabled_other",
    "dependents_named",
    "under16_named",
)
# Boxes that must not be blank, with the code used when they are.
REQUIRED: dict[str, str] = {
    "recipient_my_number": "my_number_missing",
    "recipient_kana": "kana_missing",
    "recipient_address": "address_missing",
    "recipient_name": "required_missing",
    "payment_amount": "required_missing",
    "payer_name": "required_missing",
    "payer_address": "required_missing",
    "payer_number": "required_missing",
}
NAMED_DEPENDANT_SLOTS = 4  # the form has four 控除対象扶養親族 rows; a 5th and later go into 摘要
MIN_WORKING_AGE = 15  # 受給者 younger than this at the end of the tax year is taken as a misprinted birth date
MAX_AGE = 90  # older than this at the end of the tax year: almost always a wrong era (明治 for 昭和)
# Last year of each closed era: 明治55年 cannot exist, whatever the date it converts to.
ERA_LAST_YEAR = {"明治": 45, "明": 45, "M": 45, "大正": 15, "大": 15, "T": 15, "昭和": 64, "昭": 64, "S": 64,
                 "平成": 31, "平": 31, "H": 31}
_ERA_YEAR_RE = re.compile(r"(明治|大正|昭和|平成|明|大|昭|平|M|T|S|H)\s*(\d{1,2})(?!\d)")
RESIDUAL_FLOOR = 10_000  # yen: residuals are scaled by max(|expected|, this) so that small boxes do not explode
PRIOR_JOB_WORDS = ("前職", "前の勤務先", "前勤務先")
EXTRA_DEPENDANT_WORDS = ("扶養", "親族", "控除対象")


def _residual(read: int | None, expected: int) -> float:
    return ((read or 0) - expected) / max(abs(expected), RESIDUAL_FLOOR)


def _finding(code: str, column: str, read, expected, message: str, residual: float | None = None,
             severity: str = "error") -> Finding:
    return Finding(
        code=code,
        column=column,
        box=box_name(column),
        read=None if read is None else str(read),
        expected=None if expected is None else str(expected),
        message=message,
        severity=severity,  # type: ignore[arg-type]
        always_error=code in ALWAYS_ERROR,
        residual=residual,
    )


def _yen(v: int | None) -> str:
    return "空欄" if v is None else f"{v:,}円"


def _count(form: Form, column: str) -> int:
    """A count box: blank means none."""
    return form.amount(column) or 0


def _flag(form: Form, column: str) -> bool:
    return form.value(column) == "1"


def _year(form: Form) -> int | None:
    y = form.tax_year
    return y if y in statutory.available_years() else None


# ---------------------------------------------------------------------------------------------- amounts


def check_amount_formats(form: Form) -> list[Finding]:
    """An amount or count box that holds something that is not a number (a misread or a typo)."""
    out = []
    for col in AMOUNT_COLUMNS + COUNT_COLUMNS:
        v = form.value(col)
        if v is not None and form.amount(col) is None:
            out.append(_finding("amount_unreadable", col, v, None, f"{box_name(col)}が数字として読めません（{v}）。", 1.0))
    return out


def expected_employment_income(form: Form, year: int) -> int | None:
    """The 給与所得控除後の金額（調整控除後） box recomputed from 支払金額 (and the printed 所得金額調整控除)."""
    pay = form.amount("payment_amount")
    if pay is None or pay < 0:
        return None
    adjustment = form.amount("income_adjustment") or 0
    return max(0, statutory.employment_income(pay, year) - adjustment)


def check_employment_income(form: Form) -> list[Finding]:
    """給与所得 against the form's year table; a value that fits another year's table gets its own code."""
    year = _year(form)
    pay, read = form.amount("payment_amount"), form.amount("employment_income")
    if year is None or pay is None or read is None or pay < 0:
        return []
    out = []
    adj_read = form.amount("income_adjustment")
    if adj_read:
        adj_expected = statutory.income_adjustment(pay, year, eligible=True)
        if adj_read != adj_expected:
            out.append(
                _finding("income_adjustment_amount", "income_adjustment", adj_read, adj_expected,
                         f"所得金額調整控除額が{_yen(adj_read)}ですが、支払金額からは{_yen(adj_expected)}です。",
                         _residual(adj_read, adj_expected), severity="warning")
            )
    expected = expected_employment_income(form, year)
    if expected is None or read == expected:
        return out
    # 所得金額調整控除 applied but not printed in its own box: accept the value after it.
    if not adj_read and read == statutory.employment_income_after_adjustment(pay, year, True):
        return out
    others = [
        y for y in statutory.available_years()
        if y != year and read in {
            max(0, statutory.employment_income(pay, y) - (adj_read or 0)),
            statutory.employment_income_after_adjustment(pay, y, True),
        }
    ]
    if others:
        out.append(
            _finding("wrong_year_table", "employment_income", read, expected,
                     f"給与所得控除後の金額{_yen(read)}は{others[0]}年分の表で計算されています。"
                     f"{year}年分の表では{_yen(expected)}です。", _residual(read, expected))
        )
    else:
        out.append(
            _finding("income_arithmetic", "employment_income", read, expected,
                     f"給与所得控除後の金額が{_yen(read)}ですが、支払金額{_yen(pay)}からは{_yen(expected)}です。",
                     _residual(read, expected))
        )
    return out


def _earner_income(form: Form, year: int) -> int | None:
    """合計所得金額 of a salary-only earner: the printed 給与所得, else recomputed."""
    read = form.amount("employment_income")
    return read if read is not None else expected_employment_income(form, year)


def expected_deductions(form: Form, year: int) -> set[int]:
    """Every total the 所得控除の額の合計額 may legally hold given the boxes (some boxes are ambiguous:
    a 特別障害者 may be 同居 (+350,000), a 令和元年分 寡婦 may be 特別寡婦)."""
    t = statutory.tables(year)
    p = t.personal
    income = _earner_income(form, year) or 0
    basic = form.amount("basic_deduction")
    if basic is None:
        basic = statutory.basic_deduction(income, year)
    fixed = (
        (form.amount("social_insurance") or 0)
        + (form.amount("life_insurance_deduction") or 0)
        + (form.amount("earthquake_insurance_deduction") or 0)
        + (form.amount("spouse_deduction") or 0)
        + basic
        + statutory.dependant_deduction(
            _count(form, "dependents_specific"),
            _count(form, "dependents_elderly"),
            min(_count(form, "dependents_elderly_cohabiting"), _count(form, "dependents_elderly")),
            _count(form, "dependents_other"),
            year,
        )
        + _count(form, "disabled_other") * p["disabled"]
        + (p["special_disabled"] if _flag(form, "self_disabled_special") else 0)
        + (p["disabled"] if _flag(form, "self_disabled_other") else 0)
        + (p["working_student"] if _flag(form, "working_student") else 0)
    )
    special = _count(form, "disabled_special")
    disabled_options = {
        k * p["cohabiting_special_disabled"] + (special - k) * p["special_disabled"] for k in range(special + 1)
    }
    widow_options = {0}
    if _flag(form, "widow"):
        widow_options = {p["widow"]} | ({p["special_widow"]} if p.get("special_widow") else set())
    parent_options = {0}
    if _flag(form, "single_parent"):
        # 令和元年分 has no ひとり親: its 特別寡婦 (350,000) is the nearest box.
        parent_options = {p.get("single_parent") or p.get("special_widow") or 0}
    return {fixed + a + b + c for a, b, c in product(disabled_options, widow_options, parent_options)}


def check_deductions(form: Form) -> list[Finding]:
    """所得控除の額の合計額 against the sum of its parts, and 基礎控除 against the year's table."""
    year = _year(form)
    if year is None:
        return []
    out = []
    income = _earner_income(form, year)
    basic = form.amount("basic_deduction")
    if basic is not None and income is not None and statutory.tables(year).has_basic_deduction_box:
        exp_basic = statutory.basic_deduction(income, year)
        if basic != exp_basic:
            out.append(
                _finding("basic_deduction_invalid", "basic_deduction", basic, exp_basic,
                         f"基礎控除の額が{_yen(basic)}ですが、所得{_yen(income)}では{_yen(exp_basic)}です。",
                         _residual(basic, exp_basic))
            )
    read = form.amount("total_deductions")
    if read is None:
        return out  # blank, as for 中途退職者 and 乙欄
    options = expected_deductions(form, year)
    if read not in options:
        nearest = min(options, key=lambda v: abs(v - read))
        out.append(
            _finding("deduction_sum", "total_deductions", read, nearest,
                     f"所得控除の額の合計額が{_yen(read)}ですが、内訳の合計は{_yen(nearest)}です。",
                     _residual(read, nearest))
        )
    return out


def is_full_year(form: Form) -> bool:
    """True when the form had a 年末調整: not 乙欄, no 退職 date, and the computed boxes are printed."""
    return (
        not _flag(form, "otsu")
        and form.value("retire_date") is None
        and form.amount("employment_income") is not None
        and form.amount("total_deductions") is not None
    )


def check_tax(form: Form) -> list[Finding]:
    """年調年税額 of a full-year employee against the 源泉徴収税額 box."""
    year = _year(form)
    if year is None or not is_full_year(form) or form.amount("payment_amount") is None:
        return []
    ei, td = form.amount("employment_income"), form.amount("total_deductions")
    expected = statutory.annual_tax(ei, td, form.amount("housing_loan_credit") or 0, year)
    read = form.amount("withholding_tax")
    if (read or 0) == expected:
        return []
    return [
        _finding("tax_mismatch", "withholding_tax", read, expected,
                 f"源泉徴収税額が{_yen(read)}ですが、年末調整の計算では{_yen(expected)}です。",
                 _residual(read, expected))
    ]


# The parts of 所得控除の額の合計額 read from amount boxes: a sum that comes out exact confirms each of them.
DEDUCTION_PARTS = ("social_insurance", "life_insurance_deduction", "earthquake_insurance_deduction",
                   "spouse_deduction", "basic_deduction")


def confirmed_boxes(form: Form) -> frozenset[str]:
    """Amount boxes whose reading an exact equation of the form confirms, whatever the reader's confidence: a
    misread digit would break it. 給与所得 that is the year table's value of 支払金額 (not 0: the table is flat
    there); 所得控除の額の合計額 that is a sum its parts allow, and those parts; 源泉徴収税額 that is the 年末調整's
    tax of a full-year employee (not 0). 支払金額 itself is not confirmed: the table reads it in ¥4,000 steps."""
    year = _year(form)
    if year is None:
        return frozenset()
    out = set()
    income = form.amount("employment_income")
    if income and income == expected_employment_income(form, year):
        out.add("employment_income")
    total = form.amount("total_deductions")
    if total is not None and total in expected_deductions(form, year):
        out.update(["total_deductions"] + [c for c in DEDUCTION_PARTS if form.amount(c) is not None])
    tax = form.amount("withholding_tax")
    if tax and is_full_year(form) and not check_tax(form):
        out.add("withholding_tax")
    return frozenset(out)


def check_spouse(form: Form) -> list[Finding]:
    """配偶者（特別）控除の額 must be one of the amounts allowed for the earner's income."""
    year = _year(form)
    amount = form.amount("spouse_deduction")
    if year is None or not amount:
        return []
    income = _earner_income(form, year)
    if income is None:
        return []
    allowed = statutory.allowed_spouse_amounts(income, year)
    if amount in allowed:
        return []
    nearest = min(allowed, key=lambda v: abs(v - amount))
    return [
        _finding("spouse_amount_invalid", "spouse_deduction", amount, nearest,
                 f"配偶者（特別）控除の額{_yen(amount)}は所得{_yen(income)}の人には認められない額です。",
                 _residual(amount, nearest))
    ]


# ---------------------------------------------------------------------------------------------- identity


def check_numbers(form: Form) -> list[Finding]:
    """個人番号 and 支払者 番号 check digits (a wrong length fails too)."""
    out = []
    mine = form.value("recipient_my_number")
    if mine is not None and not is_valid_my_number(mine):
        out.append(
            _finding("my_number_check_digit", "recipient_my_number", mask_my_number(mine), None,
                     f"個人番号（{mask_my_number(mine)}）の検査用数字が合いません。", 1.0)
        )
    payer = form.value("payer_number")
    if payer is not None:
        ok = is_valid_corporate_number(payer) if len(payer) == 13 else is_valid_my_number(payer)
        if not ok:
            out.append(
                _finding("payer_number_check_digit", "payer_number", mask_my_number(payer), None,
                         f"支払者の個人番号又は法人番号（{mask_my_number(payer)}）の検査用数字が合いません。", 1.0)
            )
    return out


UNSURE_BLANK = 0.5  # a box read blank with less confidence than this may hold what the reader could not read


def check_required(form: Form) -> list[Finding]:
    """Boxes that must be filled in. A box read blank but unsurely (ink nothing could read, or only printed labels:
    the reader's confidence in the blank under UNSURE_BLANK) is reported as unread, not as empty: the clerk looks
    at the paper, not at the payer."""
    return [_finding(code, col, None, None, _blank_message(form, col), 1.0)
            for col, code in REQUIRED.items() if form.value(col) is None]


def _blank_message(form: Form, col: str) -> str:
    fv = form.fields.get(col)
    if fv is not None and fv.source != "text_layer" and fv.confidence < UNSURE_BLANK:
        return f"{box_name(col)}が読み取れませんでした（記入があるようです）。原本を確認してください。"
    return f"{box_name(col)}が空欄です。"


def _date_field(form: Form, col: str) -> tuple[date | None, bool]:
    """(parsed date, printed-but-impossible)."""
    fv = form.fields.get(col)
    if fv is None:
        return None, False
    d = form.date(col)
    printed = bool((fv.value or "").strip() or (fv.raw or "").strip())
    return d, printed and d is None


def check_dates(form: Form) -> list[Finding]:
    """生年月日, 就職 and 退職: real dates, plausible age, inside the tax year, 就職 before 退職."""
    out = []
    year = form.tax_year
    birth, bad = _date_field(form, "birth_date")
    if bad:
        out.append(_finding("birth_date_invalid", "birth_date", form.fields["birth_date"].raw, None,
                            "受給者生年月日が日付として成り立ちません。", 1.0))
    elif birth is None:
        out.append(_finding("birth_date_invalid", "birth_date", None, None, "受給者生年月日が空欄です。", 1.0))
    elif year is not None:
        age = year - birth.year  # age reached during the tax year
        era = _ERA_YEAR_RE.match(unicodedata.normalize("NFKC", form.fields["birth_date"].raw or "").strip())
        if era and int(era.group(2)) > ERA_LAST_YEAR[era.group(1)]:
            out.append(_finding("birth_date_out_of_range", "birth_date", form.fields["birth_date"].raw, None,
                                f"受給者生年月日の{era.group(1)}{era.group(2)}年は存在しません。", 1.0))
        elif not MIN_WORKING_AGE <= age <= MAX_AGE:
            out.append(_finding("birth_date_out_of_range", "birth_date", birth.isoformat(), None,
                                f"受給者生年月日（{birth.isoformat()}）では{year}年末に{age}歳となり、ありえません。", 1.0))
    dates = {}
    for col, label in (("hire_date", "就職"), ("retire_date", "退職")):
        d, bad = _date_field(form, col)
        if bad:
            out.append(_finding("hire_retire_out_of_year", col, form.fields[col].raw, None,
                                f"中途就・退職の{label}年月日が日付として成り立ちません。", 1.0))
        elif d is not None:
            dates[col] = d
            if year is not None and d.year != year:
                out.append(_finding("hire_retire_out_of_year", col, d.isoformat(), f"{year}年中",
                                    f"中途就・退職の{label}年月日（{d.isoformat()}）が{year}年中ではありません。", 1.0))
    if len(dates) == 2 and dates["hire_date"] > dates["retire_date"]:
        out.append(_finding("hire_retire_out_of_year", "retire_date", dates["retire_date"].isoformat(),
                            f"{dates['hire_date'].isoformat()}以後",
                            "退職年月日が就職年月日より前です。", 1.0))
    return out


def remarks_mention_extra_dependants(remarks: str | None) -> bool:
    """摘要 names dependants beyond the four rows (the 5th and later are written there)."""
    return bool(remarks) and any(w in remarks for w in EXTRA_DEPENDANT_WORDS)


def check_dependants(form: Form) -> list[Finding]:
    """Dependant counts against the dependants named on the form (and in 摘要 beyond four)."""
    out = []
    pairs = (
        ("dependents_named", _count(form, "dependents_specific") + _count(form, "dependents_elderly")
         + _count(form, "dependents_other"), "控除対象扶養親族"),
        ("under16_named", _count(form, "dependents_under16"), "16歳未満の扶養親族"),
    )
    for named_col, counted, label in pairs:
        if named_col not in form.fields:
            continue  # the reader did not look for names: nothing to compare with
        named = _count(form, named_col)
        if counted == named:
            continue
        if counted > NAMED_DEPENDANT_SLOTS and named == NAMED_DEPENDANT_SLOTS and (
                named_col == "under16_named" or remarks_mention_extra_dependants(form.value("remarks"))):
            continue  # four rows filled, the rest in 摘要 (16歳未満 beyond four are often left out of it)
        out.append(
            _finding("dependents_count_mismatch", named_col, named, counted,
                     f"{label}の数が{counted}人ですが、氏名の記載は{named}人です。",
                     float(named - counted))
        )
    elderly, cohabiting = _count(form, "dependents_elderly"), _count(form, "dependents_elderly_cohabiting")
    if cohabiting > elderly:
        out.append(
            _finding("dependents_count_mismatch", "dependents_elderly_cohabiting", cohabiting, elderly,
                     f"同居老親等の数（{cohabiting}人）が老人扶養親族の数（{elderly}人）を超えています。",
                     float(cohabiting - elderly))
        )
    return out


def check_prior_job(form: Form) -> list[Finding]:
    """A mid-year hire whose 年末調整 was done here, with nothing in 摘要 about a 前職 (a warning: a first job
    is legal, but the 前職分 left out of 摘要 is one of the commonest corrections)."""
    hire = form.date("hire_date")
    remarks = form.value("remarks") or ""
    if hire is None or hire.year != form.tax_year or not is_full_year(form) or hire.month == 1:
        return []
    if any(w in remarks for w in PRIOR_JOB_WORDS):
        return []
    return [
        _finding("prior_job_not_noted", "remarks", None, "前職分の記載",
                 f"{hire.month}月の中途就職で年末調整済みですが、摘要に前職分の記載がありません（前職がなければ問題ありません）。",
                 None, severity="warning")
    ]


FORM_CHECKS: tuple[Callable[[Form], list[Finding]], ...] = (
    check_amount_formats,
    check_employment_income,
    check_deductions,
    check_tax,
    check_spouse,
    check_numbers,
    check_required,
    check_dates,
    check_dependants,
    check_prior_job,
)


def check_form(form: Form) -> list[Finding]:
    """Every single-form check; a check that crashes on odd input is a bug, not a finding."""
    findings: list[Finding] = []
    for check in FORM_CHECKS:
        findings.extend(check(form))
    return findings


# ---------------------------------------------------------------------------------------------- batch


def _fold(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def person_key(form: Form) -> str | None:
    """The same person across forms: a valid 個人番号, else name + birth date."""
    mine = form.value("recipient_my_number")
    if mine and is_valid_my_number(mine):
        return "mn:" + mine
    name, birth = _fold(form.value("recipient_name")), form.value("birth_date")
    return f"nb:{name}|{birth}" if name and birth else None


def payer_key(form: Form) -> str | None:
    number = form.value("payer_number")
    if number:
        return "pn:" + number
    name = _fold(form.value("payer_name"))
    return "pa:" + name if name else None


def duplicate_keys(form: Form) -> set[str]:
    """Every (person, payer) identity of a form: by 個人番号 or name + birth date, by payer number or name,
    so that one misread number does not hide a resubmission."""
    mine = form.value("recipient_my_number")
    name, birth = _fold(form.value("recipient_name")), form.value("birth_date")
    people = ({"mn:" + mine} if mine and is_valid_my_number(mine) else set()) | (
        {f"nb:{name}|{birth}"} if name and birth else set())
    number, payer_name = form.value("payer_number"), _fold(form.value("payer_name"))
    payers = ({"pn:" + number} if number else set()) | ({"pa:" + payer_name} if payer_name else set())
    return {f"{p}#{q}" for p in people for q in payers}


def _groups(forms: Iterable[Form], key: Callable[[Form], str | None]) -> dict[str, list[Form]]:
    groups: dict[str, list[Form]] = defaultdict(list)
    for f in forms:
        k = key(f)
        if k is not None:
            groups[k].append(f)
    return groups


def check_batch(forms: list[Form]) -> dict[str, list[Finding]]:
    """Every form's own checks plus the cross-form ones, keyed by ``form.key``.

    * ``duplicate_resubmission``: the same person and payer twice in the batch (a correction sent as a
      new 給報 double-counts 支払金額); every copy after the first (by source, page, slot) is flagged, its
      ``expected`` naming the first so the clerk sees both.
    * ``prior_job_not_noted`` (warning): the same person with two payers where the later job's form has a
      就職 date after the other's 退職 date and its 摘要 says nothing of the 前職.
    """
    result = {f.key: check_form(f) for f in forms}
    ordered = sorted(forms, key=lambda f: (f.source, f.page, f.slot))
    first_of: dict[str, Form] = {}
    for f in ordered:
        for key in duplicate_keys(f):
            original = first_of.setdefault(key, f)
            if original is not f and not any(x.code == "duplicate_resubmission" for x in result[f.key]):
                result[f.key].append(
                    _finding("duplicate_resubmission", "recipient_name", f.key, original.key,
                             "同じ受給者・同じ支払者の給与支払報告書が先に出ています（再提出の重複の疑い）。"
                             f"先の票: {original.key}", 1.0)
                )
    for group in _groups(forms, person_key).values():
        payers = {payer_key(f) for f in group}
        if len(payers) < 2:
            continue
        for f in group:
            hire = f.date("hire_date")
            remarks = f.value("remarks") or ""
            if hire is None or any(w in remarks for w in PRIOR_JOB_WORDS):
                continue
            left = [g for g in group if payer_key(g) != payer_key(f) and (g.date("retire_date") or date.max) <= hire]
            if left:
                result[f.key].append(
                    _finding("prior_job_not_noted", "remarks", None, "前職分の記載",
                             "同じ受給者の前職の給与支払報告書がありますが、摘要に前職分の記載がありません。",
                             1.0, severity="warning")
                )
    return result
