"""Page geometry: turn pages upright, straighten them, and find every form on them.

* :mod:`.geometry` — orientation (0/90/180/270) and deskew (±5°) of page images.
* :mod:`.template` — the layout YAML (``forms/salary_report_layout.yaml``) as validated dataclasses.
* :mod:`.lines` — words grouped into text lines, with a fuzzy search for printed labels.
* :mod:`.locate` — each title 「給与支払報告書」 is one form; its anchor labels give a
  similarity transform from template millimetres to page pixels (RANSAC, tolerant of misreads).
"""

from __future__ import annotations

from taxcheck.layout.geometry import deskew_angle, rotate_image, rotate_bound
from taxcheck.layout.locate import LocatedForm, locate_forms, year_from_text
from taxcheck.layout.template import Layout, LayoutVersion, load_layout

__all__ = [
    "Layout",
    "LayoutVersion",
    "LocatedForm",
    "deskew_angle",
    "load_layout",
    "locate_forms",
    "rotate_bound",
    "rotate_image",
    "year_from_text",
]
