"""rules/mend.py: amounts misread by one slip, mended by the form's own sums, only where that is the one way."""

from __future__ import annotations

import dataclasses
import random

import pytest
from formfactory import consistent_fields, make_form

from taxcheck.rules.checks import check_form
from taxcheck.records import FieldValue
from taxcheck.rules.mend import mend_amounts, one_slip, read_before_mend

UNSURE = 0.6


def _read(fields: dict[str, str], misread: dict[str, str], confidence: float = 0.3):
    """A form printed as ``fields`` whose boxes in ``misread`` were read so, with ``confidence``."""
    form = make_form({**fields, **misread}, confidence=0.95)
    for column in misread:
        form.fields[column] = dataclasses.replace(form.fields[column], confidence=confidence)
    return form


def _printed(seed: int = 7, **over) -> dict[str, str]:
    f = consistent_fields(random.Random(seed), pay=5_439_865)
    f.update(over)
    assert check_form(make_form(f)) == []  # the printed form adds up
    return f


def test_one_slip_is_a_digit_misread_lost_or_added():
    got = one_slip("105")
    assert {"155", "15", "1005", "7105", "10"} <= got and "105" not in got
    assert "005" not in got and "05" not in got  # no amount is printed with a leading zero
    assert one_slip("5") == ({str(d) for d in range(10)} | {f"{d}5" for d in range(1, 10)}
                             | {f"5{d}" for d in range(10)}) - {"5"}


@pytest.mark.parametrize(("column", "read"), [
    ("social_insurance", "doubled"),  # 728,972 read 7,289,972
    ("social_insurance", "misread"),
    ("payment_amount", "lost"),  # 5,439,865 read 439,865 (a fax lost the first digit)
    ("total_deductions", "misread"),
])
def test_an_unsure_box_one_slip_off_is_mended_by_the_sum_it_breaks(column, read):
    f = _printed()
    right = f[column]
    wrong = {"doubled": right[:2] + right[2] + right[2:], "lost": right[1:],
             "misread": right[:-2] + str((int(right[-2]) + 3) % 10) + right[-1]}[read]
    form = _read(f, {column: wrong})
    assert check_form(form)  # read so, the form breaks a sum
    mended = mend_amounts(form, UNSURE)
    assert mended.fields[column].value == right
    assert mended.fields[column].confidence == pytest.approx(0.3)  # still marked unsure for the clerk
    assert mended.fields[column].raw == wrong  # the OCR's own text is kept…
    assert read_before_mend(column, mended.fields[column]) == wrong  # …and told for the exception report
    assert read_before_mend(column, form.fields[column]) is None
    assert check_form(mended) == []


def test_only_a_mended_amount_tells_a_reading_before_the_mend():
    assert read_before_mend("social_insurance", FieldValue("social_insurance", "1,470, 000", "1470000", 0.3)) is None
    # a date's raw text never holds its value's digits: no amount of a sum, nothing to tell
    assert read_before_mend("birth_date", FieldValue("birth_date", "昭和50年3月1日", "1975-03-01", 0.3)) is None


def test_a_box_read_sure_is_never_mended():
    f = _printed()
    form = _read(f, {"social_insurance": f["social_insurance"][1:]}, confidence=UNSURE)
    assert mend_amounts(form, UNSURE) is form


def test_an_employers_slip_on_a_sure_box_is_left_for_the_clerk():
    # 給与所得 printed one digit off (an employer's typo), every box read sure: nothing to mend, the check fires
    f = _printed()
    f["employment_income"] = str(int(f["employment_income"]) + 100_000)
    form = make_form(f, confidence=0.95)
    assert mend_amounts(form, UNSURE) is form
    assert "income_arithmetic" in {x.code for x in check_form(form)}


def test_two_ways_to_add_up_mend_nothing():
    # 社会保険料 read 10,000 over and 生命保険料 read right, both unsure: taking 10,000 off either makes the total
    # add up, each by one slip; which one was misread is not known
    f = _printed(seed=1)
    assert f["life_insurance_deduction"] == "40000"
    social = f["social_insurance"]
    misread = social[:-5] + str(int(social[-5]) + 1) + social[-4:]
    assert int(misread) == int(social) + 10000
    form = _read(f, {"social_insurance": misread, "life_insurance_deduction": "40000"})
    assert mend_amounts(form, UNSURE) is form


def test_a_mend_that_breaks_another_check_is_not_taken():
    # the employer's total is 200,000 short (read sure) and 基礎控除 was read unsure: 280,000 would make the total
    # add up, but is no 基礎控除 of the year's table. The form stays as read, its broken sum for the clerk.
    f = _printed()
    assert f["basic_deduction"] == "480000"
    f["total_deductions"] = str(int(f["total_deductions"]) - 200_000)
    form = _read(f, {"basic_deduction": "480000"})
    assert mend_amounts(form, UNSURE) is form
    assert "deduction_sum" in {x.code for x in check_form(form)}
