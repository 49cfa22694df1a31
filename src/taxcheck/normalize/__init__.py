"""Text as read → typed values (yen, counts, ISO dates, 個人番号/法人番号, names, kana, flags).

Normalise once, at the boundary between reading and checking: every later stage sees the same
canonical strings whatever the source (text layer or OCR). Each normaliser returns a
:class:`Normalized` that says whether the value fitted its format, so extraction can lower the
field's confidence without blanking what was read.
"""

from __future__ import annotations

from taxcheck.normalize.dates import parse_date
from taxcheck.normalize.numbers import normalize_amount, normalize_count, normalize_my_number, normalize_payer_number
from taxcheck.normalize.text import Normalized, fold, normalize_address, normalize_flag, normalize_kana, normalize_text

NORMALIZERS = {
    "text": normalize_text,
    "address": normalize_address,
    "kana": normalize_kana,
    "amount": normalize_amount,
    "count": normalize_count,
    "my_number": normalize_my_number,
    "payer_number": normalize_payer_number,
    "flag": normalize_flag,
}


def normalize(field_type: str, raw: str, *, tax_year: int | None = None) -> Normalized:
    """Normalise ``raw`` as a value of ``field_type`` (a type of forms/salary_report_fields.yaml)."""
    if field_type == "date":
        return parse_date(raw, tax_year=tax_year)
    try:
        fn = NORMALIZERS[field_type]
    except KeyError:
        raise ValueError(f"unknown field type {field_type!r}") from None
    return fn(raw)


__all__ = [
    "Normalized",
    "fold",
    "normalize",
    "normalize_address",
    "normalize_amount",
    "normalize_count",
    "normalize_flag",
    "normalize_kana",
    "normalize_my_number",
    "normalize_payer_number",
    "normalize_text",
    "parse_date",
]
