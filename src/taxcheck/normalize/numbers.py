"""Amounts, counts, 個人番号 and 法人番号: digits out of OCR text.

OCR of printed digits fails in a few typical ways: ``,`` read as ``.`` (``1.470,000``), a
stray separator (``1,180,.000``), a thousands gap read as a space (``4,520 000``), letters for
digits (O/o/D → 0, l/I/|/! → 1, S → 5, B → 8, Z → 2, b → 6, g → 9). Yen amounts never have
decimals, so every separator is dropped; the format check then says whether what is left looks
right (separator groups of three, check digit) to lower confidence where it does not.
"""

from __future__ import annotations

import re

from taxcheck.normalize.text import Normalized, fold
from taxcheck.rules.checkdigits import is_valid_my_number, is_valid_payer_number

# Letters OCR reads for digits, only applied when the box holds a number.
_LOOKALIKE = str.maketrans({
    "O": "0", "o": "0", "D": "0", "Q": "0", "〇": "0", "U": "0",
    "l": "1", "I": "1", "|": "1", "!": "1", "i": "1", "]": "1", "[": "1", "L": "1",
    "Z": "2", "z": "2", "S": "5", "s": "5", "B": "8", "b": "6", "G": "6", "g": "9", "q": "9", "T": "7",
})
_CURRENCY = re.compile(r"[円¥\\￥千]|人|内")
# Groups of three split by a separator, a space, or both: OCR's words are joined with a space, so an amount
# read as the words "2," "202," "158" arrives as "2, 202, 158" and is as well formed as "2,202,158".
_GROUPED = re.compile(r"^\d{1,3}((?:[,.]\s?|\s)\d{3})+$")


def _digits(raw: str) -> tuple[str, str]:
    """(digits only, the folded text with look-alikes mapped): never raises."""
    s = _CURRENCY.sub("", fold(raw)).translate(_LOOKALIKE)
    return re.sub(r"\D", "", s), s.strip()


def normalize_amount(raw: str) -> Normalized:
    """Integer yen without separators; ok=False when the text had stray characters or odd grouping."""
    digits, s = _digits(raw)
    if not digits:
        return Normalized("", not s)
    value = str(int(digits))
    clean_chars = re.fullmatch(r"[\d,.\s]+", s) is not None
    grouped = _GROUPED.match(s) is not None or s.isdigit()
    return Normalized(value, clean_chars and grouped)


def normalize_count(raw: str) -> Normalized:
    """Number of persons (0..99); ok=False beyond two digits or with stray characters."""
    digits, s = _digits(raw)
    if not digits:
        return Normalized("", not s)
    value = str(int(digits))
    return Normalized(value, len(digits) <= 2 and re.fullmatch(r"[\d\s]+", s) is not None)


def normalize_my_number(raw: str) -> Normalized:
    """個人番号: 12 digits, ok only when the check digit is right."""
    digits, _ = _digits(raw)
    if len(digits) > 12 and is_valid_my_number(digits[-12:]):
        # a grouped number ("9310 8383 3550") with a neighbour's digits read before it: the number is
        # right-aligned, so its last 12 digits with a right check digit are kept, at lowered confidence
        return Normalized(digits[-12:], False)
    return Normalized(digits, (not digits) or is_valid_my_number(digits))


def normalize_payer_number(raw: str) -> Normalized:
    """支払者の番号: 13-digit 法人番号 or 12-digit 個人番号, ok only with the right check digit."""
    digits, _ = _digits(raw)
    if len(digits) > 13 and is_valid_payer_number(digits[-13:]):
        # a cell's frame read as a digit before the number (right-aligned, as the 個人番号's stray above)
        return Normalized(digits[-13:], False)
    return Normalized(digits, (not digits) or is_valid_payer_number(digits))
