"""The sample generator: deterministic, internally consistent, every broken file listed, and readable.

Real renderings throughout: reportlab PDFs, pdfium rasters, pdfplumber on the text layer and the
real Tesseract on a 300 dpi page.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium
import pytest
from PIL import Image

from taxcheck.forms import salary_fields, salary_layout
from taxcheck.rules import checkdigits, statutory
from taxcheck.samples import generate
from taxcheck.samples.content import ERROR_CODES, ODDITY_CODES
from taxcheck.samples.generate import make_forms

ROOT = Path(__file__).resolve().parents[1]
N_SMALL = 10


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("samples_a")
    truth_path = generate(out, n=N_SMALL, seed=5)
    return out, json.loads(truth_path.read_text(encoding="utf-8"))


# ---- determinism -----------------------------------------------------------------------------------

def test_same_seed_gives_identical_truth_and_bytes(batch, tmp_path):
    out_a, truth_a = batch
    truth_b = json.loads(generate(tmp_path, n=N_SMALL, seed=5).read_text(encoding="utf-8"))
    assert truth_a == truth_b
    assert _tree(out_a) == _tree(tmp_path)


def test_different_seed_differs(batch, tmp_path):
    _, truth_a = batch
    truth_c = json.loads(generate(tmp_path, n=3, seed=6).read_text(encoding="utf-8"))
    assert [f["fields"] for f in truth_c["forms"]] != [f["fields"] for f in truth_a["forms"][:3]]


def test_regenerating_into_the_same_folder_replaces_old_files(tmp_path):
    generate(tmp_path, n=4, seed=1)
    first = set(_tree(tmp_path))
    truth = json.loads(generate(tmp_path, n=2, seed=2).read_text(encoding="utf-8"))
    listed = {d["file"] for d in truth["documents"]} | {"truth.json"}
    assert set(_tree(tmp_path)) == listed
    assert first != listed


# ---- truth is consistent ---------------------------------------------------------------------------

def _as_int(v: str) -> int:
    return int(v) if v else 0


def _statutory_problems(year: int, f: dict[str, str]) -> list[str]:
    """Recompute a 年末調整済み form from its printed boxes; names what does not hold."""
    problems = []
    if not checkdigits.is_valid_my_number(f["recipient_my_number"]):
        problems.append("recipient_my_number")
    if not checkdigits.is_valid_payer_number(f["payer_number"]):
        problems.append("payer_number")
    if not f["employment_income"]:  # 乙欄 or 中途退職: nothing to recompute
        return problems
    pay, eia = int(f["payment_amount"]), int(f["employment_income"])
    if max(0, statutory.employment_income(pay, year) - _as_int(f["income_adjustment"])) != eia:
        problems.append("employment_income")
    t = statutory.tables(year)
    personal = (_as_int(f["disabled_special"]) * t.personal["special_disabled"]
                + _as_int(f["disabled_other"]) * t.personal["disabled"]
                + (t.personal["special_disabled"] if f["self_disabled_special"] else 0)
                + (t.personal["disabled"] if f["self_disabled_other"] else 0)
                + (t.personal["widow"] if f["widow"] else 0)
                + ((t.personal["single_parent"] or 0) if f["single_parent"] else 0)
                + (t.personal["working_student"] if f["working_student"] else 0))
    dependants = statutory.dependant_deduction(_as_int(f["dependents_specific"]), _as_int(f["dependents_elderly"]),
                                               _as_int(f["dependents_elderly_cohabiting"]),
                                               _as_int(f["dependents_other"]), year)
    basic = int(f["basic_deduction"]) if t.has_basic_deduction_box else statutory.basic_deduction(eia, year)
    if basic != statutory.basic_deduction(eia, year):
        problems.append("basic_deduction")
    parts = (_as_int(f["social_insurance"]) + _as_int(f["life_insurance_deduction"])
             + _as_int(f["earthquake_insurance_deduction"]) + _as_int(f["spouse_deduction"]) + dependants + personal + basic)
    if parts != int(f["total_deductions"]):
        problems.append("total_deductions")
    if _as_int(f["spouse_deduction"]) not in statutory.allowed_spouse_amounts(eia, year):
        problems.append("spouse_deduction")
    tax = statutory.annual_tax(eia, int(f["total_deductions"]), _as_int(f["housing_loan_credit"]), year)
    if tax != int(f["withholding_tax"]):
        problems.append("withholding_tax")
    return problems


def test_forms_without_errors_pass_the_statutory_recomputation():
    """Content only (no rendering), over enough forms to meet every oddity."""
    forms = [fc for group in make_forms(random.Random(11), 400) for fc in group]
    clean = [fc for fc in forms if not fc.errors]
    assert len(clean) > 300
    for fc in clean:
        assert _statutory_problems(fc.tax_year, fc.fields) == [], (fc.tax_year, fc.fields, fc.oddities)
    seen = {o for fc in forms for o in fc.oddities}
    assert seen == set(ODDITY_CODES)


def test_injected_errors_break_a_check_and_carry_the_corrected_value():
    forms = [fc for group in make_forms(random.Random(12), 600) for fc in group]
    with_errors = [fc for fc in forms if fc.errors]
    assert 0.12 < len(with_errors) / len(forms) < 0.22
    assert 0.12 < sum(bool(fc.oddities) for fc in forms) / len(forms) < 0.25
    assert {e["code"] for fc in with_errors for e in fc.errors} == set(ERROR_CODES)
    arithmetic = {"employment_income", "total_deductions", "withholding_tax", "spouse_deduction",
                  "recipient_my_number", "payer_number"}
    for fc in with_errors:
        for e in fc.errors:
            assert set(e) == {"code", "column", "corrected"}
            if e["code"] == "duplicate_resubmission":
                assert e["column"] == "" and e["corrected"]
                continue
            assert e["column"] in fc.fields
            if e["code"] != "prior_job_not_noted":  # the note is missing from 摘要: printed "" or other text
                assert e["corrected"] != fc.fields[e["column"]], e
        columns = {e["column"] for e in fc.errors}
        if columns & arithmetic:
            assert _statutory_problems(fc.tax_year, fc.fields), fc.errors
        # putting every corrected value back gives a form that passes
        fixed = dict(fc.fields)
        for e in fc.errors:
            if e["column"]:
                fixed[e["column"]] = e["corrected"]
        assert _statutory_problems(fc.tax_year, fixed) == [], fc.errors


def test_an_arithmetic_error_on_a_four_digit_income_is_generated():
    # seed 111 draws a transposition for an employment income of 1,867 yen: too few digits, and it crashed
    forms = [fc for group in make_forms(random.Random(111), 400) for fc in group]
    small = [e for fc in forms for e in fc.errors if e["code"] == "income_arithmetic" and len(e["corrected"]) == 4]
    assert small and all(fc.fields["employment_income"] != e["corrected"] for fc in forms for e in fc.errors
                          if e in small)


def test_truth_schema_and_values(batch):
    out, truth = batch
    assert truth["seed"] == 5 and truth["generator"]
    assert len(truth["forms"]) == N_SMALL
    columns = set(salary_fields())
    keys = set()
    for form in truth["forms"]:
        assert form["form"] == "salary_report" and 2019 <= form["tax_year"] <= 2025
        assert set(form["fields"]) == columns
        assert (out / form["source"]).is_file()
        assert form["needs_correction"] == bool(form["errors"])
        assert set(form["oddities"]) <= set(ODDITY_CODES)
        for e in form["errors"]:
            assert e["code"] in ERROR_CODES
        for name, spec in salary_fields().items():
            v = form["fields"][name]
            if spec.type in ("amount", "count") and v:
                assert v.isdigit(), (name, v)
            if spec.type == "flag":
                assert v in ("", "1")
            if not spec.applies_to(form["tax_year"]):
                assert v == "", name
        keys.add((form["source"], form["page"], form["slot"]))
    assert len(keys) == N_SMALL  # source/page/slot identify a form


def test_documents_have_the_pages_truth_says(batch):
    out, truth = batch
    for doc in truth["documents"]:
        path = out / doc["file"]
        if doc["broken"]:
            continue
        suffix = path.suffix.lower()
        if suffix == ".pdf":
            pdf = pdfium.PdfDocument(str(path))
            pages = len(pdf)
            pdf.close()
        else:
            with Image.open(path) as im:
                pages = getattr(im, "n_frames", 1)
        assert pages == doc["pages"], doc["file"]
        on_doc = [f for f in truth["forms"] if f["source"] == doc["file"]]
        assert len(on_doc) == doc["forms"] and {f["page"] for f in on_doc} == set(range(1, pages + 1))


def test_documents_and_truth_are_private(batch):
    """They print and hold full 個人番号 (synthetic, but handled like the real thing): mode 0600."""
    out, truth = batch
    for name in ["truth.json"] + [d["file"] for d in truth["documents"]]:
        assert (out / name).stat().st_mode & 0o777 == 0o600, name


def test_broken_files_are_listed_with_their_quarantine_code(batch):
    out, truth = batch
    broken = {d["broken"]: out / d["file"] for d in truth["documents"] if d["broken"]}
    assert set(broken) == {"empty_file", "truncated_pdf", "encrypted_pdf", "not_an_image", "no_form_found"}
    assert broken["empty_file"].stat().st_size == 0
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(str(broken["truncated_pdf"]))
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(str(broken["encrypted_pdf"]))  # needs the password
    with pytest.raises(Exception):
        Image.open(broken["not_an_image"]).load()
    assert not any(f["source"] in {d["file"] for d in truth["documents"] if d["broken"]} for f in truth["forms"])


def test_born_digital_pdf_has_a_text_layer_with_the_printed_values(batch):
    out, truth = batch
    form = next(f for f in truth["forms"] if f["variant"] == "pdf_text")
    with pdfplumber.open(out / form["source"]) as pdf:
        text = pdf.pages[form["page"] - 1].extract_text()
    assert "給与支払報告書（個人別明細書）" in text and "支払金額" in text
    digits = "".join(ch for ch in text if ch.isdigit())
    assert form["fields"]["payment_amount"][-3:] in digits
    assert form["fields"]["recipient_name"].split(" ")[0] in text


def test_every_variant_appears_in_the_committed_sample_set():
    truth = json.loads((ROOT / "sample_docs" / "truth.json").read_text(encoding="utf-8"))
    from taxcheck.samples.generate import KINDS

    assert {f["variant"] for f in truth["forms"]} == {k.name for k in KINDS}
    for doc in truth["documents"]:
        assert (ROOT / "sample_docs" / doc["file"]).is_file(), doc["file"]
    size = sum(p.stat().st_size for p in (ROOT / "sample_docs").rglob("*") if p.is_file())
    assert size < 15 * 1024 * 1024


# ---- layout ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("year", [2019, 2020, 2025])
def test_layout_has_a_field_for_every_column_of_the_year(year):
    version, lay = salary_layout(year)
    assert version == ("2019" if year == 2019 else "2020")
    wanted = {name for name, spec in salary_fields().items() if spec.applies_to(year)}
    assert wanted <= set(lay["fields"])
    w, h = lay["size_mm"]
    for name, f in lay["fields"].items():
        x0, y0, x1, y1 = f["rect"]
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, name
    anchors = {lab["text"] for lab in lay["labels"] if lab.get("anchor")}
    assert {"支払金額", "源泉徴収税額", "所得控除の額の合計額"} <= anchors
    assert ("基礎控除の額" in anchors) == (year >= 2020)


# ---- OCR -------------------------------------------------------------------------------------------

def test_tesseract_reads_the_labels_on_a_300dpi_page(batch):
    """The real Tesseract (jpn) reads the printed box labels of a generated 300 dpi scan."""
    import pytesseract

    out, truth = batch
    form = next(f for f in truth["forms"] if f["variant"] == "pdf_text")
    pdf = pdfium.PdfDocument(str(out / form["source"]))
    image = pdf[form["page"] - 1].render(scale=300 / 72).to_pil().convert("L")
    pdf.close()
    x0, y0, x1, y1 = form["placement"]["rect_mm"]
    px = 300 / 25.4
    h = y1 - y0
    band = image.crop((int(x0 * px), int((y0 + 0.15 * h) * px), int(x1 * px), int((y0 + 0.30 * h) * px)))
    text = pytesseract.image_to_string(band, lang="jpn", config="--psm 6").replace(" ", "")
    assert "支払金額" in text
    assert "源泉徴収税額" in text


def test_committed_sample_set_matches_the_generator(tmp_path):
    """sample_docs/ is `taxcheck samples --out sample_docs --n 36 --seed 2026`: regenerate it when the generator changes."""
    committed = json.loads((ROOT / "sample_docs" / "truth.json").read_text(encoding="utf-8"))
    fresh = json.loads(generate(tmp_path, n=committed["n_forms"], seed=committed["seed"]).read_text(encoding="utf-8"))
    assert fresh == committed
