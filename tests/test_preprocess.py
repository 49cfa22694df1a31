"""Page clean-up for scanners' quirks: uneven paper (binding shadow, tint), dithered bilevel scans, light scans.

Unit checks on synthetic pages, then whole forms: a born-digital form rendered at 300 dpi (pdfium), spoiled the way
a scanner spoils it, read with real Tesseract; its own text layer is the truth.
"""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from taxcheck.extract import read_document
from taxcheck.extract.prepare import ReadSettings, page_images
from taxcheck.ingest.pdf import render_pages
from taxcheck.layout.geometry import deskew_angle, rotate_image
from taxcheck.ocr.preprocess import (darkest_and_dropout, descreen, dropout_red, even_page, flatten_paper, is_blank,
                                     remove_rules)
from taxcheck.samples.quirks import photo

H, W = 1200, 900


def _text_page(paper: np.ndarray | float = 255.0, ink: float = 20.0) -> np.ndarray:
    """A grey page with a few dark bars of 'print' (glyph-sized) on ``paper``."""
    page = np.empty((H, W), np.float32)
    page[:] = paper
    for y in range(100, H - 100, 80):
        for x in range(80, W - 80, 40):
            page[y:y + 24, x:x + 6] = ink
    return page.clip(0, 255).astype(np.uint8)


def _dithered(level: float) -> np.ndarray:
    """A page of flat grey ``level`` with print, dithered to black and white (a scanner's photo mode)."""
    return np.asarray(Image.fromarray(_text_page(level)).convert("1").convert("L"))


def test_white_paper_is_left_alone():
    page = _text_page()
    assert flatten_paper(page) is page


def test_shadowed_paper_turns_white_and_print_stays_dark():
    shadow = np.linspace(110, 250, W, dtype=np.float32)[None, :].repeat(H, axis=0)  # a binding shadow at the left
    page = _text_page(shadow)
    out = flatten_paper(page)
    paper = _text_page(0.0, 255.0) == 0  # where the page has no print
    assert np.percentile(out[paper], 5) >= 235
    assert out[~paper].max() <= 80  # the print in the shadow too


def test_tinted_colour_paper_turns_white_in_every_channel():
    page = np.dstack([_text_page(232), _text_page(216), _text_page(196)])  # recycled paper
    out = flatten_paper(page)
    assert out.shape == page.shape
    assert np.median(out.reshape(-1, 3), axis=0).min() >= 250


def test_dithered_page_is_blurred_into_greys():
    page = _dithered(225)
    out = descreen(page)
    assert out is not page
    blank = out[20:80, 20:W - 20]  # paper above the print
    assert blank.std() < 12 and 190 < blank.mean() < 245


@pytest.mark.parametrize("page", [_text_page(), _dithered(255)], ids=["grey", "bilevel_clean"])
def test_pages_that_are_not_dithered_are_left_alone(page):
    rng = np.random.default_rng(0)
    specks = rng.random(page.shape) < 0.0005  # fax noise: a few lone specks
    page = page.copy()
    page[specks] = 0
    assert descreen(page) is page


def test_light_page_gives_boxes_and_page_pass_the_same_dark_print():
    page = np.dstack([_text_page(250, 175)] * 3)  # faint toner: print a light grey
    src, clean = page_images(page, ReadSettings())
    print_px = _text_page(0.0, 255.0) == 255
    assert np.median(src[print_px]) < 100 and np.median(clean[print_px]) < 100


# ---- whole forms, real Tesseract --------------------------------------------------------------------

FIELDS = ("payment_amount", "withholding_tax", "recipient_name", "payer_name", "otsu", "widow", "working_student")


@pytest.fixture(scope="module")
def form_page(tmp_path_factory):
    """(a born-digital form's text-layer values, its page rendered at 300 dpi as grey pixels)."""
    from conftest import write_born_digital_pdfs

    folder = tmp_path_factory.mktemp("quirks")
    pdf = write_born_digital_pdfs(folder, 1, seed=3)[0]
    truth = read_document(pdf, folder)
    grey = np.asarray(Image.fromarray(render_pages(pdf, 300)[0]).convert("L"), dtype=np.float32)
    return {f: truth.forms[0].value(f) for f in truth.forms[0].fields}, grey


def _shadow_and_tint(grey: np.ndarray) -> np.ndarray:
    h, w = grey.shape
    shade = 0.5 + 0.5 * np.clip(np.linspace(0, 4, h), 0, 1)[:, None]  # dark band along the top (binding)
    rgb = np.dstack([grey * 0.91, grey * 0.85, grey * 0.77]) * shade[..., None]  # recycled paper, then the shadow
    return rgb.clip(0, 255).astype(np.uint8)


def _dither(grey: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray((grey * 0.75 + 40).astype(np.uint8)).convert("1").convert("L"))


@pytest.mark.parametrize("spoil", [_shadow_and_tint, _dither], ids=["binding_shadow_on_tinted_paper", "dithered"])
def test_spoiled_scan_of_a_form_is_found_and_read(form_page, spoil, tmp_path):
    expected, grey = form_page
    assert even_page(spoil(grey)) is not spoil(grey)  # the quirk is one the clean-up acts on
    Image.fromarray(spoil(grey)).save(tmp_path / "scan.png", dpi=(300, 300))
    result = read_document(tmp_path / "scan.png", tmp_path)
    assert result.quarantined is None and len(result.forms) == 1
    got = {f: result.forms[0].value(f) for f in FIELDS}
    assert got == {f: expected[f] for f in FIELDS}


def _lean(grey: np.ndarray) -> np.ndarray:
    """Laid on a flatbed by hand: 7 degrees off, beyond a feeder's few."""
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 7, 0.92)
    return cv2.warpAffine(grey, m, (w, h), borderValue=255).astype(np.uint8)


def _photograph(grey: np.ndarray) -> np.ndarray:
    """Photographed at an angle: the far edge narrower (a perspective, not a similarity), and upside down."""
    h, w = grey.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + np.float32([[0.05 * w, 0.025 * h], [-0.015 * w, 0], [-0.03 * w, -0.01 * h], [0.01 * w, -0.03 * h]])
    warped = cv2.warpPerspective(grey, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=90)
    return np.ascontiguousarray(warped[::-1, ::-1]).astype(np.uint8)


@pytest.mark.parametrize("spoil", [_lean, _photograph], ids=["leaning_7_degrees", "photographed_at_an_angle"])
def test_leaning_or_photographed_form_is_found_and_read(form_page, spoil, tmp_path):
    expected, grey = form_page
    Image.fromarray(spoil(grey)).save(tmp_path / "scan.png", dpi=(300, 300))
    result = read_document(tmp_path / "scan.png", tmp_path)
    assert result.quarantined is None and len(result.forms) == 1
    assert {f: result.forms[0].value(f) for f in FIELDS} == {f: expected[f] for f in FIELDS}


def _photograph_from_the_side(grey: np.ndarray) -> np.ndarray:
    """Photographed from its right: the left edge 8 % shorter. Its ruled lines slant, and slanted rules survive
    the removal of upright runs (read as 1s, I's and E's in the address and 摘要)."""
    h, w = grey.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + np.float32([[0, 0.04 * h], [0, 0], [0, 0], [0, -0.04 * h]])
    return cv2.warpPerspective(grey, cv2.getPerspectiveTransform(src, dst), (w, h), borderValue=90).astype(np.uint8)


def _photograph_on_a_desk(grey: np.ndarray) -> np.ndarray:
    """The stress set's photograph (samples.quirks.photo): every corner moved inwards, desk, lamp light."""
    return photo(np.dstack([grey] * 3).astype(np.uint8), 300, random.Random(0))[0]


@pytest.mark.parametrize("spoil", [_photograph_from_the_side, _photograph_on_a_desk], ids=["from_the_side", "on_a_desk"])
def test_photographed_form_is_read_from_the_front(form_page, spoil, tmp_path):
    """Every field, not only the sample: a form photographed at an angle is warped to face the camera before its
    boxes are read (prepare.rectify). Read as it lay, the side view lost 源泉徴収税額 (27,400 read 0) and the desk
    view its 氏名."""
    expected, grey = form_page
    Image.fromarray(spoil(grey)).save(tmp_path / "photo.png", dpi=(300, 300))
    result = read_document(tmp_path / "photo.png", tmp_path)
    assert result.quarantined is None and len(result.forms) == 1
    form = result.forms[0]
    assert {f: form.value(f) for f in expected} == expected


def test_a_scanner_streak_goes_but_the_print_it_runs_through_stays():
    """A speck on a feeder's glass draws a dark line down the whole page. Where it runs through a row of print,
    glyph strokes cross it all along, which made it count as print: it stayed, and was read as a 1 or an I among
    the digits (70000 read 700). A page-long run is a rule or a streak, never print; the strokes crossing it keep
    their ink."""
    h, w = 1200, 1200  # rules are 30 px long at least
    page = np.full((h, w), 255, np.uint8)
    strokes = np.zeros((h, w), bool)  # where the glyphs' horizontal strokes lie
    for y in range(100, h - 100, 36):
        for x in range(100, w - 100, 32):
            cv2.rectangle(page, (x, y), (x + 24, y + 24), 20, 3)  # a 口-like glyph, shorter than a rule
            strokes[y - 2:y + 3, x - 2:x + 27] = strokes[y + 22:y + 27, x - 2:x + 27] = True
    x0 = 100 + 32 * 10 + 11  # down the middle of a column of glyphs
    page[:, x0:x0 + 3] = np.minimum(page[:, x0:x0 + 3], 90)  # the streak, a mid grey, from top to bottom
    clean = remove_rules(page)
    streak = np.zeros((h, w), bool)
    streak[:, x0:x0 + 3] = True
    assert (clean[streak & ~strokes] > 200).all()  # gone between the strokes, within the rows of print too
    crossing = streak & strokes & (page == 20)
    assert crossing.any() and (clean[crossing] < 128).mean() > 0.9  # the glyphs it crossed are still whole
    assert (clean[~streak] == page[~streak]).all()  # nothing else was touched


def test_blank_backs_are_blank_and_faint_forms_are_not(form_page):
    """A duplex scan's back (grey paper, noise, the front bleeding through faintly) holds no print; a form scanned
    with low contrast on tinted paper, or in faded toner, does."""
    _, grey = form_page
    rng = np.random.default_rng(1)
    back = 235 - (255 - grey[:, ::-1]) * 0.15 + rng.normal(0, 3, grey.shape)
    assert is_blank(even_page(back.clip(0, 255).astype(np.uint8)))
    assert is_blank(even_page(np.full((H, W), 250, np.uint8)))
    low_contrast = 120 + grey * (205 - 120) / 255  # print a mid grey, paper a light grey
    assert not is_blank(even_page(low_contrast.astype(np.uint8)))
    faded = grey.copy()
    faded[rng.random(grey.shape) < 0.6] = 255  # most of the toner gone
    assert not is_blank(even_page(faded.astype(np.uint8)))


def _stamp(page: np.ndarray, centre: tuple[int, int], radius: int, alpha: float = 0.8) -> None:
    """A seal's ring in red paste laid over ``page`` (RGB) with ``alpha`` of cover, as a stamp over print."""
    ring = np.zeros(page.shape[:2], np.uint8)
    cv2.circle(ring, centre, radius, 1, 8)
    cv2.circle(ring, centre, int(radius * 0.86), 1, 6)
    m = ring.astype(bool)
    page[m] = (alpha * np.array([214, 31, 36]) + (1 - alpha) * page[m]).astype(np.uint8)


def _sealed_page() -> np.ndarray:
    """An A4 page at 200 dpi: a stroke of print a seal's ring crosses, and an orange drop-out rule above it."""
    page = np.full((2339, 1654, 3), 255, np.uint8)
    page[1000:1012, 600:900] = 0
    page[300:306, 100:1500] = (230, 120, 60)
    _stamp(page, (760, 1060), 80)
    return page


def test_print_under_a_seal_stays_dark_and_the_seal_goes():
    """A seal's paste hides the print under it: the plain drop-out (max of R and luminance) made a digit's strokes
    under the ring a light grey (~170), and a slashed 0 read 9 on every form of that payer. Within a seal the print
    is now black again and the ring over paper white; a drop-out form's long red rules are dropped as before."""
    page = _sealed_page()
    under = (page[1000:1012, 600:900, 0] > 150)  # the stroke's pixels under the ring (red now)
    assert under.sum() > 100
    out = dropout_red(page)
    plain = np.maximum(cv2.cvtColor(page, cv2.COLOR_RGB2GRAY), page[:, :, 0])
    assert plain[1000:1012, 600:900][under].mean() > 150  # the old drop-out: print under the ring light
    assert out[1000:1012, 600:900][under].max() < 60  # now: black
    ring = (page[:, :, 0] > 150) & (page[:, :, 1] < 100)
    ring[1000:1012, 600:900] = False
    ring[300:306] = False
    assert np.percentile(out[ring], 5) > 240  # the ring over paper goes
    assert np.array_equal(out[300:306], plain[300:306])  # the drop-out rule is what it was
    assert np.array_equal(out[:900], plain[:900]) and np.array_equal(out[1200:], plain[1200:])  # nothing else moves


def test_the_page_pass_sees_print_under_a_seal_and_red_labels_elsewhere():
    """The page pass reads each pixel's darkest channel, where a drop-out form's red labels are as dark as black print;
    a seal's paste was as dark there too, and the payer's name under it read as a blot. Within a seal the print is
    black and the ring over paper white now; a red rule elsewhere stays as dark as before. The drop-out made with
    it is :func:`dropout_red`'s."""
    page = _sealed_page()
    out, dropped = darkest_and_dropout(page)
    assert np.array_equal(dropped, dropout_red(page))
    plain = page.min(axis=2)
    under = page[1000:1012, 600:900, 0] > 150
    assert out[1000:1012, 600:900][under].max() < 60
    ring = (page[:, :, 0] > 150) & (page[:, :, 1] < 100)
    ring[1000:1012, 600:900] = False
    ring[300:306] = False
    assert np.percentile(plain[ring], 95) < 100 and np.percentile(out[ring], 5) > 240  # was dark, now paper
    assert np.array_equal(out[:900], plain[:900]) and np.array_equal(out[1200:], plain[1200:])  # the red rule too


@pytest.mark.parametrize("skew", [-8.6, -3.2, 0.8, 6.4])
def test_skew_is_found_over_the_whole_search_range(skew):
    # a real 200 dpi scan, light and noisy, that lies ~1.9° askew, turned further by hand: the search must move by
    # the turn. The corners a turn brings in count as paper: as ink they outweighed this page's print, and every
    # turn measured ±0.2° (the page was read askew)
    page = np.asarray(Image.open(Path(__file__).parent / "golden" / "scan200_noisy.jpg").convert("RGB"))
    own = deskew_angle(page)
    assert 1.5 < abs(own) < 2.5
    assert deskew_angle(rotate_image(page, skew)) == pytest.approx(own - skew, abs=0.15)
