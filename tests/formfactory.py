"""Consistent 給与支払報告書 forms made from the statutory formulas, for the checks' and classifier's tests.

Not a replacement for taxcheck.samples (which renders documents): this builds :class:`Form` records
directly, with confidence 1.0 unless told otherwise, so that a test states exactly what is printed.
"""

from __future__ import annotations

import random

from taxcheck.records import FieldValue, Form
from taxcheck.rules import statutory
from taxcheck.rules.checkdigits import corporate_number_check_digit, my_number_check_digit


def my_number(rng: random.Random) -> str:
    first = "".join(rng.choice("0123456789") for _ in range(11))
    return first + str(my_number_check_digit(first))


def corporate_number(rng: random.Random) -> str:
    rest = "".join(rng.choice("0123456789") for _ in range(12))
    return str(corporate_number_check_digit(rest)) + rest


def make_form(fields: dict[str, str], *, year: int = 2024, key: int = 1, confidence: float = 1.0,
              source: str = "doc.pdf") -> Form:
    return Form(
        source=source, page=1, slot=key, form="salary_report", tax_year=year,
        fields={k: FieldValue(k, v, v, confidence) for k, v in fields.items()},
    )


def consistent_fields(rng: random.Random, year: int = 2024, pay: int | None = None, **over: str) -> dict[str, str]:
    """A full-year employee whose boxes all agree with the law of ``year``."""
    pay = pay if pay is not None else rng.randrange(1_500_000, 9_000_000, 1000) + rng.randrange(0, 1000)
    ei = statutory.employment_income(pay, year)
    social = int(pay * 0.145)
    life = rng.choice([0, 40000, 50000, 80000, 120000])
    quake = rng.choice([0, 0, 15000, 50000])
    spouse = rng.choice([0, 0, 380000])
    specific, other, under16 = rng.choice([0, 0, 1]), rng.choice([0, 1, 2]), rng.choice([0, 1, 2])
    basic = statutory.basic_deduction(ei, year)
    total = social + life + quake + spouse + basic + statutory.dependant_deduction(specific, 0, 0, other, year)
    housing = rng.choice([0, 0, 0, 120000])
    tax = statutory.annual_tax(ei, total, housing, year)
    f = {
        "recipient_address": "東京都練馬区豊玉北6-12-1",
        "recipient_kana": "ヤマダ タロウ",
        "recipient_name": "山田 太郎",
        "recipient_my_number": my_number(rng),
        "payment_amount": str(pay),
        "employment_income": str(ei),
        "total_deductions": str(total),
        "withholding_tax": str(tax),
        "spouse_present": "1" if spouse else "",
        "spouse_deduction": str(spouse) if spouse else "",
        "dependents_specific": str(specific) if specific else "",
        "dependents_other": str(other) if other else "",
        "dependents_under16": str(under16) if under16 else "",
        "dependents_named": str(specific + other),
        "under16_named": str(under16),
        "social_insurance": str(social),
        "life_insurance_deduction": str(life) if life else "",
        "earthquake_insurance_deduction": str(quake) if quake else "",
        "housing_loan_credit": str(housing) if housing else "",
        "basic_deduction": str(basic) if statutory.tables(year).has_basic_deduction_box else "",
        "birth_date": f"{rng.randrange(1950, 2000)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 10)}",
        "payer_number": corporate_number(rng),
        "payer_address": "東京都千代田区丸の内1-1-1",
        "payer_name": f"株式会社テスト{rng.randrange(10)}",
    }
    f.update(over)
    return f


# ---------------------------------------------------------------------------------------------- labelled sets

ODDITIES = ("otsu", "midyear_leaver", "income_adjustment", "prior_job_noted")
ERRORS = ("tax_mismatch", "my_number_check_digit", "income_arithmetic", "misread_name", "misread_amount")


def _oddity(rng: random.Random, f: dict[str, str], year: int, kind: str) -> None:
    if kind == "otsu":
        f.update(otsu="1", employment_income="", total_deductions="", basic_deduction="",
                 withholding_tax=str(int(f["payment_amount"]) // 10 // 100 * 100))
    elif kind == "midyear_leaver":
        f.update(retire_date=f"{year}-0{rng.randrange(3, 9)}-15", employment_income="", total_deductions="")
    elif kind == "income_adjustment":
        pay = rng.randrange(8_600_000, 11_000_000)
        g = consistent_fields(rng, year=year, pay=pay)
        adj = statutory.income_adjustment(pay, year, True)
        g["employment_income"] = str(statutory.employment_income(pay, year) - adj)
        g["income_adjustment"] = str(adj)
        total = int(g["total_deductions"])
        g["withholding_tax"] = str(statutory.annual_tax(int(g["employment_income"]), total,
                                                        int(g["housing_loan_credit"] or 0), year))
        f.clear()
        f.update(g)
    elif kind == "prior_job_noted":
        f.update(hire_date=f"{year}-0{rng.randrange(2, 9)}-01", remarks="前職分を含む（株式会社前職 支払金額1,200,000円）")


def _error(rng: random.Random, f: dict[str, str], kind: str) -> dict[str, str]:
    """Apply an error; returns the *printed* fields (equal to f unless the error is a misread)."""
    printed = dict(f)
    if kind == "tax_mismatch":
        f["withholding_tax"] = printed["withholding_tax"] = str(int(f["withholding_tax"] or 0) + rng.choice([1000, 5400, -2300, 12000]))
    elif kind == "my_number_check_digit":
        n = f["recipient_my_number"]
        f["recipient_my_number"] = printed["recipient_my_number"] = n[:11] + str((int(n[11]) + rng.randrange(1, 10)) % 10)
    elif kind == "income_arithmetic":
        f["employment_income"] = printed["employment_income"] = str(int(f["employment_income"]) + rng.choice([-4000, 10000, 1000]))
    elif kind == "misread_name":
        f["recipient_name"] = f["recipient_name"].replace("太郎", "太朗")  # read wrong, printed right
    elif kind == "misread_amount":
        f["social_insurance"] = str(int(f["social_insurance"]) + 8 * 10 ** rng.randrange(2, 5))
    return printed


def labelled_set(n: int, seed: int = 0, year: int = 2024, error_rate: float = 0.3,
                 oddity_rate: float = 0.25) -> tuple[list[Form], list[dict]]:
    """``n`` forms with truth records in the generator's format ({fields, errors, oddities, needs_correction});
    misreads lower the read box's confidence, as a reader would."""
    rng = random.Random(seed)
    forms, truth = [], []
    for i in range(n):
        f = consistent_fields(rng, year=year)
        oddities, errors = [], []
        if rng.random() < oddity_rate:
            kind = rng.choice(ODDITIES)
            _oddity(rng, f, year, kind)
            oddities.append(kind)
        printed = dict(f)
        conf = {k: rng.uniform(0.85, 1.0) for k in f}
        if rng.random() < error_rate:
            kind = rng.choice(ERRORS)
            if kind in ("tax_mismatch", "income_arithmetic") and (f.get("otsu") or f.get("retire_date")):
                kind = "my_number_check_digit"
            printed = _error(rng, f, kind)
            if kind.startswith("misread"):
                for k in f:
                    if f[k] != printed[k]:
                        conf[k] = rng.uniform(0.3, 0.7)
            else:
                errors.append({"code": kind, "column": "", "corrected": ""})
        form = Form(source=f"batch{seed}.pdf", page=i + 1, slot=1, form="salary_report", tax_year=year,
                    fields={k: FieldValue(k, v, v or None, conf[k]) for k, v in f.items()})
        forms.append(form)
        truth.append({"source": form.source, "page": form.page, "slot": 1, "tax_year": year, "fields": printed,
                      "errors": errors, "oddities": oddities, "needs_correction": bool(errors)})
    return forms, truth
