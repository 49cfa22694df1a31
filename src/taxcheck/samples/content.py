"""What a generated form says: people, payers and amounts that obey the year's law, then injected errors.

Every amount comes from ``taxcheck.rules.statutory`` for the form's tax year, so a form without a
content error passes the statutory recomputation exactly. Errors are injected as *root causes*: the
columns they change downstream (e.g. the tax recomputed from a wrong 給与所得) are recorded under the
same code, each with the value that should have been printed.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from taxcheck.forms import salary_fields
from taxcheck.rules import checkdigits, statutory
from taxcheck.samples import names as N

ERROR_CODES = (
    "wrong_year_table", "income_arithmetic", "deduction_sum", "tax_mismatch", "my_number_check_digit",
    "my_number_missing", "payer_number_check_digit", "kana_missing", "birth_date_invalid", "birth_date_out_of_range",
    "hire_retire_out_of_year", "dependents_count_mismatch", "spouse_amount_invalid", "duplicate_resubmission",
    "prior_job_not_noted", "address_missing",
)
ODDITY_CODES = (
    "income_adjustment", "elderly_cohabiting", "disabled", "widow", "single_parent", "working_student", "otsu",
    "midyear_leaver", "prior_job_noted", "fifth_dependant_in_remarks",
)
# errors that need a 年末調整済み form (their check recomputes amounts)
ARITHMETIC_ERRORS = {"wrong_year_table", "income_arithmetic", "deduction_sum", "tax_mismatch", "spouse_amount_invalid",
                     "prior_job_not_noted"}
ERROR_RATE = 0.175  # share of forms with a content error (7 in 40)
ODDITY_RATE = 0.175  # share of forms with a legitimate oddity forced (7 in 40); more arise naturally

# Spouse's 合計所得 limits that pick the 配偶者控除 / 配偶者特別控除 row: only used to print a plausible
# 配偶者の合計所得; the amounts themselves come from the year tables.
SPOUSE_LIMIT = {2019: 380_000, 2025: 580_000}  # other years: 480,000
SPOUSE_SPECIAL_UPPERS = [950_000, 1_000_000, 1_050_000, 1_100_000, 1_150_000, 1_200_000, 1_250_000, 1_300_000, 1_330_000]

ERAS = [("令", "令和", dt.date(2019, 5, 1)), ("平", "平成", dt.date(1989, 1, 8)), ("昭", "昭和", dt.date(1926, 12, 25)),
        ("大", "大正", dt.date(1912, 7, 30)), ("明", "明治", dt.date(1868, 1, 25))]
ERA_START_YEAR = {short: start.year - 1 for short, _, start in ERAS}  # era year y = Gregorian - offset


def to_era(d: dt.date) -> tuple[str, int]:
    """(short era name, era year) of a date."""
    for short, _, start in ERAS:
        if d >= start:
            return short, d.year - ERA_START_YEAR[short]
    raise ValueError("date before 明治")


def nfkc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


@dataclass
class Payer:
    number: str
    corporate: bool
    name: str
    address: str
    phone: str
    tax_year: int
    amount_style: str  # comma · split · plain
    font: str  # gothic · mincho
    halfwidth_kana: bool
    fullwidth_digits: bool  # in addresses
    seal: bool


@dataclass
class Relative:
    kana: str
    name: str
    my_number: str
    birth: dt.date
    kind: str  # specific · elderly · other · under16 · spouse
    cohabiting: bool = False
    disabled: str = ""  # "" · other · special
    cls: str = ""  # 区分 printed (e.g. 非居住者 marks)


@dataclass
class FormContent:
    """One form: the printed values (contract format) plus what only the renderer needs."""

    tax_year: int
    payer: Payer
    fields: dict[str, str]
    birth_print: tuple[str, int, int, int]  # era short, era year, month, day as printed
    date_print: tuple[str, int, int, int] | None  # 中途就・退職: mark (就職/退職), era year, month, day
    dependants: list[Relative] = field(default_factory=list)  # named rows (≤ 4)
    under16: list[Relative] = field(default_factory=list)
    spouse: Relative | None = None
    spouse_income: int | None = None
    role: str = ""
    recipient_number: str = ""
    kind: str = "給与・賞与"
    breakdown: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    oddities: list[str] = field(default_factory=list)
    person_key: str = ""

    def truth(self) -> dict[str, Any]:
        return {"tax_year": self.tax_year, "fields": dict(self.fields), "errors": [dict(e) for e in self.errors],
                "oddities": list(self.oddities), "needs_correction": bool(self.errors)}


# ---- random helpers ------------------------------------------------------------------------------

def my_number(rng: random.Random) -> str:
    first = f"{rng.randrange(10**10, 10**11):011d}"
    return first + str(checkdigits.my_number_check_digit(first))


def corporate_number(rng: random.Random) -> str:
    rest = f"{rng.randrange(10**11, 10**12):012d}"
    return str(checkdigits.corporate_number_check_digit(rest)) + rest


def _fw(text: str) -> str:
    """ASCII digits and hyphens to full width (how many payers' software prints addresses)."""
    return text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))


def _date_in(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def make_payer(rng: random.Random, tax_year: int) -> Payer:
    pref, city, town = rng.choice(N.PAYER_PLACES)
    corporate = rng.random() < 0.75
    if corporate:
        form, prefix = rng.choice(N.COMPANY_FORMS)
        stem = rng.choice(N.COMPANY_STEMS)
        name = f"{form}{stem}" if prefix else f"{stem}{form}"
        number = corporate_number(rng)
    else:
        sur, _ = rng.choice(N.SURNAMES)
        given, _ = rng.choice(N.MALE_NAMES + N.FEMALE_NAMES)
        name = f"{sur}{rng.choice(N.SOLE_TRADES)}　{sur}　{given}"
        number = my_number(rng)
    address = f"{pref}{city}{town}{rng.randint(1, 6)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}"
    if rng.random() < 0.4:
        address += f" {rng.choice(['第一', '第二', 'センター', 'ビジネス'])}ビル{rng.randint(2, 9)}階"
    phone = f"03-{rng.randint(3000, 6999)}-{rng.randint(0, 9999):04d}"
    return Payer(
        number=number, corporate=corporate, name=name, address=address, phone=phone, tax_year=tax_year,
        amount_style=rng.choice(["comma", "comma", "split", "plain"]), font=rng.choice(["gothic", "gothic", "mincho"]),
        halfwidth_kana=rng.random() < 0.2, fullwidth_digits=rng.random() < 0.5, seal=rng.random() < 0.35,
    )


def _person_name(rng: random.Random, female: bool, surname: tuple[str, str] | None = None) -> tuple[str, str]:
    sur = surname or rng.choice(N.SURNAMES)
    given = rng.choice(N.FEMALE_NAMES if female else N.MALE_NAMES)
    return f"{sur[0]}　{given[0]}", f"{sur[1]} {given[1]}"


def _birth_for_age(rng: random.Random, year: int, age: int) -> dt.date:
    """A birth date such that the person is ``age`` on 31 December of ``year``."""
    y = year - age
    return _date_in(rng, dt.date(y, 1, 1), dt.date(y, 12, 31))


def _relative(rng: random.Random, year: int, age: int, kind: str, surname: tuple[str, str], female: bool,
              taken: set[str]) -> Relative:
    for _ in range(20):  # no two people of one family share a name
        name, kana = _person_name(rng, female, surname)
        if name not in taken:
            break
    taken.add(name)
    return Relative(kana=kana, name=name, my_number=my_number(rng), birth=_birth_for_age(rng, year, age), kind=kind)


def _address(rng: random.Random, payer: Payer) -> str:
    town = rng.choice(N.WARD_TOWNS)
    a = f"{N.WARD[0]}{N.WARD[1]}{town}{rng.randint(1, 7)}丁目{rng.randint(1, 30)}番{rng.randint(1, 25)}号"
    if rng.random() < 0.45:
        a += f"　{rng.choice(N.BUILDINGS)}{rng.randint(1, 9)}0{rng.randint(1, 9)}"
    return _fw(a) if payer.fullwidth_digits else a


def _amount(v: int | None) -> str:
    return "" if v is None else str(int(v))


def _count(v: int) -> str:
    return str(v) if v else ""


def _yen(v: int) -> str:
    return f"{v:,}"


def _iso(era: str, ey: int, m: int, d: int) -> str:
    """ISO text of an era date as printed (may be an impossible date such as 2月30日)."""
    return f"{ey + ERA_START_YEAR[era]:04d}-{m:02d}-{d:02d}"


# ---- the form --------------------------------------------------------------------------------------

def make_form(rng: random.Random, payer: Payer, oddity: str | None) -> FormContent:
    """A correct form for one employee of ``payer``; ``oddity`` forces a legitimate unusual case."""
    year = payer.tax_year
    t = statutory.tables(year)
    odd: list[str] = []
    female = rng.random() < 0.45
    age = rng.randint(22, 64)
    if oddity == "working_student":
        age = rng.randint(18, 22)
    elif oddity in ("widow",):
        female, age = True, rng.randint(45, 72)
    elif oddity == "single_parent" and year == 2019:
        oddity, female, age = "widow", True, rng.randint(45, 72)
    elif oddity == "income_adjustment":
        age = rng.randint(38, 55)
    elif oddity == "elderly_cohabiting":
        age = rng.randint(40, 60)
    surname = rng.choice(N.SURNAMES)
    name, kana = _person_name(rng, female, surname)
    taken = {name}
    birth = _birth_for_age(rng, year, age)
    if (birth.month, birth.day) == (2, 29):
        birth = birth.replace(day=28)

    # ---- pay
    part_time = oddity in ("working_student", "otsu") or rng.random() < 0.18
    if oddity == "income_adjustment":
        pay = rng.randint(8_550_000, 13_000_000)
    elif oddity == "working_student":
        pay = rng.randint(700_000, 1_230_000 if year >= 2020 else 1_130_000)
    elif part_time:
        pay = rng.randint(480_000, 2_100_000)
    else:
        pay = int(min(16_000_000, max(1_800_000, rng.lognormvariate(15.25, 0.42))))
    hire = retire = None
    date_mark = None
    if oddity == "midyear_leaver":
        retire = _date_in(rng, dt.date(year, 1, 31), dt.date(year, 11, 30))
        pay = int(pay * (retire.timetuple().tm_yday / 366))
        date_mark = "退職"
    elif oddity == "prior_job_noted" or (oddity is None and rng.random() < 0.08):
        hire = _date_in(rng, dt.date(year, 2, 1), dt.date(year, 10, 31))
        date_mark = "就職"
        if oddity is None:
            pay = int(pay * (1 - hire.timetuple().tm_yday / 366))
    prior_pay = prior_si = prior_tax = 0
    prior_name = ""
    if oddity == "prior_job_noted":
        prior_pay = int(pay * hire.timetuple().tm_yday / 366)
        pay = int(pay * (1 - hire.timetuple().tm_yday / 366)) + prior_pay
        prior_si = int(prior_pay * rng.uniform(0.14, 0.15))
        prior_tax = int(prior_pay * rng.uniform(0.01, 0.03))
        prior_name = rng.choice(N.COMPANY_FORMS)[0] + rng.choice(N.COMPANY_STEMS)

    no_adjust = oddity in ("otsu", "midyear_leaver")
    # ---- family
    spouse = None
    spouse_income = None
    spouse_amount = 0
    spouse_elderly = False
    dependants: list[Relative] = []
    under16: list[Relative] = []
    married = age >= 27 and oddity not in ("working_student", "widow", "single_parent") and rng.random() < 0.55
    if married and rng.random() < 0.6:
        sp_age = max(22, age + rng.randint(-5, 5))
        spouse = _relative(rng, year, sp_age, "spouse", surname, not female, taken)
        spouse_elderly = sp_age >= 70
    kids = 0
    if (married or oddity in ("single_parent", "income_adjustment")) and 27 <= age <= 62:
        kids = rng.choice([0, 1, 1, 2, 2, 3])
        if oddity in ("single_parent", "income_adjustment"):
            kids = max(kids, 1)
    if oddity == "fifth_dependant_in_remarks":
        kids = 5
        age = max(age, 40)
    for _ in range(kids):
        kage = rng.randint(0, min(24, age - 24)) if age >= 25 else 0
        if oddity == "income_adjustment" and not dependants and not under16:
            kage = rng.randint(3, 20)
        k = _relative(rng, year, kage, "under16" if kage < 16 else ("specific" if 19 <= kage <= 22 else "other"),
                      surname, rng.random() < 0.5, taken)
        if kage >= 23 and rng.random() < 0.7:
            continue  # grown-up child with own income
        (under16 if kage < 16 else dependants).append(k)
    if oddity == "elderly_cohabiting" or (age >= 45 and rng.random() < 0.06):
        p = _relative(rng, year, rng.randint(72, 92), "elderly", surname, rng.random() < 0.6, taken)
        p.cohabiting = oddity == "elderly_cohabiting"
        dependants.append(p)
    if oddity == "fifth_dependant_in_remarks" and len(dependants) < 5:
        while len(dependants) < 5:
            dependants.append(_relative(rng, year, rng.randint(16, 22), "other", surname, rng.random() < 0.5, taken))
        for d in dependants:
            d.kind = "specific" if 19 <= year - d.birth.year <= 22 else d.kind
    disabled_special = disabled_other = 0
    if oddity == "disabled" and rng.random() < 0.5 and (dependants or under16 or spouse):
        rel = (dependants + under16 + ([spouse] if spouse else []))[0]
        rel.disabled = rng.choice(["other", "special"])
    for rel in dependants + under16 + ([spouse] if spouse else []):
        if rel.disabled == "special":
            disabled_special += 1
        elif rel.disabled == "other":
            disabled_other += 1
    self_disabled = ""
    if oddity == "disabled" and disabled_special + disabled_other == 0:
        self_disabled = rng.choice(["other", "special"])

    # ---- amounts
    adj_eligible = bool(t.income_adjustment) and pay > 8_500_000 and (
        any(year - r.birth.year <= 22 for r in dependants + under16) or disabled_special > 0 or self_disabled == "special")
    eia = statutory.employment_income_after_adjustment(pay, year, adj_eligible)
    adj = statutory.income_adjustment(pay, year, adj_eligible)
    if adj:
        odd.append("income_adjustment")
    if spouse is not None:
        row = statutory.spouse_band(eia, year)
        limit = SPOUSE_LIMIT.get(year, 480_000)
        if int(row["spouse_deduction"]) == 0:
            spouse_income = rng.randint(0, limit)
        elif rng.random() < 0.6:
            spouse_income = rng.choice([0, 0, rng.randint(0, limit)])
            spouse_amount = int(row["elderly_spouse_deduction"] if spouse_elderly else row["spouse_deduction"])
        else:
            i = rng.randrange(len(row["special"]))
            lo = limit if i == 0 else SPOUSE_SPECIAL_UPPERS[i - 1] - (100_000 if year == 2019 else 0)
            hi = SPOUSE_SPECIAL_UPPERS[i] - (100_000 if year == 2019 else 0)
            spouse_income = rng.randint(lo + 1, hi)
            spouse_amount = int(row["special"][i])
            spouse_elderly = False
    n_spec = sum(1 for d in dependants if d.kind == "specific")
    n_eld = sum(1 for d in dependants if d.kind == "elderly")
    n_coh = sum(1 for d in dependants if d.kind == "elderly" and d.cohabiting)
    n_oth = sum(1 for d in dependants if d.kind == "other")
    if n_coh:
        odd.append("elderly_cohabiting")
    dep_ded = statutory.dependant_deduction(n_spec, n_eld, n_coh, n_oth, year)
    pers = t.personal
    personal = disabled_special * int(pers["special_disabled"]) + disabled_other * int(pers["disabled"])
    flags = {"self_disabled_special": "", "self_disabled_other": "", "widow": "", "single_parent": "",
             "working_student": "", "otsu": ""}
    if self_disabled:
        flags["self_disabled_special" if self_disabled == "special" else "self_disabled_other"] = "1"
        personal += int(pers["special_disabled" if self_disabled == "special" else "disabled"])
    if disabled_special or disabled_other or self_disabled:
        odd.append("disabled")
    if oddity == "widow":
        flags["widow"] = "1"
        personal += int(pers["widow"])
        odd.append("widow")
    if oddity == "single_parent":
        flags["single_parent"] = "1"
        personal += int(pers["single_parent"])
        odd.append("single_parent")
    if oddity == "working_student":
        flags["working_student"] = "1"
        personal += int(pers["working_student"])
        odd.append("working_student")
    if part_time and oddity != "working_student":
        social = int(pay * rng.uniform(0.003, 0.006)) if rng.random() < 0.6 else int(pay * rng.uniform(0.14, 0.15))
    else:
        social = int(pay * rng.uniform(0.142, 0.152))
    social += prior_si
    life = rng.choice([0, 0, 0, 40_000, 40_000, 80_000, 120_000, 50_000, 70_000, rng.randint(15_000, 40_000)])
    quake = rng.choice([0, 0, 0, 0, 50_000, rng.randint(2_000, 50_000)])
    if part_time:
        life, quake = (life if rng.random() < 0.3 else 0), 0
    basic = statutory.basic_deduction(eia, year)
    total = social + life + quake + spouse_amount + dep_ded + personal + basic
    housing = 0
    tax = statutory.annual_tax(eia, total, 0, year)
    if not no_adjust and tax > 20_000 and rng.random() < 0.1:
        housing = min(rng.randint(500, 3_500) * 100, int(tax / 1.021))
        tax = statutory.annual_tax(eia, total, housing, year)

    f: dict[str, str] = {c: "" for c in salary_fields()}
    address = _address(rng, payer)
    f.update(
        recipient_address=nfkc(address), recipient_kana=nfkc(kana), recipient_name=nfkc(name),
        recipient_my_number=my_number(rng), payment_amount=_amount(pay), employment_income=_amount(eia),
        total_deductions=_amount(total), withholding_tax=_amount(tax),
        spouse_present="1" if spouse_amount and (spouse_income or 0) <= SPOUSE_SPECIAL_UPPERS[0] else "",
        spouse_elderly="1" if spouse_amount and spouse_elderly else "",
        spouse_deduction=_count(spouse_amount), dependents_specific=_count(n_spec),
        dependents_elderly_cohabiting=_count(n_coh), dependents_elderly=_count(n_eld), dependents_other=_count(n_oth),
        dependents_under16=_count(len(under16)), disabled_special=_count(disabled_special),
        disabled_other=_count(disabled_other), social_insurance=_count(social), life_insurance_deduction=_count(life),
        earthquake_insurance_deduction=_count(quake), housing_loan_credit=_count(housing),
        basic_deduction=_amount(basic) if t.has_basic_deduction_box else "",
        income_adjustment=_count(adj) if t.has_basic_deduction_box else "",
        dependents_named=str(min(4, len(dependants))), under16_named=str(min(4, len(under16))),
        birth_date=birth.isoformat(), payer_number=payer.number, payer_address=nfkc(payer.address),
        payer_name=nfkc(payer.name), **flags,
    )
    remarks: list[str] = []
    if hire:
        f["hire_date"] = hire.isoformat()
    if retire:
        f["retire_date"] = retire.isoformat()
    if oddity == "otsu":
        odd.append("otsu")
        f["otsu"] = "1"
        tax = int(pay * rng.uniform(0.03, 0.09))
    if oddity == "midyear_leaver":
        odd.append("midyear_leaver")
        tax = int(pay * rng.uniform(0.01, 0.03))
        if rng.random() < 0.5:
            remarks.append("年末調整未済")
    if no_adjust:
        for c in ("employment_income", "total_deductions", "basic_deduction", "income_adjustment",
                  "life_insurance_deduction", "earthquake_insurance_deduction", "housing_loan_credit"):
            f[c] = ""
        f["withholding_tax"] = _amount(tax)
        if oddity == "otsu":
            for c in ("spouse_deduction", "spouse_present", "spouse_elderly", "dependents_specific", "dependents_elderly",
                      "dependents_elderly_cohabiting", "dependents_other", "dependents_under16", "disabled_special",
                      "disabled_other"):
                f[c] = ""
            f["dependents_named"] = f["under16_named"] = "0"
            dependants, under16 = [], []
            spouse = None
            if rng.random() < 0.5:
                f["social_insurance"] = ""
        f["spouse_deduction"] = ""
    prior_note = ""
    if hire and prior_pay:
        left = hire - dt.timedelta(days=1)
        prior_note = (f"前職分 {prior_name} 支払金額{_yen(prior_pay)}円 社会保険料{_yen(prior_si)}円 "
                      f"源泉徴収税額{_yen(prior_tax)}円 " + "{}年{}月{}日退職".format(*_era_text(left)))
        remarks.append(prior_note)
        odd.append("prior_job_noted")
    if len(dependants) > 4:
        extra = dependants[4:]
        remarks.append(" ".join(f"控除対象扶養親族{5 + i} {d.name.replace('　', ' ')}" for i, d in enumerate(extra)))
        odd.append("fifth_dependant_in_remarks")
    if not remarks and not no_adjust and rng.random() < 0.08:
        remarks.append(f"住宅借入金等特別控除可能額{_yen(housing)}円" if housing else "")
    f["remarks"] = nfkc(" ".join(r for r in remarks if r))
    spouse_print = spouse if f["spouse_deduction"] else None
    era, ey = to_era(birth)
    date_print = None
    if date_mark:
        d = hire or retire
        date_print = (date_mark, d.year - ERA_START_YEAR["令"] if d >= dt.date(2019, 5, 1) else d.year - ERA_START_YEAR["平"],
                      d.month, d.day)
    fc = FormContent(
        tax_year=year, payer=payer, fields=f, birth_print=(era, ey, birth.month, birth.day), date_print=date_print,
        dependants=dependants[:4], under16=under16[:4], spouse=spouse_print,
        spouse_income=spouse_income if spouse_print else None,
        role=rng.choice(["", "パート", "アルバイト"] if part_time else N.ROLES[:-2]),
        recipient_number=f"{rng.randint(1, 99999):05d}" if rng.random() < 0.4 else "", oddities=odd,
        person_key=f["recipient_my_number"],
    )
    if housing:
        fc.breakdown = {"housing_breakdown_1": "1",
                        "housing_breakdown_2": "{}年{}月{}日".format(*_era_text(_date_in(rng, dt.date(2012, 1, 1), dt.date(year - 1, 12, 1)))),
                        "housing_breakdown_4": _yen(rng.randint(80, 400) * 100_000 + rng.randint(0, 99_999))}
    if life:
        fc.breakdown["life_breakdown_1"] = _yen(rng.randint(40, 200) * 1000)
    if no_adjust:
        fc.breakdown = {}  # no 年末調整: the 内訳 boxes stay blank
    if spouse_print is not None:
        fc.breakdown["spouse_income"] = _yen(spouse_income or 0) if spouse_income else ""
    return fc


def _era_text(d: dt.date) -> tuple[str, int, int]:
    short, ey = to_era(d)
    full = {s: f for s, f, _ in ERAS}[short]
    return f"{full}{ey}", d.month, d.day


# ---- errors ----------------------------------------------------------------------------------------

def _err(fc: FormContent, code: str, column: str, corrected: str) -> None:
    fc.errors.append({"code": code, "column": column, "corrected": corrected})


def _alter_digit(rng: random.Random, number: str, positions: range, valid) -> str:
    for _ in range(50):
        i = rng.choice(list(positions))
        d = str((int(number[i]) + rng.randint(1, 9)) % 10)
        cand = number[:i] + d + number[i + 1:]
        if not valid(cand):
            return cand
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def applicable_oddities(year: int) -> list[str]:
    """Oddities a form of ``year`` can carry (no 所得金額調整控除 or ひとり親 before 令和2年分)."""
    if statutory.tables(year).income_adjustment:
        return list(ODDITY_CODES)
    return [c for c in ODDITY_CODES if c not in ("income_adjustment", "single_parent")]


def applicable_errors(fc: FormContent) -> list[str]:
    adjusted = "otsu" not in fc.oddities and "midyear_leaver" not in fc.oddities
    codes = [c for c in ERROR_CODES if c != "duplicate_resubmission"]
    if not adjusted:
        codes = [c for c in codes if c not in ARITHMETIC_ERRORS and c != "dependents_count_mismatch"]
    if "prior_job_noted" in fc.oddities:
        codes = [c for c in codes if c != "prior_job_not_noted"]
    return codes


# Error codes that leave a required box blank, and the box they empty.
BLANKED_BY = {"my_number_missing": "recipient_my_number", "kana_missing": "recipient_kana",
              "address_missing": "recipient_address"}


def inject_error(rng: random.Random, fc: FormContent, code: str) -> bool:
    """Change ``fc`` so that it carries error ``code``; False when the code cannot apply to this form."""
    f = fc.fields
    year = fc.tax_year
    if code in ("wrong_year_table", "income_arithmetic", "deduction_sum", "tax_mismatch", "spouse_amount_invalid"):
        if not f["employment_income"]:
            return False
    if code == "wrong_year_table":
        pay = int(f["payment_amount"])
        adj = int(f["income_adjustment"] or 0)
        true = int(f["employment_income"])
        for alt in ([2020] if year == 2019 else [year - 1, 2019]):
            wrong = max(0, statutory.employment_income(pay, alt) - adj)
            if wrong != true:
                break
        else:
            return False
        _set_income(fc, code, wrong)
        return True
    if code == "income_arithmetic":
        true = int(f["employment_income"])
        wrong = true + rng.choice([-100_000, -10_000, -1_000, 1_000, 10_000, 100_000, 9_000, -9_000])
        s = str(true)
        # transposed digits (an income of four digits has too few to transpose; its draw is kept, so that every seed
        # that generated before still generates the same)
        if len(s) > 3 and rng.random() < 0.4 and len(s) > 4:
            i = rng.randrange(len(s) - 4)
            swapped = s[:i] + s[i + 1] + s[i] + s[i + 2:]
            if swapped != s:
                wrong = int(swapped)
        wrong = max(0, wrong)
        if wrong == true:  # 0 less 100,000 is still 0: an error that changes nothing is none
            wrong = true + 1_000
        _set_income(fc, code, wrong)
        return True
    if code == "deduction_sum":
        total = int(f["total_deductions"])
        parts = [int(f[c] or 0) for c in ("social_insurance", "life_insurance_deduction", "earthquake_insurance_deduction")]
        delta = rng.choice([-parts[1] or -10_000, -parts[2] or 100_000, 10_000, -10_000, 100_000, 1_000])
        wrong = max(0, total + delta)
        if wrong == total:
            wrong = total + 10_000
        _err(fc, code, "total_deductions", str(total))
        f["total_deductions"] = str(wrong)
        _follow_tax(fc, code, int(f["employment_income"]), wrong)
        return True
    if code == "tax_mismatch":
        true = int(f["withholding_tax"])
        wrong = max(0, true + rng.choice([-20_000, -5_000, -1_000, -100, 100, 1_200, 4_800, 30_000]))
        if wrong == true:
            wrong = true + 1_000
        _err(fc, code, "withholding_tax", str(true))
        f["withholding_tax"] = str(wrong)
        return True
    if code in BLANKED_BY:  # a required box left empty: the printed value becomes ""
        column = BLANKED_BY[code]
        _err(fc, code, column, f[column])
        f[column] = ""
        return True
    if code == "my_number_check_digit":
        true = f["recipient_my_number"]
        _err(fc, code, "recipient_my_number", true)
        f["recipient_my_number"] = _alter_digit(rng, true, range(0, 11), checkdigits.is_valid_my_number)
        return True
    if code == "payer_number_check_digit":
        true = f["payer_number"]
        rng_pos = range(1, 13) if len(true) == 13 else range(0, 11)
        _err(fc, code, "payer_number", true)
        f["payer_number"] = _alter_digit(rng, true, rng_pos, checkdigits.is_valid_payer_number)
        return True
    if code == "birth_date_invalid":
        era, ey, m, _d = fc.birth_print
        m2, d2 = rng.choice([(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31), (13, 1), (0, 12)])
        _err(fc, code, "birth_date", f["birth_date"])
        fc.birth_print = (era, ey, m2, d2)
        f["birth_date"] = _iso(era, ey, m2, d2)
        return True
    if code == "birth_date_out_of_range":
        era, ey, m, d = fc.birth_print
        new_era = {"平": "令", "昭": "明", "令": "昭", "大": "令", "明": "令"}[era]
        if new_era == "昭":
            ey = 99
        _err(fc, code, "birth_date", f["birth_date"])
        fc.birth_print = (new_era, ey, m, d)
        f["birth_date"] = _iso(new_era, ey, m, d)
        return True
    if code == "hire_retire_out_of_year":
        if fc.date_print is None:
            d = _date_in(rng, dt.date(year, 2, 1), dt.date(year, 10, 31))
            fc.date_print = ("就職", *_era_ymd(d))
            f["hire_date"] = d.isoformat()
        mark, ey, m, dd = fc.date_print
        col = "hire_date" if mark == "就職" else "retire_date"
        true = f[col]
        shift = rng.choice([-1, 1])
        true_d = dt.date.fromisoformat(true)
        wrong_y = true_d.year + shift
        m, dd = true_d.month, min(true_d.day, 28) if true_d.month == 2 else true_d.day
        wrong = dt.date(wrong_y, m, dd)
        _err(fc, code, col, true)
        fc.date_print = (mark, *_era_ymd(wrong))
        f[col] = wrong.isoformat()
        return True
    if code == "dependents_count_mismatch":
        if fc.under16 and rng.random() < 0.6:
            true = f["dependents_under16"]
            _err(fc, code, "dependents_under16", true)
            f["dependents_under16"] = _count(int(true) - 1)
        else:
            true = f["dependents_other"]
            _err(fc, code, "dependents_other", true)  # "" = the box should be blank (none)
            f["dependents_other"] = str(int(true or 0) + 1)
        return True
    if code == "spouse_amount_invalid":
        allowed = statutory.allowed_spouse_amounts(int(f["employment_income"]), year)
        true_sp = int(f["spouse_deduction"] or 0)
        options = [v for v in (380_000, 330_000, 350_000, 400_000, 280_000, 480_000, 130_000) if v not in allowed]
        if not options:
            return False
        wrong = rng.choice(options)
        _err(fc, code, "spouse_deduction", f["spouse_deduction"])
        f["spouse_deduction"] = str(wrong)
        total = int(f["total_deductions"])
        new_total = total - true_sp + wrong
        _err(fc, code, "total_deductions", str(total))
        f["total_deductions"] = str(new_total)
        _follow_tax(fc, code, int(f["employment_income"]), new_total)
        return True
    if code == "prior_job_not_noted":
        if fc.date_print is not None:
            return False
        hire = _date_in(rng, dt.date(year, 4, 1), dt.date(year, 10, 31))
        fc.date_print = ("就職", *_era_ymd(hire))
        f["hire_date"] = hire.isoformat()
        prior = int(f["payment_amount"]) // 3
        note = (f"前職分 {rng.choice(N.COMPANY_FORMS)[0]}{rng.choice(N.COMPANY_STEMS)} 支払金額{_yen(prior)}円 "
                f"源泉徴収税額{_yen(prior // 40)}円 " + "{}年{}月{}日退職".format(*_era_text(hire - dt.timedelta(days=1))))
        note = nfkc(note)
        _err(fc, code, "remarks", nfkc(" ".join(x for x in (f["remarks"], note) if x)))
        return True
    raise ValueError(f"unknown error code {code}")


def _era_ymd(d: dt.date) -> tuple[int, int, int]:
    return (d.year - ERA_START_YEAR["令"] if d >= dt.date(2019, 5, 1) else d.year - ERA_START_YEAR["平"], d.month, d.day)


def _set_income(fc: FormContent, code: str, wrong: int) -> None:
    f = fc.fields
    _err(fc, code, "employment_income", f["employment_income"])
    f["employment_income"] = str(wrong)
    _follow_tax(fc, code, wrong, int(f["total_deductions"]))


def _follow_tax(fc: FormContent, code: str, eia: int, total: int) -> None:
    f = fc.fields
    new = str(statutory.annual_tax(eia, total, int(f["housing_loan_credit"] or 0), fc.tax_year))
    if new != f["withholding_tax"]:
        _err(fc, code, "withholding_tax", f["withholding_tax"])
        f["withholding_tax"] = new
