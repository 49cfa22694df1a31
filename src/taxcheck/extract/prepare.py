"""One page → upright, straight image with its words, and the forms located on it.

Text-layer pages keep their exact words. Scanned pages have their paper evened out (shadows, tints,
dithering), are deskewed and OCRed once (full page, ruled lines removed); if no form title is found,
the page may be on its side or upside down: a portrait page is turned upside down, then Tesseract OSD
proposes a turn, then the other turns are tried, each verified by finding a title (a landscape page, most
often a form on its side, asks OSD first); a low-resolution page that still shows no form is read once more,
enlarged. A form photographed at an angle is seen from the front before its boxes are read (:func:`rectify`).
The pages of a lot of files are prepared side by side (:func:`prepare_pages`), their page passes read together.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from taxcheck.extract.crops import cut_out
from taxcheck.layout.geometry import rotate_bound, straighten
from taxcheck.layout.lines import Line, group_lines
from taxcheck.layout.locate import FrameFit, LocatedForm, locate_forms, map_rect
from taxcheck.layout.snap import fit_frame, line_masks
from taxcheck.layout.template import Layout
from taxcheck.ocr.base import OcrEngine, OcrUnavailable
from taxcheck.ocr.preprocess import (clean_for_ocr, darkest_and_dropout, even_page, is_blank, light_page_levels,
                                     remove_rules, stretch_greys, to_grey)
from taxcheck.records import BBox, Page, Word

log = logging.getLogger(__name__)

# The page pass reads a finer scan at 200 dpi, as it reads the 200 dpi scans and faxes that the forms are found
# on as well: it only locates the forms (labels of 9 pt and more) and gives the second opinions of page_read;
# every value is read again from the full-resolution page. Measured with Tesseract's inverted reading off
# (ocr/tesseract.py) on 103 scanned files of the benchmark (session 19): the same values on every form, the
# reading time 10 % less; the page pass of a 300 dpi page took 32 % less time (200 dpi pages: 8 %). On the whole
# benchmark, 300 dpi files: 17 fields newly wrong and 9 newly right, 6 of the 17 one payer's settled address.
PAGE_PASS_DPI = 200
# ...but a form printed small (a 4-up sheet: ~0.6 of its size) shrunk so would be read at ~120 dpi, too little for
# its labels: where the shrunk pass finds a form printed so small, or none at all, the page is read at its own size.
# (A 2-up sheet's forms, ~0.8 of their size, read at ~160 dpi shrunk and are found as well as at 300.)
SMALL_PRINT_DPI = 140
UPSCALE_BELOW_DPI = 250  # pages scanned below this get one enlarged OCR pass when no form was found
UPSCALE = 1.5
ASK_OSD = -1  # in the turns to try: the one Tesseract's OSD proposes
# OSD takes about as long as a page pass at the page's own size (~2.3 s), half as long on a grey copy at 150 dpi,
# where it found the same turn on 46 of the benchmark's 48 pages on their side and abstained on the other two
# (session 20): an abstention asks again at full size.
OSD_DPI = 150
BOX_UPSCALE = 2.0  # a box read again on its own (the year beside the title) is enlarged so much


@dataclass(frozen=True)
class ReadSettings:
    """Knobs of the reading stage (checked on creation)."""

    ocr_dropout_red: bool = False  # drop red/orange ink before OCR (when labels are printed black)
    try_rotations: bool = True
    max_ocr_passes: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.max_ocr_passes <= 4:
            raise ValueError("max_ocr_passes must be 1..4")


@dataclass
class PreparedPage:
    page: Page  # image upright and straight; words in its pixels
    clean: np.ndarray  # grey, red dropped, rules removed
    lines: list[Line]
    forms: list[LocatedForm] = field(default_factory=list)
    skew: float = 0.0
    ocr_passes: int = 0


def page_images(image: np.ndarray, settings: ReadSettings) -> tuple[np.ndarray, np.ndarray]:
    """(what the full-page OCR reads, the clean page the boxes are cut from), both with rules removed.

    The page pass reads the darkest channel, so that labels printed in red/orange drop-out ink read as
    well as black ones (a seal lifted off the print it covers); the boxes are cut from the page with red
    dropped. A page scanned light has both stretched alike. On a grey page the two are the same image, and its
    rules are removed once (~0.2 s of a 300 dpi page)."""
    darkest, clean_grey = darkest_and_dropout(image)
    grey = clean_grey if settings.ocr_dropout_red else darkest
    levels = light_page_levels(grey)
    if levels is not None:  # both images stretched alike, or the boxes are cut from a page too light to hold ink
        grey, clean_grey = stretch_greys(grey, *levels), stretch_greys(clean_grey, *levels)
    src = remove_rules(np.ascontiguousarray(grey))
    return src, src if np.array_equal(grey, clean_grey) else remove_rules(clean_grey)


# A page's preparation is a generator: it yields each image its page pass is to read and is sent that image's
# words, so that prepare_pages reads the page passes of many pages in one Tesseract run.
Passes = Generator[np.ndarray, list[Word], "PreparedPage"]
PagePass = tuple[list[Word], list[Line], list[LocatedForm]]  # a page pass's words, their lines, the forms found


def _attempt(page: Page, image: np.ndarray, rotation: int, engine: OcrEngine, layout: Layout,
             year_hint: int | None, settings: ReadSettings, scale: float | None = None) -> Passes:
    """The page turned by ``rotation``, straightened, cleaned, read by the page pass and its forms located. The
    page pass reads the page resized by ``scale``; by default shrunk to :data:`PAGE_PASS_DPI`, and once more at
    its own size when a form found there is printed small (:data:`SMALL_PRINT_DPI`)."""
    img = rotate_bound(image, rotation // 90)
    img, skew = straighten(img)
    src, clean = page_images(img, settings)
    shrunk = scale is None
    scale = _shrink_to(PAGE_PASS_DPI, page.dpi) if shrunk else scale
    frame = _frame_fitter(img)
    words, lines, forms = yield from _page_pass(src, scale, page.dpi, engine, layout, year_hint, frame)
    if shrunk and scale < 1.0 and forms and min(f.scale for f in forms) * 25.4 * scale < SMALL_PRINT_DPI:
        words, lines, forms = yield from _page_pass(src, 1.0, page.dpi, engine, layout, year_hint, frame)
    upright = Page(page.source, page.page_no, img, page.dpi, words, "ocr", rotation)
    return PreparedPage(upright, clean, lines, forms, skew, 1)


def _page_pass(src: np.ndarray, scale: float, dpi: float, engine: OcrEngine, layout: Layout,
               year_hint: int | None, frame: FrameFit | None = None) -> Generator[np.ndarray, list[Word], PagePass]:
    """The full-page OCR of ``src`` resized by ``scale`` (its words in ``src``'s pixels), its lines, its forms."""
    words = yield src if scale == 1.0 else cv2.resize(src, None, fx=scale, fy=scale,
                                                      interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    if scale != 1.0:
        words = [Word(w.text, w.confidence, BBox(w.bbox.x0 / scale, w.bbox.y0 / scale,
                                                 w.bbox.x1 / scale, w.bbox.y1 / scale)) for w in words]
    lines = group_lines(words)
    return words, lines, locate_forms(lines, layout, dpi, year_hint, _box_reader(src, engine), frame)


def _frame_fitter(img: np.ndarray) -> FrameFit:
    """Fits a form version's ruled frame to the rules of the page ``img`` (rules kept) near a title's guess
    (:func:`taxcheck.layout.snap.fit_frame`); the page's rules are found on the first call only."""
    masks: list = []

    def fit(version, init: np.ndarray):
        if not masks:
            masks.append(line_masks(img, float(np.hypot(init[0, 0], init[1, 0]))))
        return fit_frame(masks[0], init, version.cells, version.size_mm)
    return fit


def _shrink_to(target_dpi: float, dpi: float | None) -> float:
    """How much a page scanned at ``dpi`` is shrunk to be read at ``target_dpi``: from a finer scan, else not at all
    (the page pass to :data:`PAGE_PASS_DPI`, OSD to :data:`OSD_DPI`)."""
    return target_dpi / dpi if dpi and dpi > target_dpi * 1.05 else 1.0


def _box_reader(src: np.ndarray, engine: OcrEngine):
    """Reads one box of the page on its own, as a line, enlarged: the year beside the title, when the page pass
    lost it (a fax's 令和5年分 read 信和年 among the page's other words; alone and enlarged it reads 5年)."""
    def read(box: BBox) -> str:
        pad = box.height * 0.5
        crop = cut_out(src, BBox(box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + pad))
        crop = cv2.resize(crop, None, fx=BOX_UPSCALE, fy=BOX_UPSCALE, interpolation=cv2.INTER_CUBIC)
        return "".join(w.text for w in engine.read_words(crop, mode="line"))
    return read


def _orientation(image: np.ndarray, dpi: float | None, engine: OcrEngine) -> int | None:
    """The turn OSD proposes for the page, asked of a grey copy at :data:`OSD_DPI` first, at full size if unsure."""
    scale = _shrink_to(OSD_DPI, dpi)
    if scale < 1.0:
        turn = engine.orientation(cv2.resize(to_grey(image), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
        if turn is not None:
            return turn
    return engine.orientation(image)


def prepare_page(page: Page, engine: OcrEngine, layout: Layout, year_hint: int | None = None,
                 settings: ReadSettings = ReadSettings()) -> PreparedPage:
    """Upright page, its words and the forms on it (``forms`` empty when none was found)."""
    [prepared] = prepare_pages([page], engine, layout, year_hint, settings)
    if isinstance(prepared, Exception):
        raise prepared
    return prepared


def prepare_pages(pages: list[Page], engine: OcrEngine, layout: Layout, year_hint: int | None = None,
                  settings: ReadSettings = ReadSettings()) -> list[PreparedPage | Exception]:
    """:func:`prepare_page` of each page, or the exception its preparation raised (one bad page does not stop the
    others; only OcrUnavailable is raised). Their page passes are read together, one Tesseract run for every
    page's first pass, one for the second passes of the pages that need one, and so on: a run costs ~0.1 s to
    start, and each image is still read as a page of its own, to the same words. Should a shared run fail, each
    image of it is read alone, and fails its page alone."""
    done: list[PreparedPage | Exception | None] = [None] * len(pages)
    waiting: dict[int, tuple[Passes, np.ndarray]] = {}

    def advance(i: int, passes: Passes, words: list[Word] | Exception | None) -> None:
        """Run page ``i``'s preparation on to its next page pass (given the last one's words), or to its end."""
        try:
            if isinstance(words, Exception):
                image = passes.throw(words)
            else:
                image = next(passes) if words is None else passes.send(words)
            waiting[i] = (passes, image)
        except StopIteration as stop:
            done[i] = stop.value
        except OcrUnavailable:
            raise
        except Exception as e:  # noqa: BLE001 - the page fails, not the lot
            done[i] = e

    for i, page in enumerate(pages):
        advance(i, _prepare_rectified(page, engine, layout, year_hint, settings), None)
    while waiting:
        batch = sorted(waiting.items())
        waiting.clear()
        images = [image for _, (_, image) in batch]
        try:
            read: list = engine.read_words_batch(images, mode="page")
        except OcrUnavailable:
            raise
        except Exception:  # noqa: BLE001 - one image's fault: each is read alone, and fails its page alone
            read = [_read_alone(engine, image) for image in images]
        for (i, (passes, _)), words in zip(batch, read):
            advance(i, passes, words)
    return done  # type: ignore[return-value]


def _read_alone(engine: OcrEngine, image: np.ndarray) -> list[Word] | Exception:
    """One page pass's words, or the exception that reading it raised (for :func:`prepare_pages` to pass on)."""
    try:
        return engine.read_words(image, mode="page")
    except OcrUnavailable:
        raise
    except Exception as e:  # noqa: BLE001
        return e


def _prepare_rectified(page: Page, engine: OcrEngine, layout: Layout, year_hint: int | None,
                       settings: ReadSettings) -> Passes:
    """A page's whole preparation: :func:`_prepare`, then :func:`rectify`."""
    return rectify((yield from _prepare(page, engine, layout, year_hint, settings)), settings)


def rectify(prepared: PreparedPage, settings: ReadSettings = ReadSettings()) -> PreparedPage:
    """A lone form whose fit is a homography (a sheet photographed at an angle) seen from the front: the page
    warped so that the form is a similarity of its template again, at its scale and about its centre. Its
    ruled lines are straight and upright again, as the reading of every box needs (the rules are removed
    by their upright runs, a digit-per-cell number is cut along its cells; on a photograph's slanted rules
    both left strokes that read as 1s and I's). The page pass's words move with the page; the boxes are
    cut from the warped page, and the report's crops too. Several forms on a page stay as they are, and so does
    a born-digital page.

    Measured on a stress set of 60 forms (seed 8), after the homography's fit by MAGSAC: 187 → 186 fields wrong;
    the photographs 2 → 0 and 2 → 1, a crumpled sheet (no homography fits it well) 6 → 9, a faded one 5 → 2.
    On six photographs of a generated form (samples.quirks.photo), with the old fit unwarped 8 fields wrong, 3
    now."""
    if prepared.page.text_source != "ocr" or len(prepared.forms) != 1 or not np.any(prepared.forms[0].matrix[2, :2]):
        return prepared  # a text layer's words are where the PDF put them
    form = prepared.forms[0]
    w_mm, h_mm = form.version.size_mm
    s = form.scale
    cx, cy = form.to_page(w_mm / 2, h_mm / 2)
    front = np.array([[s, 0.0, cx - s * w_mm / 2], [0.0, s, cy - s * h_mm / 2], [0.0, 0.0, 1.0]])
    warp = front @ np.linalg.inv(form.matrix)
    page = prepared.page
    size = (page.image.shape[1], page.image.shape[0])
    image = cv2.warpPerspective(page.image, warp, size, flags=cv2.INTER_LINEAR,
                                borderValue=(255, 255, 255) if page.image.ndim == 3 else 255)
    words = [Word(wd.text, wd.confidence, map_rect(warp, (wd.bbox.x0, wd.bbox.y0, wd.bbox.x1, wd.bbox.y1)))
             for wd in page.words or []]
    return replace(prepared, page=replace(page, image=image, words=words), clean=page_images(image, settings)[1],
                   lines=group_lines(words), forms=[replace(form, matrix=front)])


def _prepare(page: Page, engine: OcrEngine, layout: Layout, year_hint: int | None,
             settings: ReadSettings) -> Passes:
    if page.text_source == "text_layer" and page.words:
        lines = group_lines(page.words)
        forms = locate_forms(lines, layout, page.dpi, year_hint)
        if forms:
            return PreparedPage(page, clean_for_ocr(page.image), lines, forms)
        log.info("page %d: text layer holds no form title; OCR instead", page.page_no)
    image = even_page(page.image)
    grey = to_grey(image)
    if is_blank(grey):  # no OCR at all: the file's other pages say whether it holds a form
        log.info("page %d is blank: not read", page.page_no)
        return PreparedPage(page, grey, [], [])
    # a landscape page most often holds a portrait form on its side: OSD is asked before the first pass
    landscape = image.shape[1] > image.shape[0]
    osd = _orientation(image, page.dpi, engine) if settings.try_rotations and landscape else None
    first = osd or 0
    best = yield from _attempt(page, image, first, engine, layout, year_hint, settings)
    tried = [first]
    if best.forms or not settings.try_rotations:
        return best
    passes = 1
    # a portrait page that shows no form is most often upside down: that turn is tried before OSD is asked
    # (OSD takes half as long as a page pass or more)
    candidates = ([180, ASK_OSD] if not landscape else [ASK_OSD]) + [0, 180, 90, 270]
    for rot in candidates:
        if passes >= settings.max_ocr_passes:
            break
        if rot == ASK_OSD:
            osd = _orientation(image, page.dpi, engine) if not landscape else osd
            rot = osd
        if rot is None or rot in tried:
            continue
        tried.append(rot)
        attempt = yield from _attempt(page, image, rot, engine, layout, year_hint, settings)
        passes += 1
        if attempt.forms:
            attempt.ocr_passes = passes
            return attempt
    # small print of a low-resolution scan (200 dpi fax, noisy JPEG) can be too small for Tesseract to
    # read the anchor labels: once more, enlarged, the right way up as far as OSD can tell; a finer scan's small
    # print (a 4-up sheet), once more at its own size
    low = bool(page.dpi and page.dpi < UPSCALE_BELOW_DPI)
    if low or _shrink_to(PAGE_PASS_DPI, page.dpi) < 1.0:
        rot = osd if osd is not None else 0
        attempt = yield from _attempt(page, image, rot, engine, layout, year_hint, settings, UPSCALE if low else 1.0)
        passes += 1
        if attempt.forms:
            attempt.ocr_passes = passes
            return attempt
    best.ocr_passes = passes
    return best
