"""The stress generator: deterministic, truth in generate()'s schema, every quirk produced and visible.

Real renderings throughout (reportlab, pdfium, OpenCV); the pixel checks look for each quirk's trace
where the truth says it was put.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import unicodedata
from pathlib import Path

import cv2
import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import pytest
from PIL import Image

from taxcheck.forms import salary_fields, salary_layout
from taxcheck.samples import foreign
from taxcheck.samples.stress import STRESS_QUIRKS, generate_stress

N = 24  # enough forms for every quirk to come up once (a four-up sheet takes 3-4)


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("stress")
    return out, json.loads(generate_stress(out, n=N, seed=11).read_text(encoding="utf-8"))


def _page(out: Path, doc: dict) -> np.ndarray:
    """The document's first page as a greyscale array (image files and image-only PDFs alike)."""
    path = out / doc["file"]
    if path.suffix == ".pdf":
        pdf = pdfium.PdfDocument(path.read_bytes())
        page = pdf[0]
        objs = [o for o in page.get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
        img = objs[0].get_bitmap().to_pil()
        pdf.close()
    else:
        img = Image.open(path)
    return np.asarray(img.convert("L"), dtype=np.float32)


def _docs_with(truth: dict, quirk: str) -> list[dict]:
    return [d for d in truth["documents"] if quirk in d["render"]["quirks"]]


# ---- determinism -----------------------------------------------------------------------------------

def test_same_seed_gives_identical_files_and_truth(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    ta = json.loads(generate_stress(a, n=5, seed=3).read_text(encoding="utf-8"))
    tb = json.loads(generate_stress(b, n=5, seed=3).read_text(encoding="utf-8"))
    assert ta == tb
    assert _tree(a) == _tree(b)


def test_another_seed_gives_other_documents(batch, tmp_path):
    _, truth = batch
    other = json.loads(generate_stress(tmp_path, n=3, seed=12).read_text(encoding="utf-8"))
    assert [f["fields"] for f in other["forms"]] != [f["fields"] for f in truth["forms"][:3]]


# ---- truth -----------------------------------------------------------------------------------------

def test_truth_has_generate_schema_and_every_form(batch):
    out, truth = batch
    columns = set(salary_fields())
    assert truth["n_forms"] == N == len(truth["forms"])
    keys = {(f["source"], f["page"], f["slot"]) for f in truth["forms"]}
    assert len(keys) == N
    for doc in truth["documents"]:
        assert (out / doc["file"]).is_file() and doc["variant"].startswith("stress_")
        assert doc["forms"] == sum(1 for f in truth["forms"] if f["source"] == doc["file"])
    for f in truth["forms"]:
        assert set(f["fields"]) == columns
        assert f["variant"].startswith("stress_") and f["layout_version"] in ("2019", "2020")
        x0, y0, x1, y1 = f["placement"]["rect_mm"]
        pw, ph = f["placement"]["page_mm"]
        assert 0 <= x0 < x1 <= pw and 0 <= y0 < y1 <= ph
        assert f["needs_correction"] == bool(f["errors"])


def test_every_quirk_is_produced(batch):
    _, truth = batch
    seen = {q for d in truth["documents"] for q in d["render"]["quirks"]}
    assert seen >= set(STRESS_QUIRKS)
    assert {d["variant"] for d in truth["documents"]} >= {f"stress_{q}" for q in STRESS_QUIRKS}


# ---- the foreign layout ----------------------------------------------------------------------------

def _rects(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k not in foreign.NOT_GEOMETRY:
                yield from _rects(v)
    elif isinstance(node, list):
        if len(node) == 4 and all(isinstance(x, (int, float)) for x in node):
            yield node
        else:
            for x in node:
                yield from _rects(x)


def test_vendor_layout_moves_edges_consistently_and_leaves_the_yaml_alone():
    _, official = salary_layout(2024)
    before = json.dumps(official, sort_keys=True)
    rng = random.Random(4)
    vendor = foreign.make_vendor(rng)
    lay = foreign.vendor_layout(official, vendor, rng)
    assert json.dumps(official, sort_keys=True) == before  # the cached official layout is untouched
    old, new = list(_rects(official)), list(_rects(lay))
    assert len(old) == len(new) > 200
    moved = [abs(n[i] - o[i]) for o, n in zip(old, new) for i in range(4)]
    assert max(moved) > 1.0  # edges really move by millimetres ...
    xs = {}
    for o, n in zip(old, new):
        assert n[0] < n[2] and n[1] < n[3]
        for i in (0, 2):
            xs.setdefault(o[i], set()).add(n[i])
    assert all(len(v) == 1 for v in xs.values())  # ... and an edge shared by two boxes moves as one
    assert lay["size_mm"] != official["size_mm"]


def test_foreign_text_layer_prints_the_truth_values(batch):
    out, truth = batch
    doc = _docs_with(truth, "foreign_pdf")[0]
    form = next(f for f in truth["forms"] if f["source"] == doc["file"])
    with pdfplumber.open(out / doc["file"]) as pdf:
        text = unicodedata.normalize("NFKC", pdf.pages[0].extract_text() or "")
    flat = text.replace(",", "").replace(" ", "").replace("円", "")
    assert form["fields"]["payment_amount"] in flat
    assert form["fields"]["recipient_name"].replace(" ", "") in flat.replace("\u3000", "")
    assert "給与支払報告書" in text


# ---- the scanner quirks leave their trace ----------------------------------------------------------

def test_binding_shadow_darkens_one_edge(batch):
    out, truth = batch
    doc = _docs_with(truth, "binding_shadow")[0]
    img = _page(out, doc)
    edge = doc["render"]["scan"]["binding_shadow"]["edge"]
    strip = {"left": img[:, :20], "right": img[:, -20:], "top": img[:20, :]}[edge]
    opposite = {"left": img[:, -20:], "right": img[:, :20], "top": img[-20:, :]}[edge]
    assert strip.mean() < opposite.mean() - 40


def test_recycled_paper_is_tinted(batch):
    out, truth = batch
    doc = _docs_with(truth, "recycled_paper")[0]
    path = out / doc["file"]
    if path.suffix == ".pdf":
        pytest.skip("image-only PDF: checked through other documents")
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    paper = np.median(rgb.reshape(-1, 3), axis=0)
    assert paper.max() < 245 and paper[0] > paper[2] + 5  # not white, and warmer than neutral


def test_punch_holes_are_where_the_truth_says(batch):
    out, truth = batch
    doc = _docs_with(truth, "punch_staple")[0]
    img = _page(out, doc)
    dpi = doc["render"]["dpi"]
    x = int(doc["render"]["scan"]["punch_staple"]["holes_x_mm"] / 25.4 * dpi)
    column = img[:, max(0, x - 3):x + 3].mean(axis=1)
    assert (column < 120).sum() > 2 * 5.0 / 25.4 * dpi  # two dark discs of ~6 mm


def test_page_sizes_follow_dpi_and_four_up(batch):
    out, truth = batch
    for doc in truth["documents"]:
        if doc["render"]["container"] == "pdf_text":
            continue
        img = _page(out, doc)
        dpi = doc["render"]["dpi"]
        form = next(f for f in truth["forms"] if f["source"] == doc["file"])
        pw, ph = form["placement"]["page_mm"]
        y_dpi = 98 if "fax_standard" in doc["render"]["quirks"] else dpi  # a standard-mode fax: 204 × 98 dpi
        assert abs(img.shape[1] - pw / 25.4 * dpi) < 3 and abs(img.shape[0] - ph / 25.4 * y_dpi) < 3
        if "dpi150" in doc["render"]["quirks"]:
            assert dpi == 150
        if "four_up" in doc["render"]["quirks"]:
            assert pw > ph  # a landscape sheet of A6-sized forms
            slots = [f["placement"]["rect_mm"] for f in truth["forms"] if f["source"] == doc["file"]]
            assert all((r[2] - r[0]) < pw / 2 and (r[3] - r[1]) < ph / 2 for r in slots)


def test_handwriting_and_skew_are_recorded(batch):
    _, truth = batch
    hw = [h for d in _docs_with(truth, "handwriting") for h in d["render"]["handwriting"]]
    assert hw and all(h["kind"] in ("tick", "underline") and h["near"] in foreign.HANDWRITING_TARGETS for h in hw)
    for d in _docs_with(truth, "skew"):
        assert 2.0 <= abs(d["render"]["scan"]["skew"]["degrees"]) <= 4.0
    for d in _docs_with(truth, "xy_scale"):
        s = d["render"]["scan"]["xy_scale"]
        assert abs(s["sy"] - s["sx"]) > 0.009


def test_lean_photo_and_low_contrast_are_recorded_and_visible(batch):
    out, truth = batch
    for d in _docs_with(truth, "lean"):
        assert 5.0 <= abs(d["render"]["scan"]["lean"]["degrees"]) <= 8.0
    for d in _docs_with(truth, "photo"):
        img = _page(out, d)
        h, w = img.shape
        corners = d["render"]["scan"]["photo"]["corners_px"]
        assert all(0 <= x <= 0.04 * w and 0 <= y <= 0.04 * h for x, y in corners)
        assert img[:, :3].mean() < 150 or img[:3, :].mean() < 150  # the desk shows around the sheet
    for d in _docs_with(truth, "low_contrast"):
        if "photo" in d["render"]["quirks"]:
            continue
        img = _page(out, d)
        assert np.percentile(img, 0.5) > 80 and np.median(img) < 225  # no black, no white


def test_fax_standard_and_dither_are_bilevel_tiffs(batch):
    out, truth = batch
    for quirk in ("fax_standard", "dither"):
        for d in _docs_with(truth, quirk):
            with Image.open(out / d["file"]) as img:
                assert img.mode == "1" and d["render"]["container"] == "tiff"
                dpi = tuple(round(float(v)) for v in img.info["dpi"])
            assert dpi == ((204, 98) if quirk == "fax_standard" else (d["render"]["dpi"],) * 2)
            if quirk == "dither":  # paper printed as lone dots
                ink = (_page(out, d) < 128).astype(np.uint8)
                lone = ink & (cv2.filter2D(ink, -1, np.ones((3, 3), np.float32)) == 1)
                assert lone.mean() > 0.02


def test_image_pdf_holds_one_jpeg_page(batch):
    out, truth = batch
    for doc in truth["documents"]:
        if doc["render"]["container"] == "pdf_image":
            with pdfplumber.open(io.BytesIO((out / doc["file"]).read_bytes())) as pdf:
                assert len(pdf.pages) == 1 and not (pdf.pages[0].extract_text() or "").strip()
