"""The law as arithmetic: 給与所得, 基礎控除, 年調年税額 and friends, from the year tables in ``tables/``.

Shared by the sample generator (to make consistent forms) and by the checks (to recompute what a
form should say). No year-dependent number lives in this file: every winter brings a new
``tables/<year>.yaml`` and nothing here changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from functools import cache
from importlib import resources
from typing import Any

import yaml

TABLES_PACKAGE = "taxcheck.rules.tables"


class TableError(ValueError):
    """A year table is missing or malformed; the message names the file."""


@dataclass(frozen=True)
class YearTables:
    """The validated tables of one tax year."""

    year: int
    era_name: str
    era_year: int
    has_basic_deduction_box: bool
    employment_income: tuple[dict[str, Any], ...]
    basic_deduction: tuple[dict[str, Any], ...]
    income_adjustment: dict[str, Any] | None
    spouse: tuple[dict[str, Any], ...]
    dependant: dict[str, int]
    personal: dict[str, int | None]
    income_tax: dict[str, Any]


def available_years() -> list[int]:
    """Tax years with a table file, ascending."""
    names = resources.files(TABLES_PACKAGE).iterdir()
    return sorted(int(p.name[:4]) for p in names if p.name.endswith(".yaml") and p.name[:4].isdigit())


def _read(year: int) -> dict[str, Any]:
    path = resources.files(TABLES_PACKAGE) / f"{year}.yaml"
    if not path.is_file():
        raise TableError(f"no statutory table for tax year {year} (expected rules/tables/{year}.yaml)")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "same_as" in data:
        base = _read(int(data["same_as"]))
        base.update({k: v for k, v in data.items() if k != "same_as"})
        return base
    return data


def _check_bands(name: str, year: int, bands: list[dict[str, Any]]) -> None:
    if not bands or bands[-1].get("upto") is not None:
        raise TableError(f"rules/tables/{year}.yaml: {name} must end with an open band (upto: null)")
    edges = [b["upto"] for b in bands[:-1]]
    if edges != sorted(edges):
        raise TableError(f"rules/tables/{year}.yaml: {name} bands are not ascending")


@cache
def tables(year: int) -> YearTables:
    """Load and validate the tables of ``year`` (cached)."""
    d = _read(year)
    try:
        if int(d["year"]) != year:
            raise TableError(f"rules/tables/{year}.yaml says year {d['year']}")
        for name in ("employment_income", "basic_deduction", "spouse"):
            _check_bands(name, year, d[name])
        _check_bands("income_tax.brackets", year, d["income_tax"]["brackets"])
        return YearTables(
            year=year,
            era_name=d["era"]["name"],
            era_year=int(d["era"]["year"]),
            has_basic_deduction_box=bool(d["has_basic_deduction_box"]),
            employment_income=tuple(d["employment_income"]),
            basic_deduction=tuple(d["basic_deduction"]),
            income_adjustment=d.get("income_adjustment"),
            spouse=tuple(d["spouse"]),
            dependant=dict(d["dependant"]),
            personal=dict(d["personal"]),
            income_tax=dict(d["income_tax"]),
        )
    except KeyError as exc:
        raise TableError(f"rules/tables/{year}.yaml: missing key {exc}") from None


def _band(bands: tuple[dict[str, Any], ...], amount: int) -> dict[str, Any]:
    for band in bands:
        if band["upto"] is None or amount <= band["upto"]:
            return band
    raise AssertionError("validated tables end with an open band")


def _floor_to(amount: Decimal | int, unit: int) -> int:
    return int(Decimal(amount) / unit) * unit if amount >= 0 else -_floor_to(-Decimal(amount), unit)


def employment_income(pay: int, year: int) -> int:
    """給与所得控除後の金額 (before 所得金額調整控除) for 支払金額 ``pay`` in tax year ``year``."""
    if pay < 0:
        raise ValueError("支払金額 cannot be negative")
    band = _band(tables(year).employment_income, pay)
    kind = band["kind"]
    if kind == "fixed":
        return int(band["value"])
    if kind == "minus":
        return max(0, pay - int(band["deduct"]))
    if kind == "quarter":
        a = _floor_to(Decimal(pay) / 4, 1000)
        return int(Decimal(a) * Decimal(band["mul"]) + int(band["add"]))
    if kind == "linear":
        value = Decimal(pay) * Decimal(band["mul"]) + int(band["add"])
        return int(value.to_integral_value(rounding=ROUND_FLOOR))
    raise TableError(f"rules/tables/{year}.yaml: unknown employment_income kind {kind!r}")


def income_adjustment(pay: int, year: int, eligible: bool = True) -> int:
    """所得金額調整控除 (子ども・特別障害者等 case) for 支払金額 ``pay``; 0 before 令和2年分."""
    rule = tables(year).income_adjustment
    if not rule or not eligible or pay <= rule["floor"]:
        return 0
    raw = (Decimal(min(pay, rule["cap"])) - rule["floor"]) * Decimal(rule["rate"])
    return min(int(rule["max"]), math.ceil(raw))


def employment_income_after_adjustment(pay: int, year: int, adjustment_eligible: bool = False) -> int:
    """The 給与所得控除後の金額（調整控除後） box: employment income less 所得金額調整控除."""
    return max(0, employment_income(pay, year) - income_adjustment(pay, year, adjustment_eligible))


def basic_deduction(total_income: int, year: int) -> int:
    """基礎控除 for 合計所得金額 ``total_income``."""
    return int(_band(tables(year).basic_deduction, total_income)["value"])


def spouse_band(earner_income: int, year: int) -> dict[str, Any]:
    """The spouse-deduction row (allowed amounts) for the earner's 合計所得金額."""
    return _band(tables(year).spouse, earner_income)


def allowed_spouse_amounts(earner_income: int, year: int) -> set[int]:
    """Every value the 配偶者（特別）控除の額 box may legally hold (0 included)."""
    row = spouse_band(earner_income, year)
    return {0, int(row["spouse_deduction"]), int(row["elderly_spouse_deduction"]), *map(int, row["special"])}


def annual_tax(employment_income_after: int, total_deductions: int, housing_credit: int, year: int) -> int:
    """年調年税額 (with 復興特別所得税), i.e. the 源泉徴収税額 of a full-year employee."""
    spec = tables(year).income_tax
    taxable = _floor_to(max(0, employment_income_after - total_deductions), int(spec["taxable_floor"]))
    band = _band(tuple(spec["brackets"]), taxable)
    tax = Decimal(taxable) * Decimal(band["rate"]) - int(band["deduct"])
    tax = max(Decimal(0), tax.to_integral_value(rounding=ROUND_FLOOR) - housing_credit)
    with_surtax = tax * Decimal(spec["surtax_rate"])
    return _floor_to(with_surtax, int(spec["result_floor"]))


def dependant_deduction(specific: int, elderly: int, elderly_cohabiting: int, other: int, year: int) -> int:
    """扶養控除 for the counts on the form (``elderly`` includes the cohabiting ones, as 内 does)."""
    d = tables(year).dependant
    return (
        specific * d["specific"]
        + (elderly - elderly_cohabiting) * d["elderly"]
        + elderly_cohabiting * d["elderly_cohabiting"]
        + other * d["general"]
    )
