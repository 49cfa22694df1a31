"""Golden documents: generated 給与支払報告書 beside their expected values, read end to end (real Tesseract).

Each ``golden/<doc>`` has ``golden/<doc>.json`` (the generator's truth for its forms). Every form
must be found with its tax year. On born-digital PDFs every field must match exactly. On scans
(real Tesseract on 200 dpi noisy/fax images) amounts, counts, numbers, dates and check boxes must
match exactly for at least 90% of the document's fields, and names and addresses (where Tesseract's
kanji look-alikes are a known gap) must be close on average; the issue's accuracy targets over
hundreds of forms are measured by bench/read_bench.py, not here. フリガナ (recipient_kana, not a contract
column) is checked on born-digital PDFs only: small and often half-width kana on 200 dpi scans is a
known gap of the reader (see bench/read_bench.md).
"""

from __future__ import annotations

import collections
import difflib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taxcheck.extract import read_document, read_documents
from taxcheck.extract.prepare import prepare_page
from taxcheck.forms import salary_fields
from taxcheck.ingest.loader import load_document
from taxcheck.layout.template import load_layout
from taxcheck.ocr.tesseract import TesseractEngine
from taxcheck.records import Page

GOLDEN = Path(__file__).parent / "golden"
DOCS = sorted(p for p in GOLDEN.iterdir() if p.suffix != ".json")
STRICT_TYPES = {"amount", "count", "my_number", "payer_number", "date", "flag"}
TEXT_SIMILARITY_ON_SCANS = 0.8
SCAN_GAPS = {"recipient_kana"}
PAGE_READ_SIMILARITY = 0.6  # the page pass reads the same box, if less well
SCAN_STRICT_SHARE = 0.9  # per scanned document (fax at 200 dpi still confuses 5/9/0); the 99.5% targets are measured by bench/read_bench.py


class _Counting(TesseractEngine):
    """The real engine, keeping the size of each image it reads (None for a run over a list of images) by mode."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, list] = collections.defaultdict(list)

    def _data(self, image, mode, only=""):
        self.runs[mode].append(None if isinstance(image, str) else image.size)
        return super()._data(image, mode, only)

    def orientation(self, image):
        self.runs["osd"].append(image.shape[:2])
        return super().orientation(image)


def _expected(doc: Path) -> dict:
    return json.loads(doc.with_name(doc.name + ".json").read_text(encoding="utf-8"))


def _check(result, expected: dict, source: str) -> None:
    assert result.quarantined is None
    got = {(f.page, f.slot): f for f in result.forms}
    want = {(f["page"], f["slot"]): f for f in expected["forms"]}
    assert set(got) == set(want), f"{source}: forms found {sorted(got)} != expected {sorted(want)}"
    specs = salary_fields()
    born_digital = expected["variant"].startswith("pdf_text")
    strict_ok, strict_n, similarity, misreads, page_similarity = 0, 0, [], [], []
    for key, w in want.items():
        form = got[key]
        assert form.source == source and form.tax_year == w["tax_year"]
        for name, value in w["fields"].items():
            if name not in specs or not specs[name].applies_to(w["tax_year"]):
                continue
            if name in SCAN_GAPS and not born_digital:
                continue
            read = form.value(name) or ""
            value = "" if value in (None, "0") and name.endswith("_named") else (value or "")
            if born_digital:
                assert read == value, f"{source} p{key[0]}s{key[1]} {name}"
            elif specs[name].type in STRICT_TYPES:
                strict_ok += read == value
                strict_n += 1
                if read != value:
                    misreads.append(name)
            else:
                similarity.append(difflib.SequenceMatcher(None, read, value).ratio())
        # every field carries a confidence in 0..1 and where it was read
        assert all(0.0 <= fv.confidence <= 1.0 and fv.bbox is not None for fv in form.fields.values())
        # a scan's name and address boxes, re-read on their own, keep the page pass's reading of the same box
        page_reads = [(fv.value, fv.page_read) for name, fv in form.fields.items()
                      if name in ("recipient_name", "recipient_address", "payer_address") and not fv.blank]
        if born_digital:
            assert all(p is None for _, p in page_reads)
        else:
            assert page_reads and all(p is not None for _, p in page_reads)
            page_similarity += [difflib.SequenceMatcher(None, v.replace(" ", ""), p.replace(" ", "")).ratio()
                                for v, p in page_reads]
    if not born_digital:
        assert strict_ok >= SCAN_STRICT_SHARE * strict_n, f"{source}: misread {misreads}"
        assert sum(similarity) / len(similarity) >= TEXT_SIMILARITY_ON_SCANS
        assert sum(page_similarity) / len(page_similarity) >= PAGE_READ_SIMILARITY


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_golden_document(doc):
    result = read_document(doc, GOLDEN)
    _check(result, _expected(doc), doc.name)
    assert [p.page_no for p in result.pages] == sorted({p.page_no for p in result.pages})


def test_page_on_its_side_is_turned_upright(tmp_path):
    """The fax page turned 90° clockwise reads the same as upright (orientation by OSD / title search)."""
    doc = GOLDEN / "fax200.tif"
    turned = tmp_path / "fax200_rot90.png"
    img = np.asarray(Image.open(doc).convert("L"))
    Image.fromarray(np.ascontiguousarray(np.rot90(img, k=-1))).save(turned, dpi=(200, 200))
    result = read_document(turned, tmp_path)
    assert result.forms and result.forms[0].rotation in (90, 270)
    assert result.pages[0].image.shape[0] > result.pages[0].image.shape[1]  # the page is kept upright: portrait A4
    _check(result, _expected(doc), turned.name)


def test_a_landscape_page_is_turned_before_its_first_pass():
    """A portrait form on a landscape page: OSD is asked first, so one full-page pass finds the form."""
    page = load_document(GOLDEN / "fax200.tif", GOLDEN).pages[0]
    page.image = np.ascontiguousarray(np.rot90(page.image, k=-1))
    prepared = prepare_page(page, TesseractEngine(), load_layout())
    assert prepared.forms and prepared.page.rotation in (90, 270) and prepared.ocr_passes == 1


def test_osd_reads_a_fine_scan_at_150_dpi_and_asks_again_at_full_size_when_unsure():
    """OSD reads a grey copy of a 300 dpi page at 150 dpi (half the time); a page it cannot tell the turn of
    there (a near-blank one) is asked again at its own size."""
    img = Image.open(GOLDEN / "scan200_noisy.jpg").convert("L")
    fine = np.asarray(img.resize((img.width * 3 // 2, img.height * 3 // 2), Image.LANCZOS).convert("RGB"))
    page = Page("fine.png", 1, np.ascontiguousarray(np.rot90(fine, k=-1)), 300.0)
    engine = _Counting()
    prepared = prepare_page(page, engine, load_layout())
    assert prepared.forms and prepared.page.rotation in (90, 270) and prepared.ocr_passes == 1
    [(h, w)] = engine.runs["osd"]
    assert abs(h / page.image.shape[0] - 0.5) < 0.01 and abs(w / page.image.shape[1] - 0.5) < 0.01
    blank = np.full((2481, 3508, 3), 255, np.uint8)
    blank[1200:1230, 1500:2000] = 0
    engine = _Counting()
    prepare_page(Page("blank.png", 1, blank, 300.0), engine, load_layout())
    small, full = engine.runs["osd"][:2]
    assert abs(small[0] - 1240) <= 1 and abs(small[1] - 1754) <= 1 and full == (2481, 3508)


def test_an_upside_down_page_is_turned_before_osd_is_asked():
    """A portrait page that shows no form is most often upside down: that turn is its second pass, and OSD (as
    slow as a pass) is not asked."""
    page = load_document(GOLDEN / "fax200.tif", GOLDEN).pages[0]
    page.image = np.ascontiguousarray(np.rot90(page.image, k=2))
    engine = _Counting()
    prepared = prepare_page(page, engine, load_layout())
    assert prepared.forms and prepared.page.rotation == 180 and prepared.ocr_passes == 2
    assert len(engine.runs["page"]) == 2 and not engine.runs["osd"]


def test_a_fine_scan_is_located_at_200_dpi(tmp_path):
    """The page pass reads a 300 dpi scan shrunk to 200 dpi (it only locates the forms); its words come back in
    the page's pixels, and the boxes are read from the full page: the values of the 200 dpi original."""
    doc = GOLDEN / "scan200_noisy.jpg"
    img = Image.open(doc).convert("L")
    fine = tmp_path / doc.name.replace(".jpg", ".png")
    img.resize((img.width * 3 // 2, img.height * 3 // 2), Image.LANCZOS).save(fine, dpi=(300, 300))
    engine = _Counting()
    result = read_document(fine, tmp_path, engine=engine)
    [(width, height)] = engine.runs["page"]
    assert abs(width / (img.width * 1.5) - 2 / 3) < 0.02 and abs(height / (img.height * 1.5) - 2 / 3) < 0.02
    _check(result, _expected(doc), fine.name)


def test_small_print_on_a_fine_scan_is_located_at_its_own_size(tmp_path):
    """Forms printed at ~0.6 of their size (as on a 4-up sheet) on a 300 dpi scan: shrunk to 200 dpi their labels
    are too small to find, so the page pass reads the page again at its own size, and both forms are found."""
    doc = GOLDEN / "scan200_2up.png"  # two forms at ~0.83 of their size, 200 dpi
    sheet = Image.open(doc).convert("L")
    small = sheet.resize((round(sheet.width * 1.05), round(sheet.height * 1.05)), Image.LANCZOS)  # 0.7 of it at 300 dpi
    canvas = Image.new("L", (2481, 3508), 255)
    canvas.paste(small, (200, 300))
    path = tmp_path / "small_print.png"
    canvas.save(path, dpi=(300, 300))
    engine = _Counting()
    result = read_document(path, tmp_path, engine=engine)
    assert [(f.page, f.slot) for f in result.forms] == [(1, 1), (1, 2)]
    assert [f.tax_year for f in result.forms] == [f["tax_year"] for f in _expected(doc)["forms"]]
    assert engine.runs["page"][-1] == (2481, 3508)  # the page pass that found them read the page at its own size


def test_documents_are_read_together_as_each_alone(tmp_path):
    """The boxes of every form of several documents (a two-page TIFF, a lone page) are OCRed together, one
    Tesseract run per kind of box, and read as each page alone; a broken file among them is quarantined alone."""
    pages = [Image.fromarray(np.asarray(Image.open(GOLDEN / name).convert("L")))  # pixels only: no fax's tags
             for name in ("fax200.tif", "scan200_noisy.jpg")]
    alone, runs_alone = [], []
    for i, page in enumerate(pages):
        path = tmp_path / f"page{i}.png"
        page.save(path, dpi=(200, 200))
        engine = _Counting()
        alone += read_document(path, tmp_path, engine=engine).forms
        runs_alone.append(sum(map(len, engine.runs.values())))
    both = tmp_path / "both.tif"
    pages[0].copy().save(both, "TIFF", dpi=(200, 200), compression="tiff_deflate", save_all=True,
                         append_images=[p.copy() for p in pages[1:]])  # copies: the PNGs' encoder settings stay
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    engine = _Counting()
    docs = read_documents([both, broken, tmp_path / "page0.png"], tmp_path, engine=engine)
    assert [d.source for d in docs] == ["both.tif", "broken.png", "page0.png"]
    assert docs[1].quarantined and not docs[1].forms and not docs[0].quarantined and not docs[2].quarantined
    assert all(d.seconds > 0 for d in docs)  # the broken file's time too: its ingest
    together = docs[0].forms + docs[2].forms
    assert [f.page for f in together] == [1, 2, 1]
    assert [{k: (v.value, v.confidence) for k, v in f.fields.items()} for f in together] == \
           [{k: (v.value, v.confidence) for k, v in f.fields.items()} for f in alone + alone[:1]]
    assert engine.runs["page"] == [None]  # the three page passes in one run
    assert sum(map(len, engine.runs.values())) < 2 * runs_alone[0] + runs_alone[1]


class _FailingTogether(_Counting):
    """A fault that cannot be caused with a real page: Tesseract fails over a list of page images, and over one
    page image of them alone (the second in a lot)."""

    def read_words_batch(self, images, *, mode):
        if mode == "page" and len(images) > 1:
            raise RuntimeError("simulated failure of a shared run")
        return super().read_words_batch(images, mode=mode)

    def read_words(self, image, *, mode="page", only=""):
        if mode == "page" and len(self.runs["page"]) == 1:
            self.runs["page"].append("failed")
            raise RuntimeError("simulated failure on one page")
        return super().read_words(image, mode=mode, only=only)


def test_a_duplex_scans_blank_backs_cost_no_ocr(tmp_path):
    """A duplex scan holds each sheet's empty back, faint bleed-through of the front on it. Such a page was read
    every way round (four page passes and OSD twice: ~7 s, more than a form) to find nothing. It is now told by
    its share of print: the file reads with the Tesseract runs of its form page alone, and gives the same forms."""
    front = Image.open(GOLDEN / "fax200.tif").convert("L")
    rng = np.random.default_rng(0)
    bleed = 255 - (255 - np.asarray(front, dtype=np.float32)[:, ::-1]) * 0.12  # the front, mirrored and faint
    back = Image.fromarray(np.clip(bleed + rng.normal(-8, 3, bleed.shape), 0, 255).astype(np.uint8))
    front.save(tmp_path / "front.tif", dpi=(200, 200), compression="tiff_lzw")
    front.save(tmp_path / "duplex.tif", dpi=(200, 200), compression="tiff_lzw", save_all=True, append_images=[back])
    alone, duplex = _Counting(), _Counting()
    one = read_documents([tmp_path / "front.tif"], tmp_path, engine=alone)[0]
    both = read_documents([tmp_path / "duplex.tif"], tmp_path, engine=duplex)[0]
    assert duplex.runs == alone.runs and not duplex.runs["osd"]
    assert both.quarantined is None and [f.page for f in both.forms] == [1]
    assert [{k: v.value for k, v in f.fields.items()} for f in both.forms] == \
           [{k: v.value for k, v in f.fields.items()} for f in one.forms]


def test_a_page_stored_sideways_with_an_exif_orientation_needs_no_osd(tmp_path):
    """A phone's or scanner's image whose pixels lie on their side, with the EXIF tag that turns them upright,
    reads with exactly the Tesseract runs of the upright page (no OSD, no pass over the sideways page) and gives
    the same forms."""
    page = Image.open(GOLDEN / "fax200.tif").convert("L")
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90° clockwise to view"
    page.save(tmp_path / "upright.png", dpi=(200, 200))
    page.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "sideways.png", dpi=(200, 200), exif=exif.tobytes())
    upright, sideways = _Counting(), _Counting()
    one = read_documents([tmp_path / "upright.png"], tmp_path, engine=upright)[0]
    turned = read_documents([tmp_path / "sideways.png"], tmp_path, engine=sideways)[0]
    assert sideways.runs == upright.runs and not sideways.runs["osd"]
    assert [{k: v.value for k, v in f.fields.items()} for f in turned.forms] == \
           [{k: v.value for k, v in f.fields.items()} for f in one.forms] != []


def test_a_failed_shared_page_pass_fails_only_the_page_it_fails_on(tmp_path):
    """Should the shared run of several pages' page passes fail, each page is read alone: the page whose reading
    fails is that file's failed page (retried next run), the other files read as alone."""
    page = Image.fromarray(np.asarray(Image.open(GOLDEN / "fax200.tif").convert("L")))
    for name in ("a.png", "b.png", "c.png"):
        page.save(tmp_path / name, dpi=(200, 200))
    alone = read_document(tmp_path / "a.png", tmp_path).forms
    docs = read_documents([tmp_path / n for n in ("a.png", "b.png", "c.png")], tmp_path, engine=_FailingTogether())
    assert [bool(d.quarantined) for d in docs] == [False, True, False]
    assert docs[1].quarantined.code == "read_error" and "1ページ目" in docs[1].quarantined.reason
    for doc in (docs[0], docs[2]):
        assert [{k: (v.value, v.confidence) for k, v in f.fields.items()} for f in doc.forms] == \
               [{k: (v.value, v.confidence) for k, v in f.fields.items()} for f in alone]


def test_skewed_scan_is_straightened(tmp_path):
    """2.5° of skew: the same values are read."""
    import cv2

    doc = GOLDEN / "scan200_noisy.jpg"
    img = np.asarray(Image.open(doc).convert("L"))
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 2.5, 1.0)
    skewed = cv2.warpAffine(img, m, (w, h), borderValue=255)
    path = tmp_path / doc.name
    Image.fromarray(skewed).save(path, quality=92, dpi=(200, 200))
    _check(read_document(path, tmp_path), _expected(doc), path.name)
