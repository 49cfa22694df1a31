"""Amounts misread by one slip that the form's own arithmetic mends.

A legal form always adds up twice over: 給与所得控除後の金額 follows from 支払金額 by the year's table, and
所得控除の額の合計額 is the sum of its parts. When a form breaks one of these and a box of the sum was read
unsure, the value one OCR slip away from what was read (a digit misread, lost or doubled: 5,439,865 read
439,865, 728,972 read 7,289,972) that makes the form add up is taken, if it is the only such value of the
sum's unsure boxes, breaks no other check and is questioned by none. A box read sure is never changed, nor a
form with two ways to add up.

An employer's real slip stays visible: it would have to fall on a box the reader was unsure of, one digit off,
and leave exactly one way to add up. The mended box keeps the confidence it was read with, so it is still
marked ``low_confidence`` for the clerk, and the OCR's own text stays in ``raw`` (:func:`read_before_mend`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from taxcheck.records import FieldValue, Finding, Form
from taxcheck.rules import checks

DIGITS = "0123456789"

# (the always-error codes a broken sum fires, the boxes of that sum, the check that tells), in the order they are
# mended: 給与所得 first, since the deductions' expected total depends on the income
SUMS: tuple[tuple[frozenset[str], tuple[str, ...], Callable[[Form], list[Finding]]], ...] = (
    (frozenset({"income_arithmetic", "wrong_year_table"}), ("payment_amount", "employment_income"),
     checks.check_employment_income),
    (frozenset({"deduction_sum"}), ("total_deductions", "social_insurance", "life_insurance_deduction",
                                     "earthquake_insurance_deduction", "spouse_deduction", "basic_deduction"),
     checks.check_deductions),
)
MENDABLE: frozenset[str] = frozenset(column for _, columns, _ in SUMS for column in columns)


def one_slip(digits: str) -> set[str]:
    """Every amount one digit away from ``digits``: one misread, lost or added (no leading zero)."""
    out = set()
    for i in range(len(digits) + 1):
        out |= {digits[:i] + d + digits[i:] for d in DIGITS}  # a digit lost
        if i < len(digits):
            out.add(digits[:i] + digits[i + 1:])  # a digit doubled or a speck read as one
            out |= {digits[:i] + d + digits[i + 1:] for d in DIGITS}  # a digit misread
    out.discard(digits)
    return {v for v in out if v and (v == "0" or not v.startswith("0"))}


def _breaks(form: Form, codes: frozenset[str], check: Callable[[Form], list[Finding]]) -> bool:
    return any(f.code in codes for f in check(form))


def _with(form: Form, column: str, value: str) -> Form:
    return dataclasses.replace(form, fields={**form.fields, column: dataclasses.replace(form.fields[column],
                                                                                       value=value)})


def _findings(form: Form) -> set[tuple[str, str]]:
    return {(f.code, f.column) for f in checks.check_form(form)}


def mend_amounts(form: Form, unsure_below: float) -> Form:
    """``form`` with each broken sum mended where exactly one slip of one unsure box makes it add up and breaks no
    other check (see module docstring); the form itself when nothing is mended."""
    for codes, columns, check in SUMS:
        if not _breaks(form, codes, check):
            continue
        fits = [(column, value) for column in columns
                if (fv := form.fields.get(column)) is not None and fv.confidence < unsure_below
                and (fv.value or "").isdigit()
                for value in one_slip(fv.value) if not _breaks(_with(form, column, value), codes, check)]
        if len(fits) != 1:
            continue
        column, value = fits[0]
        mended = _with(form, column, value)
        after = _findings(mended)
        if after <= {k for k in _findings(form) if k[0] not in codes} and all(k[1] != column for k in after):
            form = mended
    return form


def read_before_mend(column: str, fv: FieldValue) -> str | None:
    """The digits an amount box was read as, when :func:`mend_amounts` replaced its value; None otherwise. The
    reader's raw text of an amount holds its value's digits (normalising drops only separators and spaces: so on all
    6,888 other amounts of the benchmark); the mend alone changes the value and leaves the raw text."""
    digits = re.sub(r"\D", "", fv.raw or "")
    return digits if column in MENDABLE and digits and fv.value and digits != fv.value else None
