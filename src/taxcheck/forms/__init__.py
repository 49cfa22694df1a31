"""Per-form knowledge as data: field lists and layouts (YAML), loaded and validated here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

FIELD_TYPES = {"text", "kana", "amount", "count", "date", "my_number", "payer_number", "flag"}
IDENTITY_COLUMNS = ["source", "page", "slot", "form", "tax_year", "flagged", "risk", "reasons"]


class FormDefinitionError(ValueError):
    """A form definition file is malformed; the message names the file."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    box: str  # printed box name, for clerks
    type: str
    contract: bool
    since: int | None = None

    def applies_to(self, tax_year: int | None) -> bool:
        return self.since is None or tax_year is None or tax_year >= self.since


def load_yaml(name: str) -> dict:
    path = resources.files(__name__) / name
    if not path.is_file():
        raise FormDefinitionError(f"forms/{name} not found")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@cache
def salary_fields() -> dict[str, FieldSpec]:
    """Field specs of the 給与支払報告書, in results.csv column order."""
    data = load_yaml("salary_report_fields.yaml")
    specs: dict[str, FieldSpec] = {}
    for name, d in data["fields"].items():
        if d.get("type") not in FIELD_TYPES:
            raise FormDefinitionError(f"forms/salary_report_fields.yaml: {name} has unknown type {d.get('type')!r}")
        specs[name] = FieldSpec(name, d["box"], d["type"], bool(d.get("contract")), d.get("since"))
    return specs


def result_columns() -> list[str]:
    """Columns of results.csv: identity columns, then every field (contract ones and extras)."""
    return IDENTITY_COLUMNS + list(salary_fields())


def box_name(column: str) -> str:
    """The printed box name for a column, for Japanese reports (the column itself when unknown)."""
    spec = salary_fields().get(column)
    return spec.box if spec else column
