"""Check digits of 個人番号 (My Number, 12 digits) and 法人番号 (corporate number, 13 digits).

Formulas from 行政手続における特定の個人を識別するための番号の利用等に関する法律施行令 and
法人番号の指定等に関する省令; see DOMAIN.md.
"""

from __future__ import annotations


def my_number_check_digit(first11: str) -> int:
    """The 12th digit of a 個人番号 whose first 11 digits are ``first11``."""
    if len(first11) != 11 or not first11.isdigit():
        raise ValueError("need the first 11 digits of a 個人番号")
    digits = [int(c) for c in reversed(first11)]  # P_1 is the rightmost
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(digits, start=1))
    r = total % 11
    return 0 if r <= 1 else 11 - r


def is_valid_my_number(number: str) -> bool:
    """True for 12 ASCII digits whose last digit is the right check digit."""
    return len(number) == 12 and number.isascii() and number.isdigit() and my_number_check_digit(number[:11]) == int(number[11])


def corporate_number_check_digit(last12: str) -> int:
    """The leading check digit of a 法人番号 whose other 12 digits are ``last12``."""
    if len(last12) != 12 or not last12.isdigit():
        raise ValueError("need the 12 digits after the check digit of a 法人番号")
    digits = [int(c) for c in reversed(last12)]
    total = sum(p * (1 if n % 2 else 2) for n, p in enumerate(digits, start=1))
    return 9 - total % 9


def is_valid_corporate_number(number: str) -> bool:
    """True for 13 ASCII digits whose first digit is the right check digit."""
    return (
        len(number) == 13
        and number.isascii()
        and number.isdigit()
        and corporate_number_check_digit(number[1:]) == int(number[0])
    )


def is_valid_payer_number(number: str) -> bool:
    """支払者 番号: a 法人番号 (13 digits) or, for a sole proprietor, a 個人番号 (12 digits)."""
    return is_valid_corporate_number(number) if len(number) == 13 else is_valid_my_number(number)
