"""Masking of 個人番号 (My Number) for everything a report, a log line or a message shows.

Reports show only the last 4 digits ("********1234"). A 12-digit 支払者番号 is a sole proprietor's
個人番号 and is masked too; a 13-digit 法人番号 is public and shown as is. ``scrub`` is the last line of
defence: it masks any run of 12 digits in free text (finding messages, OCR reads, file names).
Log lines and error messages are masked more widely by ``mask_digit_runs`` (any run of 8+ digits: a
misread 個人番号 with a digit too many or too few is still personal); reports cannot use that bound
because they must show 13-digit 法人番号 and amounts.

One module for every stage (rules, pipeline, reports) so that there is one way to mask.
"""

from __future__ import annotations

import re
import unicodedata

from taxcheck.forms import salary_fields

MASK_CHAR = "*"
VISIBLE_DIGITS = 4
MY_NUMBER_DIGITS = 12

# 8 or more digits, spaces and hyphens allowed between them (log lines, error messages).
_DIGIT_RUN = re.compile(r"\d[\d\- ]{6,}\d")
# 12 digits in a row, or 4-4-4 with one space/hyphen between groups, not inside a longer digit run.
_TWELVE_DIGITS = re.compile(r"(?<![0-9])(?:[0-9]{12}|[0-9]{4}[ \-][0-9]{4}[ \-][0-9]{4})(?![0-9])")


def mask_my_number(value: str | None) -> str:
    """"********1234" for a 個人番号 (whatever its separators); "" for blank; all stars when too short."""
    if not value:
        return ""
    digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", str(value)))
    if not digits:
        return MASK_CHAR * MY_NUMBER_DIGITS
    if len(digits) <= VISIBLE_DIGITS:
        return MASK_CHAR * MY_NUMBER_DIGITS
    return MASK_CHAR * (len(digits) - VISIBLE_DIGITS) + digits[-VISIBLE_DIGITS:]


def scrub(text: object) -> str:
    """``text`` as a string with every 12-digit run masked (full-width digits are folded first)."""
    if text is None:
        return ""
    s = str(text)
    if any("０" <= c <= "９" for c in s):
        s = s.translate({ord("０") + i: ord("0") + i for i in range(10)})
    return _TWELVE_DIGITS.sub(lambda m: mask_my_number(m.group(0)), s)


def mask_digit_runs(text: object) -> str:
    """``text`` with every run of 8+ digits (spaces, hyphens between) masked but its last 4 characters:
    for log lines and error messages, which nobody needs to read a number from."""
    return _DIGIT_RUN.sub(lambda m: MASK_CHAR * max(0, len(m.group(0)) - VISIBLE_DIGITS) + m.group(0)[-VISIBLE_DIGITS:],
                          str(text))


_LONG_DIGIT_RUN = re.compile(r"\d(?:[ \-]?\d){11,}")


def mask_long_digit_runs(text: str) -> str:
    """``text`` with every run of 12 or more digits (spaces or hyphens between) masked whole: the page pass's
    reading of a text box, kept to compare with the box's value, may have caught a 個人番号 row beside it."""
    return _LONG_DIGIT_RUN.sub(lambda m: MASK_CHAR * len(m.group(0)), text)


def is_personal_number_column(column: str, value: str | None = None) -> bool:
    """True for a column whose value is (or, for 支払者番号, may be) a 個人番号."""
    spec = salary_fields().get(column)
    kind = spec.type if spec else ("my_number" if column.endswith("my_number") else "")
    if kind == "my_number":
        return True
    if kind == "payer_number":
        digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", value or ""))
        return len(digits) != 13  # only a 13-digit 法人番号 is public
    return False


def safe_value(column: str, value: str | None) -> str:
    """A field value as a report may show it: masked when personal, scrubbed otherwise."""
    if value in (None, ""):
        return ""
    if MASK_CHAR in str(value):  # masked already (the checks mask what they report)
        return scrub(value)
    if is_personal_number_column(column, value):
        return mask_my_number(value)
    return scrub(value)
