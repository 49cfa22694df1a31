"""Per-form knowledge as data: field lists and layouts (YAML), loaded and validated here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

FIELD_TYPES = {"text", "address", "kana", "amount", "count", "date", "my_number", "payer_number", "flag"}
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
    free_text: bool = False  # printed label words are content here (摘要 quotes 支払金額, 源泉徴収税額, …)

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
        specs[name] = FieldSpec(name, d["box"], d["type"], bool(d.get("contract")), d.get("since"),
                                bool(d.get("free_text")))
    return specs


def result_columns() -> list[str]:
    """Columns of results.csv: identity columns, then every field (contract ones and extras)."""
    return IDENTITY_COLUMNS + list(salary_fields())


def box_name(column: str) -> str:
    """The printed box name for a column, for Japanese reports (the column itself when unknown)."""
    spec = salary_fields().get(column)
    return spec.box if spec else column


@cache
def salary_layouts() -> dict[str, dict]:
    """All versions of the 給与支払報告書 layout (forms/salary_report_layout.yaml), validated: version → layout."""
    name = "salary_report_layout.yaml"
    path = resources.files(__name__) / name
    if not path.is_file():
        raise FormDefinitionError(f"forms/{name} not found")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the layout is large: the C loader is 10x faster
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    versions = data.get("versions") or {}
    if data.get("form") != "salary_report" or not versions:
        raise FormDefinitionError(f"forms/{name}: expected form: salary_report with versions")
    fields = salary_fields()
    for key, v in versions.items():
        for part in ("years", "size_mm", "title", "cells", "labels", "fields"):
            if part not in v:
                raise FormDefinitionError(f"forms/{name}: version {key} has no {part}")
        for fname, f in v["fields"].items():
            if fname not in fields:
                raise FormDefinitionError(f"forms/{name}: version {key} has unknown field {fname!r}")
            rect = f.get("rect")
            if not (isinstance(rect, list) and len(rect) == 4 and rect[0] < rect[2] and rect[1] < rect[3]):
                raise FormDefinitionError(f"forms/{name}: version {key} field {fname} has a bad rect {rect!r}")
        lo, hi = v["years"]
        missing = [c for c, s in fields.items() if s.applies_to(lo) and c not in v["fields"]]
        if missing:
            raise FormDefinitionError(f"forms/{name}: version {key} lacks fields {missing}")
    return versions


def salary_layout(tax_year: int) -> tuple[str, dict]:
    """The (version key, layout) of the 給与支払報告書 used for ``tax_year`` (the nearest version outside the range)."""
    versions = salary_layouts()
    for key, v in versions.items():
        if v["years"][0] <= tax_year <= v["years"][1]:
            return key, v
    keys = sorted(versions, key=lambda k: versions[k]["years"][0])
    key = keys[0] if tax_year < versions[keys[0]]["years"][0] else keys[-1]
    return key, versions[key]
