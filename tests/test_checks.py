"""Statutory checks against hand-computed cases at the band edges (arithmetic in the comments)."""

from __future__ import annotations

import random

import pytest
from formfactory import ODDITIES, _oddity, consistent_fields, corporate_number, make_form

from taxcheck.rules.checks import check_batch, check_form


def codes(form) -> list[str]:
    return sorted(f.code for f in check_form(form))


def income_form(pay: int, printed: int, year: int = 2024, **extra: str):
    return make_form({"payment_amount": str(pay), "employment_income": str(printed), **extra}, year=year)


def finding(form, code):
    hits = [f for f in check_form(form) if f.code == code]
    assert hits, f"{code} did not fire: {codes(form)}"
    return hits[0]


# ------------------------------------------------------------------------------------------ 給与所得


@pytest.mark.parametrize(
    "pay, printed",
    [
        (550_999, 0),  # < 551,000 → 0
        (551_000, 1_000),  # 551,000 − 550,000
        (1_618_999, 1_068_999),  # last "minus" yen: 1,618,999 − 550,000
        (1_619_000, 1_069_000),  # first fixed step
        (1_628_000, 1_076_800),  # A = 407,000; 407,000 × 2.4 + 100,000
        (1_800_000, 1_180_000),  # A = 450,000; × 2.8 − 80,000
        (3_600_000, 2_440_000),  # A = 900,000; × 3.2 − 440,000
        (3_601_999, 2_440_000),  # A floors to 900,000 again
        (6_600_000, 4_840_000),  # 6,600,000 × 0.9 − 1,100,000
        (8_500_000, 6_550_000),  # 8,500,000 − 1,950,000
    ],
)
def test_employment_income_band_edges_2024(pay, printed):
    assert "income_arithmetic" not in codes(income_form(pay, printed))
    f = finding(income_form(pay, printed + 1000), "income_arithmetic")
    assert f.expected == str(printed) and f.box == "給与所得控除後の金額（調整控除後）"
    assert f.residual == pytest.approx(1000 / max(printed, 10_000))


def test_other_years_table_has_its_own_code():
    # 令和元年分 table on a 令和6年分 form: 8,500,000 × 0.9 − 1,200,000 = 6,450,000 (2024 says 6,550,000)
    f = finding(income_form(8_500_000, 6_450_000), "wrong_year_table")
    assert f.expected == "6550000" and "2019" in f.message
    assert "income_arithmetic" not in codes(income_form(8_500_000, 6_450_000))
    # 令和7年分 form printed with the 2020–2024 table: 1,800,000 → 1,180,000 (2025: 1,800,000 − 650,000 = 1,150,000)
    assert "wrong_year_table" in codes(income_form(1_800_000, 1_180_000, year=2025))
    assert "wrong_year_table" not in codes(income_form(1_800_000, 1_150_000, year=2025))
    # 2019 form: 1,000,000 − 650,000 = 350,000 is right; 450,000 is the 2020 table
    assert codes(income_form(1_000_000, 350_000, year=2019)) == codes(income_form(1_000_000, 350_000, year=2019))
    assert "wrong_year_table" in codes(income_form(1_000_000, 450_000, year=2019))


def test_income_adjustment_is_subtracted_when_printed():
    # pay 9,000,000: 9,000,000 − 1,950,000 = 7,050,000; 調整控除 (9,000,000 − 8,500,000) × 10% = 50,000
    assert "income_arithmetic" not in codes(income_form(9_000_000, 7_000_000, income_adjustment="50000"))
    assert "income_arithmetic" not in codes(income_form(9_000_000, 7_000_000))  # applied, box not printed
    assert "income_arithmetic" in codes(income_form(9_000_000, 7_050_000, income_adjustment="50000"))
    # wrong adjustment amount is a warning of its own: 60,000 ≠ 50,000 → box 6,990,000 consistent with it
    f = finding(income_form(9_000_000, 6_990_000, income_adjustment="60000"), "income_adjustment_amount")
    assert f.expected == "50000" and f.severity == "warning" and not f.always_error


# ------------------------------------------------------------------------------------------ 所得控除の合計


def deduction_form(total: int, **over: str):
    base = {
        "payment_amount": "6600000", "employment_income": "4840000",
        "social_insurance": "957000", "life_insurance_deduction": "40000", "spouse_deduction": "380000",
        "dependents_specific": "1", "dependents_elderly": "1", "dependents_elderly_cohabiting": "1",
        "dependents_other": "1", "disabled_other": "1", "widow": "1", "basic_deduction": "480000",
        "total_deductions": str(total),
    }
    base.update(over)
    return make_form(base)


def test_deduction_sum_of_parts():
    # 957,000 社保 + 40,000 生保 + 380,000 配偶者 + 630,000 特定 + 580,000 同居老親 + 380,000 その他
    # + 270,000 障害者 + 270,000 寡婦 + 480,000 基礎 = 3,987,000
    assert "deduction_sum" not in codes(deduction_form(3_987_000))
    f = finding(deduction_form(3_997_000), "deduction_sum")
    assert f.expected == "3987000" and f.read == "3997000" and f.always_error
    # the elderly dependant not cohabiting: 480,000 instead of 580,000 → 3,887,000
    assert "deduction_sum" not in codes(deduction_form(3_887_000, dependents_elderly_cohabiting=""))


def test_special_disabled_may_be_cohabiting():
    # one 特別障害者 instead of the その他 one: +400,000 (or 同居 +750,000) instead of +270,000
    for total in (3_987_000 - 270_000 + 400_000, 3_987_000 - 270_000 + 750_000):
        assert "deduction_sum" not in codes(deduction_form(total, disabled_other="", disabled_special="1"))
    assert "deduction_sum" in codes(deduction_form(3_987_000, disabled_other="", disabled_special="1"))


def test_basic_deduction_edges():
    # 2024: 480,000 up to 合計所得 24,000,000; 320,000 above. pay 25,950,000 − 1,950,000 = 24,000,000
    ok = make_form({"payment_amount": "25950000", "employment_income": "24000000", "basic_deduction": "480000"})
    assert "basic_deduction_invalid" not in codes(ok)
    over = make_form({"payment_amount": "25950001", "employment_income": "24000001", "basic_deduction": "480000"})
    assert finding(over, "basic_deduction_invalid").expected == "320000"
    # 2025: 950,000 up to 1,320,000; 880,000 above. 1,970,000 − 650,000 = 1,320,000
    f25 = make_form({"payment_amount": "1970000", "employment_income": "1320000", "basic_deduction": "880000"}, year=2025)
    assert finding(f25, "basic_deduction_invalid").expected == "950000"


# ------------------------------------------------------------------------------------------ 年調年税額


def tax_form(tax: str, **over: str):
    # ei 4,840,000 − deductions 1,437,000 = 3,403,000 taxable; 20% − 427,500 = 253,100;
    # × 1.021 = 258,415.1 → floored to ¥100 = 258,400
    base = {"payment_amount": "6600000", "employment_income": "4840000", "total_deductions": "1437000",
            "social_insurance": "957000", "basic_deduction": "480000", "withholding_tax": tax}
    base.update(over)
    return make_form(base)


def test_annual_tax_full_year():
    assert "tax_mismatch" not in codes(tax_form("258400"))
    f = finding(tax_form("258500"), "tax_mismatch")
    assert f.expected == "258400" and not f.always_error
    # 住宅借入金等特別控除 100,000: (253,100 − 100,000) × 1.021 = 156,315.1 → 156,300
    assert "tax_mismatch" not in codes(tax_form("156300", housing_loan_credit="100000"))


def test_annual_tax_skipped_without_year_end_adjustment():
    assert "tax_mismatch" not in codes(tax_form("99999", otsu="1"))
    assert "tax_mismatch" not in codes(tax_form("99999", retire_date="2024-06-30"))
    assert "tax_mismatch" not in codes(tax_form("99999", total_deductions=""))


# ------------------------------------------------------------------------------------------ 配偶者


def test_spouse_amount_allowed_set():
    # earner 9,000,000 (pay 10,950,000 − 1,950,000): full 380,000 allowed
    ok = make_form({"payment_amount": "10950000", "employment_income": "9000000", "spouse_deduction": "380000"})
    assert "spouse_amount_invalid" not in codes(ok)
    # earner 9,000,001: the band ≤ 9,500,000 allows 260,000 (老人 320,000) at most; 320,000 is the nearest to 380,000
    over = make_form({"payment_amount": "10950001", "employment_income": "9000001", "spouse_deduction": "380000"})
    assert finding(over, "spouse_amount_invalid").expected == "320000"
    assert "spouse_amount_invalid" not in codes(
        make_form({"payment_amount": "10950001", "employment_income": "9000001", "spouse_deduction": "260000"}))
    assert "spouse_amount_invalid" in codes(make_form({"employment_income": "4000000", "spouse_deduction": "370000"}))


# ------------------------------------------------------------------------------------------ 番号・必須・日付


def test_check_digits_and_masking():
    good = make_form({"recipient_my_number": "621498320257", "payer_number": "7000012050002"})
    assert not {"my_number_check_digit", "payer_number_check_digit"} & set(codes(good))
    bad = make_form({"recipient_my_number": "621498320258", "payer_number": "8000012050002"})
    f = finding(bad, "my_number_check_digit")
    assert f.always_error and "6214983" not in f.message + (f.read or "") and f.read.endswith("0258")
    assert finding(bad, "payer_number_check_digit").always_error
    assert "payer_number_check_digit" not in codes(make_form({"payer_number": "621498320257"}))  # sole proprietor
    assert "my_number_check_digit" in codes(make_form({"recipient_my_number": "62149832025"}))  # dropped digit


def test_required_boxes():
    found = codes(make_form({"recipient_name": "山田 太郎"}))
    for code in ("my_number_missing", "kana_missing", "address_missing", "required_missing", "birth_date_invalid"):
        assert code in found


def test_a_required_box_read_blank_unsurely_is_reported_as_unread_not_empty():
    empty = make_form({"recipient_name": "山田 太郎", "recipient_kana": ""})
    empty.fields["recipient_kana"].confidence = 0.95  # no ink: surely blank
    assert finding(empty, "kana_missing").message == "支払を受ける者 氏名（フリガナ）が空欄です。"
    unread = make_form({"recipient_name": "山田 太郎", "recipient_kana": ""})
    unread.fields["recipient_kana"].confidence = 0.4  # ink the reader found no kana in (faint half-width ﾌﾘｶﾞﾅ)
    f = finding(unread, "kana_missing")
    assert "読み取れませんでした" in f.message and "空欄" not in f.message


def test_dates():
    assert "birth_date_out_of_range" in codes(make_form({"birth_date": "2010-01-01"}))  # 14 at the end of 2024
    assert "birth_date_out_of_range" not in codes(make_form({"birth_date": "2009-12-31"}))  # 15
    assert "birth_date_out_of_range" in codes(make_form({"birth_date": "1933-05-01"}))  # 91 at the end of 2024
    era = make_form({"birth_date": "1922-04-12"}, year=2019)  # 97: 明治55年 printed for 昭和55年
    era.fields["birth_date"].raw = "明 55 4 12"
    assert "明55年は存在しません" in finding(era, "birth_date_out_of_range").message
    form = make_form({"birth_date": ""})
    form.fields["birth_date"].raw = "昭和55年2月30日"
    assert finding(form, "birth_date_invalid").read == "昭和55年2月30日"
    assert "hire_retire_out_of_year" in codes(make_form({"hire_date": "2023-12-31"}))
    assert "hire_retire_out_of_year" not in codes(make_form({"hire_date": "2024-01-01", "retire_date": "2024-12-31"}))
    assert "hire_retire_out_of_year" in codes(make_form({"hire_date": "2024-06-01", "retire_date": "2024-05-31"}))


def test_dependants_named():
    assert "dependents_count_mismatch" in codes(make_form({"dependents_other": "2", "dependents_named": "1"}))
    assert "dependents_count_mismatch" not in codes(make_form({"dependents_other": "2", "dependents_named": "2"}))
    five = {"dependents_other": "5", "dependents_named": "4"}
    assert "dependents_count_mismatch" in codes(make_form(five))
    assert "dependents_count_mismatch" not in codes(make_form({**five, "remarks": "5人目の控除対象扶養親族 山田次郎"}))
    assert "dependents_count_mismatch" in codes(make_form({"dependents_under16": "1", "under16_named": "0"}))
    assert "dependents_count_mismatch" not in codes(make_form({"dependents_under16": "5", "under16_named": "4"}))


def test_every_check_runs():
    form = make_form({"recipient_my_number": "621498320258", "payment_amount": "6600000",
                      "employment_income": "4841000", "birth_date": "2015-01-01"})
    assert {"my_number_check_digit", "income_arithmetic", "birth_date_out_of_range", "kana_missing"} <= set(codes(form))


# ------------------------------------------------------------------------------------------ batch


def test_duplicates_in_a_batch():
    rng = random.Random(3)
    a = consistent_fields(rng)
    b = consistent_fields(rng, payer_number=a["payer_number"])
    forms = [make_form(a, key=1), make_form(a, key=2), make_form(b, key=3),
             make_form({**a, "payer_number": corporate_number(rng), "payer_name": "別の会社"}, key=4)]
    result = check_batch(forms)
    dup = {k for k, fs in result.items() if any(f.code == "duplicate_resubmission" for f in fs)}
    assert dup == {forms[1].key}  # the later copy; its expected names the first
    assert [f.expected for f in result[forms[1].key] if f.code == "duplicate_resubmission"] == [forms[0].key]
    # same person by name + birth date when one 個人番号 was misread
    c = {**a, "recipient_my_number": a["recipient_my_number"][:-1] + "x"}
    result = check_batch([make_form(a, key=1), make_form(c, key=2)])
    assert [x.code for x in result["doc.pdf#p1s2"]].count("duplicate_resubmission") == 1


@pytest.mark.parametrize("kind", ODDITIES)
@pytest.mark.parametrize("year", [2019, 2024, 2025])
def test_oddities_do_not_fire_always_error(kind, year):
    rng = random.Random(hash((kind, year)) % 1000)
    for _ in range(20):
        f = consistent_fields(rng, year=year)
        _oddity(rng, f, year, kind)
        if year == 2019 and kind == "income_adjustment":
            continue
        fs = check_form(make_form(f, year=year))
        assert not [x.code for x in fs if x.always_error], (kind, year)
    # the other legal oddities: 同居老親, 障害者, 寡婦, ひとり親, 勤労学生 with their amounts in the total
    total = 957_000 + 40_000 + 380_000 + 630_000 + 580_000 + 380_000 + 270_000 + 480_000  # widow swapped below
    for flag, amount in (("single_parent", 350_000), ("working_student", 270_000)):
        form = deduction_form(total + amount, widow="", **{flag: "1"})
        assert not [x.code for x in check_form(form) if x.always_error and x.code == "deduction_sum"], flag


def test_prior_job_not_noted_is_a_warning_for_mid_year_hires():
    rng = random.Random(8)
    f = consistent_fields(rng, hire_date="2024-07-01")
    hit = finding(make_form(f), "prior_job_not_noted")
    assert hit.severity == "warning" and not hit.always_error and hit.box == "摘要"
    noted = {**f, "remarks": "前職分 株式会社前 支払金額1,200,000円"}
    assert "prior_job_not_noted" not in codes(make_form(noted))
    # no 年末調整 here (退職 or 乙欄): nothing to note
    assert "prior_job_not_noted" not in codes(make_form({**f, "retire_date": "2024-11-30"}))


def test_a_date_field_is_a_date_only_when_a_calendar_has_it():
    from datetime import date

    form = make_form({"hire_date": "2024-04-01", "retire_date": "2024-02-30", "birth_date": ""})
    assert form.date("hire_date") == date(2024, 4, 1)
    assert form.date("retire_date") is None  # printed, but no calendar has it: the checks report it
    assert form.date("birth_date") is None and form.date("no_such_box") is None


def _hand_computed(**over: str):
    # 2024, 支払金額 5,000,000: 給与所得 5,000,000 × 80 % − 440,000 = 3,560,000; 控除 725,000 + 基礎 480,000 =
    # 1,205,000; tax (3,560,000 − 1,205,000) × 10 % − 97,500 = 138,000, × 1.021 = 140,898 → 140,800
    rng = random.Random(5)
    fields = consistent_fields(rng, 2024, pay=5_000_000)
    fields.update(employment_income="3560000", social_insurance="725000", basic_deduction="480000",
                  total_deductions="1205000", withholding_tax="140800", life_insurance_deduction="",
                  earthquake_insurance_deduction="", spouse_deduction="", spouse_present="", housing_loan_credit="",
                  dependents_specific="", dependents_other="", dependents_named="0")
    fields.update(over)
    return make_form(fields)


def test_boxes_an_exact_equation_confirms():
    from taxcheck.rules.checks import confirmed_boxes

    assert confirmed_boxes(_hand_computed()) == {"employment_income", "total_deductions", "social_insurance",
                                                 "basic_deduction", "withholding_tax"}
    # a part misread: the sum no longer confirms it, nor the total; the table still confirms 給与所得, and the
    # tax (computed from the total as read) is still the 年末調整's
    assert confirmed_boxes(_hand_computed(social_insurance="723000")) == {"employment_income", "withholding_tax"}
    assert "withholding_tax" not in confirmed_boxes(_hand_computed(withholding_tax="140900"))
    assert "withholding_tax" not in confirmed_boxes(_hand_computed(retire_date="2024-06-30"))  # no 年末調整
    # 支払金額 is never confirmed: the table reads it in ¥4,000 steps (5,003,999 gives the same 給与所得)
    assert "payment_amount" not in confirmed_boxes(_hand_computed(payment_amount="5003999"))
    assert "employment_income" in confirmed_boxes(_hand_computed(payment_amount="5003999"))
