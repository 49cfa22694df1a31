"""The law as arithmetic, checked against values computed by hand from DOMAIN.md (never by the code under test).

Band edges are tested on both sides. A = floor(支払金額 / 4, to ¥1,000) where the table uses it.
"""

from __future__ import annotations

import pytest

from taxcheck.rules import checkdigits, statutory

# ---- 給与所得 (employment_income) -----------------------------------------------------------------

EDGES_2020_2024 = [
    (550_999, 0),  # < 551,000 → 0
    (551_000, 1_000),  # 551,000 − 550,000
    (1_618_999, 1_068_999),  # 1,618,999 − 550,000
    (1_619_000, 1_069_000),  # fixed step
    (1_619_999, 1_069_000),
    (1_620_000, 1_070_000),
    (1_621_999, 1_070_000),
    (1_622_000, 1_072_000),
    (1_623_999, 1_072_000),
    (1_624_000, 1_074_000),
    (1_627_999, 1_074_000),
    (1_628_000, 1_076_800),  # A = 407,000; × 2.4 = 976,800; + 100,000
    (1_799_999, 1_177_600),  # A = floor(449,999.75) = 449,000; × 2.4 = 1,077,600; + 100,000
    (1_800_000, 1_180_000),  # A = 450,000; × 2.8 = 1,260,000; − 80,000
    (3_599_999, 2_437_200),  # A = 899,000; × 2.8 = 2,517,200; − 80,000
    (3_600_000, 2_440_000),  # A = 900,000; × 3.2 = 2,880,000; − 440,000
    (6_599_999, 4_836_800),  # A = 1,649,000; × 3.2 = 5,276,800; − 440,000
    (6_600_000, 4_840_000),  # × 0.9 = 5,940,000; − 1,100,000
    (8_499_999, 6_549_999),  # × 0.9 = 7,649,999.1 → 7,649,999; − 1,100,000
    (8_500_000, 6_550_000),  # − 1,950,000
]

EDGES_2019 = [
    (650_999, 0),  # < 651,000 → 0
    (651_000, 1_000),  # − 650,000
    (1_618_999, 968_999),
    (1_619_000, 969_000),
    (1_619_999, 969_000),
    (1_620_000, 970_000),
    (1_621_999, 970_000),
    (1_622_000, 972_000),
    (1_623_999, 972_000),
    (1_624_000, 974_000),
    (1_627_999, 974_000),
    (1_628_000, 976_800),  # A = 407,000 × 2.4
    (1_799_999, 1_077_600),  # A = 449,000 × 2.4
    (1_800_000, 1_080_000),  # A = 450,000 × 2.8 = 1,260,000 − 180,000
    (3_599_999, 2_337_200),  # 899,000 × 2.8 = 2,517,200 − 180,000
    (3_600_000, 2_340_000),  # 900,000 × 3.2 = 2,880,000 − 540,000
    (6_599_999, 4_736_800),  # 1,649,000 × 3.2 = 5,276,800 − 540,000
    (6_600_000, 4_740_000),  # × 0.9 = 5,940,000 − 1,200,000
    (9_999_999, 7_799_999),  # × 0.9 = 8,999,999.1 → 8,999,999 − 1,200,000
    (10_000_000, 7_800_000),  # − 2,200,000
]

EDGES_2025 = [
    (650_999, 0),  # < 651,000 → 0
    (651_000, 1_000),  # − 650,000
    (1_628_000, 978_000),  # still − 650,000 (the 2020–2024 steps are gone)
    (1_899_999, 1_249_999),  # − 650,000
    (1_900_000, 1_250_000),  # A = 475,000 × 2.8 = 1,330,000 − 80,000
    (3_599_999, 2_437_200),  # as 令和2年分 from here on
    (3_600_000, 2_440_000),
    (6_599_999, 4_836_800),
    (6_600_000, 4_840_000),
    (8_499_999, 6_549_999),
    (8_500_000, 6_550_000),
]


@pytest.mark.parametrize("year", [2020, 2021, 2022, 2023, 2024])
@pytest.mark.parametrize(("pay", "expected"), EDGES_2020_2024)
def test_employment_income_2020_2024(year, pay, expected):
    assert statutory.employment_income(pay, year) == expected


@pytest.mark.parametrize(("pay", "expected"), EDGES_2019)
def test_employment_income_2019(pay, expected):
    assert statutory.employment_income(pay, 2019) == expected


@pytest.mark.parametrize(("pay", "expected"), EDGES_2025)
def test_employment_income_2025(pay, expected):
    assert statutory.employment_income(pay, 2025) == expected


def test_employment_income_rejects_negative_pay():
    with pytest.raises(ValueError):
        statutory.employment_income(-1, 2020)


# ---- 基礎控除 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("income", "expected"), [
    (0, 480_000), (24_000_000, 480_000), (24_000_001, 320_000), (24_500_000, 320_000), (24_500_001, 160_000),
    (25_000_000, 160_000), (25_000_001, 0),
])
def test_basic_deduction_2020(income, expected):
    assert statutory.basic_deduction(income, 2020) == expected


@pytest.mark.parametrize(("income", "expected"), [
    (0, 950_000), (1_320_000, 950_000), (1_320_001, 880_000), (3_360_000, 880_000), (3_360_001, 680_000),
    (4_890_000, 680_000), (4_890_001, 630_000), (6_550_000, 630_000), (6_550_001, 580_000),
    (23_500_000, 580_000), (23_500_001, 480_000), (24_000_000, 480_000), (24_000_001, 320_000),
    (24_500_000, 320_000), (24_500_001, 160_000), (25_000_000, 160_000), (25_000_001, 0),
])
def test_basic_deduction_2025(income, expected):
    assert statutory.basic_deduction(income, 2025) == expected


def test_basic_deduction_2019_is_flat():
    assert statutory.basic_deduction(0, 2019) == 380_000
    assert statutory.basic_deduction(30_000_000, 2019) == 380_000


# ---- 年調年税額 --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("taxable", "expected"), [
    (1_949_000, 99_400),  # 5%: 97,450 × 1.021 = 99,496.45 → 99,400
    (1_950_000, 99_500),  # 10%: 195,000 − 97,500 = 97,500 × 1.021 = 99,547.5 → 99,500
    (3_299_000, 237_200),  # 329,900 − 97,500 = 232,400 × 1.021 = 237,280.4
    (3_300_000, 237_300),  # 20%: 660,000 − 427,500 = 232,500 × 1.021 = 237,382.5
    (6_949_000, 982_500),  # 1,389,800 − 427,500 = 962,300 × 1.021 = 982,508.3
    (6_950_000, 982_700),  # 23%: 1,598,500 − 636,000 = 962,500 × 1.021 = 982,712.5
    (8_999_000, 1_463_800),  # 2,069,770 − 636,000 = 1,433,770 × 1.021 = 1,463,879.17
    (9_000_000, 1_464_100),  # 33%: 2,970,000 − 1,536,000 = 1,434,000 × 1.021 = 1,464,114
    (17_999_000, 4_496_100),  # 5,939,670 − 1,536,000 = 4,403,670 × 1.021 = 4,496,147.07
    (18_000_000, 4_496_400),  # 40%: 7,200,000 − 2,796,000 = 4,404,000 × 1.021 = 4,496,484
    (39_999_000, 13_480_800),  # 15,999,600 − 2,796,000 = 13,203,600 × 1.021 = 13,480,875.6
    (40_000_000, 13_481_200),  # 45%: 18,000,000 − 4,796,000 = 13,204,000 × 1.021 = 13,481,284
])
@pytest.mark.parametrize("year", [2019, 2024, 2025])
def test_annual_tax_bracket_edges(year, taxable, expected):
    # 給与所得 = taxable, 所得控除 = 0, no 住宅借入金等特別控除
    assert statutory.annual_tax(taxable, 0, 0, year) == expected


def test_annual_tax_floors_taxable_income_and_applies_housing_credit():
    # 1,949,999 → taxable floored to 1,949,000 → 99,400 (as above)
    assert statutory.annual_tax(1_949_999, 0, 0, 2020) == 99_400
    # 4,000,000 − 1,000,000 = 3,000,000: 10% → 300,000 − 97,500 = 202,500; − 100,000 credit = 102,500
    # × 1.021 = 104,652.5 → 104,600
    assert statutory.annual_tax(4_000_000, 1_000_000, 100_000, 2020) == 104_600
    # the credit exceeds the tax (202,500): nothing is left
    assert statutory.annual_tax(4_000_000, 1_000_000, 300_000, 2020) == 0
    # deductions above income: taxable 0
    assert statutory.annual_tax(1_000_000, 1_500_000, 0, 2020) == 0


# ---- 所得金額調整控除 --------------------------------------------------------------------------------

@pytest.mark.parametrize(("pay", "expected"), [
    (8_500_000, 0),  # not above 8,500,000
    (8_500_001, 1),  # 1 × 10% = 0.1, rounded up → 1
    (9_000_000, 50_000),  # 500,000 × 10%
    (10_000_000, 150_000),  # 1,500,000 × 10%
    (12_000_000, 150_000),  # min(pay, 10,000,000): capped
])
def test_income_adjustment(pay, expected):
    assert statutory.income_adjustment(pay, 2020, eligible=True) == expected


def test_income_adjustment_needs_eligibility_and_2020():
    assert statutory.income_adjustment(9_000_000, 2020, eligible=False) == 0
    assert statutory.income_adjustment(9_000_000, 2019, eligible=True) == 0
    # 9,000,000 − 1,950,000 = 7,050,000; − 50,000 = 7,000,000
    assert statutory.employment_income_after_adjustment(9_000_000, 2020, adjustment_eligible=True) == 7_000_000
    assert statutory.employment_income_after_adjustment(9_000_000, 2020) == 7_050_000


# ---- 配偶者（特別）控除 and 扶養控除 -----------------------------------------------------------------------

@pytest.mark.parametrize("year", [2019, 2020, 2025])
def test_allowed_spouse_amounts(year):
    low = {0, 380_000, 480_000, 360_000, 310_000, 260_000, 210_000, 160_000, 110_000, 60_000, 30_000}
    mid = {0, 260_000, 320_000, 240_000, 210_000, 180_000, 140_000, 110_000, 80_000, 40_000, 20_000}
    high = {0, 130_000, 160_000, 120_000, 110_000, 90_000, 70_000, 60_000, 40_000, 20_000, 10_000}
    assert statutory.allowed_spouse_amounts(9_000_000, year) == low
    assert statutory.allowed_spouse_amounts(9_000_001, year) == mid
    assert statutory.allowed_spouse_amounts(9_500_000, year) == mid
    assert statutory.allowed_spouse_amounts(9_500_001, year) == high
    assert statutory.allowed_spouse_amounts(10_000_000, year) == high
    assert statutory.allowed_spouse_amounts(10_000_001, year) == {0}


def test_dependant_deduction():
    # 特定 1 × 630,000 + 老人 (2 of which 1 同居) → 1 × 480,000 + 1 × 580,000 + その他 1 × 380,000 = 2,070,000
    assert statutory.dependant_deduction(1, 2, 1, 1, 2020) == 2_070_000
    assert statutory.dependant_deduction(0, 0, 0, 0, 2020) == 0


# ---- check digits ----------------------------------------------------------------------------------

def test_my_number_check_digit_by_hand():
    # 62149832025|7: P1..P11 from the right = 5,2,0,2,3,8,9,4,1,2,6; Q = 2,3,4,5,6,7,2,3,4,5,6
    # Σ = 10+6+0+10+18+56+18+12+4+10+36 = 180; 180 mod 11 = 4; 11 − 4 = 7
    assert checkdigits.my_number_check_digit("62149832025") == 7
    assert checkdigits.is_valid_my_number("621498320257")


@pytest.mark.parametrize("number", [
    "621498320258",  # wrong check digit
    "621498320267",  # P1 5→6: Σ = 182, mod 11 = 6 → check 5, not 7
    "62149832025",  # 11 digits
    "6214983202570",  # 13 digits
    "62149832025A",  # not a digit
    "６２１４９８３２０２５７",  # full-width digits are not ASCII digits
])
def test_invalid_my_numbers(number):
    assert not checkdigits.is_valid_my_number(number)


def test_corporate_number_check_digit_by_hand():
    # 7|000012050002: P1..P12 from the right = 2,0,0,0,5,0,2,1,0,0,0,0; Q = 1,2,1,2,...
    # Σ = 2 + 5 + 2 + 1×2 = 11; 11 mod 9 = 2; 9 − 2 = 7
    assert checkdigits.corporate_number_check_digit("000012050002") == 7
    # 5|835678256246: odd positions 6+2+5+8+6+3 = 30; even (4+6+2+7+5+8) × 2 = 64; Σ = 94; 94 mod 9 = 4; 9 − 4 = 5
    assert checkdigits.corporate_number_check_digit("835678256246") == 5
    assert checkdigits.is_valid_corporate_number("7000012050002")
    assert checkdigits.is_valid_corporate_number("5835678256246")


@pytest.mark.parametrize("number", [
    "6000012050002",  # wrong check digit
    "7000012050003",  # P1 2→3: Σ = 12, mod 9 = 3 → check 6, not 7
    "4835678256246",
    "700001205000",  # 12 digits
    "70000120500O2",  # letter O
])
def test_invalid_corporate_numbers(number):
    assert not checkdigits.is_valid_corporate_number(number)


def test_payer_number_accepts_either_kind():
    assert checkdigits.is_valid_payer_number("7000012050002")  # 法人番号
    assert checkdigits.is_valid_payer_number("621498320257")  # sole proprietor's 個人番号
    assert not checkdigits.is_valid_payer_number("621498320258")
    assert not checkdigits.is_valid_payer_number("7000012050003")
