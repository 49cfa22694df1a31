"""The layout YAML as validated dataclasses (invoice2data-style: a bad file is an error naming it).

Coordinates are millimetres from the top-left corner of the form. One ``LayoutVersion`` per
range of tax years (the 令和2年分 form added 基礎控除の額 and 所得金額調整控除額).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from taxcheck.forms import FormDefinitionError, load_yaml

LAYOUT_FILE = "salary_report_layout.yaml"

Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class Label:
    text: str
    rect: Rect
    pt: float
    anchor: bool
    vertical: bool = False
    align: str = "center"


@dataclass(frozen=True)
class FieldBox:
    name: str
    rect: Rect
    anchor: str | None
    align: str
    extra: dict = field(default_factory=dict, hash=False, compare=False)  # cells, parts, era_marks, rows, mark, …


@dataclass(frozen=True)
class LayoutVersion:
    name: str
    years: tuple[int, int]
    size_mm: tuple[float, float]
    title_text: str
    title_rect: Rect
    title_pt: float
    value_pt: float
    year_rect: Rect | None
    cells: tuple[Rect, ...]
    labels: tuple[Label, ...]
    fields: dict[str, FieldBox]
    other_boxes: tuple[Rect, ...] = ()  # printed value boxes without a results column (内訳, 配偶者, 電話)

    def covers(self, year: int) -> bool:
        return self.years[0] <= year <= self.years[1]

    def label(self, text: str) -> Label | None:
        for lab in self.labels:
            if lab.text == text:
                return lab
        return None

    @property
    def anchors(self) -> tuple[Label, ...]:
        return tuple(lab for lab in self.labels if lab.anchor)


@dataclass(frozen=True)
class Layout:
    versions: dict[str, LayoutVersion]

    def for_year(self, year: int | None) -> LayoutVersion:
        """The version covering ``year``; the latest when unknown (or beyond every range)."""
        ordered = sorted(self.versions.values(), key=lambda v: v.years[0])
        if year is not None:
            for v in ordered:
                if v.covers(year):
                    return v
            if year < ordered[0].years[0]:
                return ordered[0]
        return ordered[-1]


def _rect(value, where: str) -> Rect:
    if not (isinstance(value, (list, tuple)) and len(value) == 4 and all(isinstance(x, (int, float)) for x in value)):
        raise FormDefinitionError(f"forms/{LAYOUT_FILE}: {where}: rect must be [x0, y0, x1, y1] in mm, got {value!r}")
    x0, y0, x1, y1 = (float(x) for x in value)
    if x1 <= x0 or y1 <= y0:
        raise FormDefinitionError(f"forms/{LAYOUT_FILE}: {where}: empty rect {value!r}")
    return (x0, y0, x1, y1)


def parse_layout(data: dict) -> Layout:
    if not isinstance(data, dict) or not isinstance(data.get("versions"), dict):
        raise FormDefinitionError(f"forms/{LAYOUT_FILE}: top-level 'versions' mapping missing")
    versions: dict[str, LayoutVersion] = {}
    for name, v in data["versions"].items():
        where = f"versions.{name}"
        try:
            years = tuple(int(y) for y in v["years"])
            labels = tuple(
                Label(str(lab["text"]), _rect(lab["rect"], f"{where}.labels[{i}]"), float(lab.get("pt", 7)),
                      bool(lab.get("anchor", False)), bool(lab.get("vertical", False)), str(lab.get("align", "center")))
                for i, lab in enumerate(v.get("labels", []))
            )
            fields = {
                col: FieldBox(col, _rect(f["rect"], f"{where}.fields.{col}"), f.get("anchor"), str(f.get("align", "left")),
                              {k: val for k, val in f.items() if k not in ("rect", "anchor", "align")})
                for col, f in v["fields"].items()
            }
            version = LayoutVersion(
                name=str(name),
                years=(years[0], years[1]),
                size_mm=(float(v["size_mm"][0]), float(v["size_mm"][1])),
                title_text=str(v["title"]["text"]),
                title_rect=_rect(v["title"]["rect"], f"{where}.title"),
                title_pt=float(v["title"].get("pt", 11)),
                value_pt=float(v.get("value_pt", 10)),
                year_rect=_rect(v["title"]["year_rect"], f"{where}.title.year_rect") if v["title"].get("year_rect") else None,
                cells=tuple(_rect(c, f"{where}.cells") for c in v.get("cells", [])),
                labels=labels,
                fields=fields,
                other_boxes=tuple(_rect(r, f"{where}.boxes.{k}") for k, r in (v.get("boxes") or {}).items()),
            )
        except (KeyError, TypeError, IndexError, ValueError) as e:
            if isinstance(e, FormDefinitionError):
                raise
            raise FormDefinitionError(f"forms/{LAYOUT_FILE}: {where}: {type(e).__name__}: {e}") from e
        label_texts = {lab.text for lab in labels}
        for col, fb in fields.items():
            if fb.anchor is not None and fb.anchor not in label_texts:
                raise FormDefinitionError(f"forms/{LAYOUT_FILE}: {where}.fields.{col}: anchor {fb.anchor!r} is not a label")
        versions[str(name)] = version
    if not versions:
        raise FormDefinitionError(f"forms/{LAYOUT_FILE}: no versions")
    return Layout(versions)


@cache
def load_layout() -> Layout:
    """The packaged layout of the 給与支払報告書 (validated, cached)."""
    return parse_layout(load_yaml(LAYOUT_FILE))
