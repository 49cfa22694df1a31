"""OCR of field boxes cropped from the cleaned page (the scan path).

Measured on generated forms (bench/read_bench.md): one full-page OCR pass finds titles and anchor
labels well, but its values inside ruled boxes suffer from frame remnants, printed 千/円 marks and
neighbouring text. Reading each non-empty box on its own, with the right settings (digits only
for amounts, numbers and dates; katakana only for フリガナ), is far more accurate.

* Tesseract costs ~0.2 s per call to start (the model loads each time), so all boxes of one form
  are stacked into one tall image per kind and the words are sent back by vertical position, and the
  images read the same way (of one form, or of a 2-up sheet's two) go to one Tesseract run: five calls
  per sheet instead of ~35 per form. Images stay apart: rows of two sizes in one image read worse.
* Digit boxes are read three times (eng, jpn, eng at another size); two readings that agree against
  the first win, and any disagreement lowers the confidence. The box is then cut into its glyphs
  (_tall_glyphs): a digit whose glyph has a zero's shape is 0, and a reading with more or fewer digits
  than glyphs (a short box, or an amount whose thousands group is not 3 digits) is read glyph by glyph.
  An unsure box whose glyphs each look likest the digit read, among the form's surely read glyphs, is sure.
* Names and addresses are read line-whole (kanji are read better in context). Tesseract's word boxes
  are too loose to tell a real space (氏 and 名, before a building name) from the gap between two kanji,
  so each line is also cut at its wide blank gaps and read segment by segment; the spaces of that
  reading are carried over to the whole-line reading.
* フリガナ lines are read whole, once as printed and once stretched (half-width kana); the single
  space goes at the widest gap, placed by the fixed pitch of kana.
* 個人番号/法人番号 are printed one digit per ruled cell: the cells' interiors are cut out and put
  side by side, so no frame line is ever read as a "1".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from itertools import pairwise

import cv2
import numpy as np

from taxcheck.extract.words import join_words, mean_confidence
from taxcheck.ocr.base import OcrEngine
from taxcheck.ocr.preprocess import binarize, stretch_greys
from taxcheck.records import BBox, Word

ROW_GAP_PX = 36
LEFT_PAD_PX = 24
MAX_UPSCALE = 3.0
# Font size (px) the crops are scaled to. Measured on 83 scanned forms (fields wrong at 26/32/40/48/64 px):
# digits 57/34/52/53/61, names and addresses 115/122/118/133/150: smaller than the 30–50 px often advised.
TEXT_EM_PX = 36
DIGIT_EM_PX = 32
VOTE_EM_PX = 48  # a second eng reading of every digit box at this size: one of three votes
EMPTY_INK_SHARE = 0.004  # below this share of ink pixels a box is blank (no OCR call)
STUB_SHARE = 0.55  # in a digit box, words shorter than this share of the tallest are stubs of marks
GROW_EM = 0.45
OVERFLOW_EM = 0.3  # how far a box's own glyphs may stick out of it  # boxes are cut this much (in em) taller on each side, then foreign lines dropped
MIN_INK_EM2 = 0.012  # …or fewer ink pixels than this many em² (a printed "1" has ~0.03–0.05 em²)
INK_LEVEL = 165  # darker than this counts as ink when deciding whether a box is blank (faint 200 dpi strokes)
FAINT_INK_LEVEL = 90  # a box whose darkest ink is lighter than this was scanned light (see _darken_faint)…
FAINT_INK_MAX = 150  # …unless lighter than this too: drop-out ink's remnants and haze (170–200), not print
WHITE_LEVEL = 205  # lighter than this is paper (drop-out ink remnants, JPEG haze); thin Mincho strokes of 200 dpi scans are darker
MIN_EM_PX = 4.0  # floor of a box's font size in pixels
SPACE_EM = 0.55  # a blank gap wider than this share of the font size is a space
NARROW_EM = 0.38
NARROW_EXTRA_EM = 0.3
# column runs closer than this are strokes of one glyph (パ, ハ, 川; a squeezed ハ's stand 0.2 em apart) when judging
# narrowness
STROKE_GAP_EM = 0.3
YEN_MIN_WIDTH_EM = 0.65  # a trailing 円 is ~0.75 em wide, a digit ~0.4–0.55 em
YEN_TALLER = 1.12  # …and ~1.2× as tall as the digits before it
YEN_MAX_WIDTH_EM = 1.1  # three digits a fax's blur joined into one run (311,046) are ~1.4 em wide: no 円
DISAGREEMENT_PENALTY = 0.7  # confidence factor when the readings of a digit box differ
ALONE_PENALTY = 0.9  # confidence factor of a box the stacked read found nothing in, read again on its own
# The least confidence of a digit box that readings agree on, by how many agree (the third abstaining or not).
# Tesseract's eng scores a lone 1 or an 11 at 0 to 0.2; on 116 forms of the benchmark seed these floors took
# right birth dates marked unsure from 10 to 4 and right withholding taxes from 12 to 9; of its two misread
# digit fields, a birth date stayed at 0.61 and a 社会保険料 went from 0.40 to 0.49.
AGREED = {2: 0.6, 3: 0.8}
SEGMENT_PAD_EM = 0.12  # white margin kept around each cut-out line
KATAKANA_SPACE_EM = 1.0  # between two katakana, only a gap this wide is a space
KANA_STRETCH = 1.8  # width factor that gives half-width kana full-width proportions
KANA_SPACE_PITCH = 0.5  # the widest gap of a フリガナ line is a space when it is this share of the character pitch
TALL_LINE_EM = 1.5  # a run of rows taller than this is two lines joined by haze (see _split_tall)
LINE_EDGE_EM = 0.4  # …cut no nearer its ends than this
VALLEY_SHARE = 0.2  # …and only at a row this much fainter than the run's median row
GLYPH_MIN_WIDTH_EM = 0.08  # a digit is at least this wide (a Mincho 1's stem at 200 dpi is ~0.1 em)
GLYPH_EDGE_EM = 0.2  # …and stands this far from the crop's sides (a frame line's remnant does not)…
EDGE_GLYPH_WIDTH_EM = 0.3  # …unless this wide: a digit printed flush to its box's edge (a remnant is a thin stroke)
GLYPH_MAX_WIDTH_EM = 0.62  # a wider component is digits touching…
DIGIT_PITCH_EM = 0.5  # …as many as fit at this pitch (digits are half-width)
GLYPH_HEIGHT_EM = (0.45, 1.1)  # …and this tall: a comma or a dot is shorter, a frame remnant taller
FLAT_EM = 0.15  # a flat stroke lower than this share of the font size is a rule's remnant
BAR_WIDTH_EM = 0.15  # a stem: rows of ink no wider than this…
BAR_DRIFT_EM = 0.1  # …whose centres move no more than this over the middle of the glyph
MAX_GLYPH_RECHECK = 4  # digit boxes of up to this many glyphs are re-read glyph by glyph when digits went missing,
UNSURE_DIGITS = 0.5  # or when more were read than there are glyphs, at a confidence below this…
BROKEN_GROUP = re.compile(r"[,\s](?!\s?\d{3}(?!\d))")  # …and longer ones whose thousands group is not 3 digits
ZERO_PAD_EM = 0.25  # margin cut around a digit word of a text line: its glyphs' edges lie a little outside the box
ZERO_SIDE_EM = 1.5  # …and at its sides, to hold the characters on either side
# From this size of a line's em up (300 dpi 1-up, ~37 px), a 0, 6, 8 or 9 shows its loop, and pairing one with a glyph
# that has none costs LOOPLESS_COST more (サンハイツ308 read 3908 paired its 9 with the 3). Smaller, a blurred 6 closes
# up (2-up メゾン石神井602 would read 02). On 1,565 recorded address boxes of five seeds: 1 more mended, 1 fewer broken.
LOOP_MIN_EM_PX = 30
LOOPLESS_COST = 0.4
SPECK_EM = 0.1  # ink narrower and shorter than this share of the font size is noise, not a glyph
SLASH_HALVES = 0.4  # the two holes of a slashed zero: the smaller at least this share of the larger…
SLASH_OVERLAP = 0.2  # …side by side over this share of their height (at 200 dpi the slash leaves them diagonal)…
SLASH_SPAN = 0.5  # …and together over this share of the glyph's height
ZERO_HOLE_HEIGHT = 0.7  # a zero's one hole runs at least this share of its height (a 9's loop ≤ ~0.65)…
ZERO_HOLE_OFFSET = 0.1  # …centred within this share of it
CELL_SHRINK = 0.16  # share of a digit cell trimmed on every side (the frame)
INK_UNREAD_CONFIDENCE = 0.4  # a text box with lines of ink in which no reading found a character
SURE_DIGITS = 0.9  # digit boxes read less surely than this are confirmed by the form's own samples of each digit…
SAMPLE_DIGITS = 0.8  # …the glyphs of the other boxes read at least this surely (three readings that agree: AGREED[3])
GLYPH_MARGIN = 0.1  # …and an unsure box's glyph is the digit read when it is likest that digit's samples by this much
GLYPH_AGREED = 0.9  # confidence of an unsure box whose every glyph looks likest the digit read
GLYPH_PX = 32  # glyphs are compared scaled to this height…
GLYPH_BLUR = 1.0  # …and blurred this much (px), so that a pixel's shift costs little
DEBUG_DIR = None  # set to a folder to keep the stacked images (development only)


@dataclass
class BoxRequest:
    """One box to read: ``kind`` is digits · text · kana; ``cells`` for one-digit-per-cell boxes."""

    key: object
    box: BBox
    kind: str
    em_px: float  # font size in page pixels
    blank: tuple[BBox, ...] = ()
    cells: tuple[BBox, ...] = ()
    valid: Callable[[str], bool] | None = None  # format check of the digits (check digit)

    @property
    def em(self) -> float:
        """The font size the crops are measured in: ``em_px``, floored so that a bad fit cannot shrink it to nothing."""
        return max(MIN_EM_PX, self.em_px)


@dataclass
class BoxRead:
    text: str
    confidence: float
    words: list[Word]
    # digit box: the digits of the readings the vote set aside; ("",) when two agreed and the third read nothing
    # (see _recheck_digit_count)
    others: tuple[str, ...] = ()


def cut_out(grey: np.ndarray, box: BBox) -> np.ndarray:
    """A copy of the page inside ``box`` (clipped to the page; a white 8×8 when less than 3 px is left)."""
    h, w = grey.shape[:2]
    x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
    x1, y1 = min(w, int(box.x1 + 0.5)), min(h, int(box.y1 + 0.5))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return np.full((8, 8), 255, np.uint8)
    return grey[y0:y1, x0:x1].copy()


def crop(grey: np.ndarray, box: BBox, blank: tuple[BBox, ...] = (), em_px: float = 0.0) -> np.ndarray:
    """The box cut out of ``grey``: marks in ``blank`` painted white, rules and specks removed, paper white."""
    c = cut_out(grey, box)
    for b in blank:
        bx0, by0 = int(max(b.x0 - box.x0, 0)), int(max(b.y0 - box.y0, 0))
        bx1, by1 = int(min(b.x1 - box.x0 + 1, c.shape[1])), int(min(b.y1 - box.y0 + 1, c.shape[0]))
        if bx1 > bx0 and by1 > by0:
            c[by0:by1, bx0:bx1] = 255
    c[c > WHITE_LEVEL] = 255
    c = _darken_faint(c)
    bw = binarize(c)
    ch, cw = c.shape
    long_v = max(3, int(max(ch * 0.8, em_px * 1.6)))
    long_h = max(3, int(max(em_px * 2.5, min(cw, ch * 4) * 0.9)))
    vert = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, min(long_v, ch))))
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (min(long_h, cw), 1)))
    mask = cv2.dilate(cv2.bitwise_or(vert, horiz), np.ones((3, 3), np.uint8))
    c[mask > 0] = 255
    return _despeckle(c, em_px)  # specks (fax noise, dust): components far smaller than a stroke


def _darken_faint(c: np.ndarray) -> np.ndarray:
    """A box scanned light (its darkest ink a mid grey: 113 on a pale 200 dpi scan) with its greys stretched
    so that ink is black and paper stays white. Lines are found and read on ink darker than 128, so such
    a フリガナ line read as blank, and its form was flagged as missing one. Greys lighter still are a blank
    box's drop-out ruling or haze: stretched, they read as text."""
    ink = c[c < WHITE_LEVEL]
    if ink.size == 0:
        return c
    darkest = float(np.percentile(ink, 1))  # a speck of dust is not the ink's darkness
    if not FAINT_INK_LEVEL < darkest <= FAINT_INK_MAX:
        return c
    return stretch_greys(c, darkest, WHITE_LEVEL)


def has_ink(c: np.ndarray, em_px: float = 0.0) -> bool:
    """Whether a cleaned crop holds anything printed: at least a thin stroke's worth of ink."""
    n = int((c < INK_LEVEL).sum())
    if em_px > 0:
        return n >= max(8, MIN_INK_EM2 * em_px * em_px)
    return n / max(1, c.size) >= EMPTY_INK_SHARE


def _split_tall(profile: np.ndarray, runs: list[tuple[int, int]], em_px: float) -> list[tuple[int, int]]:
    """Runs of rows taller than a line cut at their faintest row: haze or a dotted ruling between two
    lines of a skewed or noisy scan joins them into one run, whose centre then passes for the box's own
    line and brings the neighbour's text with it."""
    out = []
    todo = list(runs)
    while todo:
        y0, y1 = todo.pop()
        edge = int(LINE_EDGE_EM * em_px)
        if y1 - y0 <= TALL_LINE_EM * em_px or y1 - y0 <= 2 * edge + 1:
            out.append((y0, y1))
            continue
        inner = profile[y0 + edge:y1 - edge]
        m = y0 + edge + int(np.argmin(inner))
        if profile[m] > VALLEY_SHARE * np.median(profile[y0:y1]):
            out.append((y0, y1))  # no clear valley: one tall thing (a large glyph, a seal)
            continue
        todo += [(y0, m), (m + 1, y1)]
    return sorted(out)


def _keep_lines_inside(c: np.ndarray, margin_px: float, em_px: float) -> np.ndarray:
    """White out text lines whose centre lies in the extra margin (the neighbouring box's text):
    the crop is cut a little larger than the box so that a slightly misplaced box still holds its
    text whole. Faint print counts here (a neighbour's label half washed out by drop-out is still
    something Tesseract reads)."""
    profile = (c < WHITE_LEVEL).sum(axis=1)
    h = c.shape[0]
    for y0, y1 in _split_tall(profile, _runs(profile, max(1, em_px * 0.05)), em_px):
        cy = (y0 + y1) / 2
        if cy < margin_px or cy > h - margin_px:
            c[y0:y1] = 255
    return c


def _runs(profile: np.ndarray, min_gap: float) -> list[tuple[int, int]]:
    """Runs of non-zero entries, merging runs separated by fewer than ``min_gap`` zeros."""
    idx = np.flatnonzero(profile)
    if idx.size == 0:
        return []
    runs = []
    start = prev = int(idx[0])
    for i in idx[1:]:
        i = int(i)
        if i - prev - 1 >= min_gap:
            runs.append((start, prev + 1))
            start = i
        prev = i
    runs.append((start, prev + 1))
    return runs


def _glyph_runs(ink: np.ndarray, em_px: float, min_gap: float | None = None) -> list[tuple[int, int]]:
    """Column runs of a line's ink (``ink``: a boolean band), parted by gaps of ``min_gap`` columns (by default
    0.08 em: a glyph's strokes stay together), specks left out: a fax's or a dusty scanner's dot inside the space
    between family and given name would otherwise cut that space in two gaps too narrow to count."""
    runs = _runs(ink.sum(axis=0), min_gap or max(1, em_px * 0.08))
    speck = SPECK_EM * em_px
    return [(x0, x1) for x0, x1 in runs if x1 - x0 >= speck or _ink_height(ink, x0, x1) >= speck]


def _ink_height(ink: np.ndarray, x0: int, x1: int) -> int:
    rows = np.flatnonzero(ink[:, x0:x1].any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def _glyph_extents(runs: list[tuple[int, int]], join_px: float) -> tuple[list[int], list[int]]:
    """For each column run, where its glyph starts and ends: runs nearer each other than ``join_px`` are
    strokes of one glyph."""
    starts = [r[0] for r in runs]
    for i in range(1, len(runs)):
        if runs[i][0] - runs[i - 1][1] < join_px:
            starts[i] = starts[i - 1]
    ends = [r[1] for r in runs]
    for i in range(len(runs) - 2, -1, -1):
        if runs[i + 1][0] - runs[i][1] < join_px:
            ends[i] = ends[i + 1]
    return starts, ends


def segments(c: np.ndarray, em_px: float) -> list[list[tuple[int, int, int, int]]]:
    """Lines of segments (x0, y0, x1, y1) in crop pixels: cut at every gap wider than SPACE_EM."""
    ink = c < 128
    lines = [r for r in _runs(ink.sum(axis=1), max(2, em_px * 0.25)) if r[1] - r[0] >= em_px * 0.25]
    faint = c < INK_LEVEL  # thin strokes of 200 dpi scans fade above 128: gaps are measured on fainter ink
    out = []
    for y0, y1 in lines:
        glyphs = _glyph_runs(faint[y0:y1], em_px)
        starts, ends = _glyph_extents(glyphs, STROKE_GAP_EM * em_px)
        segs = [list(glyphs[0])] if glyphs else []
        for i, (prev, g) in enumerate(pairwise(glyphs)):
            gap = g[0] - prev[1]
            # a narrow glyph (full-width digit, 「ー」) sits in a wide cell: its own margins are no space; a
            # katakana's first stroke (パ's left one) is narrow too, so the whole glyph's width is what counts
            narrow = min(prev[1] - starts[i], ends[i + 1] - g[0]) < NARROW_EM * em_px
            need = (SPACE_EM + NARROW_EXTRA_EM if narrow else SPACE_EM) * em_px
            if gap >= need:
                segs.append(list(g))
            else:
                segs[-1][1] = g[1]
        out.append([(x0, y0, x1, y1) for x0, x1 in segs])
    return out


def _cell_images(grey: np.ndarray, cells: tuple[BBox, ...], em_px: float) -> list[np.ndarray]:
    """Each cell's interior. The whole row is cleaned first (its frame lines span the row's height,
    so they are found even where the fitted box is a little off), then cut at the cells."""
    cell_h = float(np.median([c.height for c in cells]))
    grow = 0.25 * cell_h
    row = BBox(min(c.x0 for c in cells), min(c.y0 for c in cells) - grow, max(c.x1 for c in cells), max(c.y1 for c in cells) + grow)
    c_row = cut_out(grey, row)
    c_row[c_row > WHITE_LEVEL] = 255
    bw = binarize(c_row)
    k = max(3, int(cell_h * 0.85))  # frame lines span the cell; a printed "1" is ~60% of it
    vert = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, k)))
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(em_px * 2)), 1)))
    c_row[cv2.dilate(cv2.bitwise_or(vert, horiz), np.ones((3, 3), np.uint8)) > 0] = 255
    parts = []
    for cell in cells:
        dx, dy = cell.width * CELL_SHRINK * 0.5, cell.height * CELL_SHRINK * 0.5
        x0, x1 = int(cell.x0 + dx - row.x0), int(cell.x1 - dx - row.x0 + 0.5)
        y0, y1 = int(cell.y0 + dy - row.y0), int(cell.y1 - dy - row.y0 + 0.5)
        part = c_row[max(0, y0):max(y0 + 1, y1), max(0, x0):max(x0 + 1, x1)].copy()
        parts.append(_despeckle(part, em_px))
    return parts


def drop_yen_suffix(c: np.ndarray, em_px: float) -> np.ndarray:
    """White out a 円 printed after the digits (other vendors' "1,171,528円"): the digits-only model reads
    it as a 9. It is the last glyph, wider than a digit and taller than the digits before it (digits are
    ~0.7 em tall, 円 ~0.83 em), so two touching digits (as wide, not as tall) are kept, and three (wider)."""
    ink = c < 128
    runs = _runs(ink.sum(axis=0), max(1, em_px * 0.08))
    if len(runs) < 2:
        return c

    def height(x0: int, x1: int) -> int:
        r = np.flatnonzero(ink[:, x0:x1].sum(axis=1))
        return int(r[-1] - r[0] + 1) if r.size else 0

    x0, x1 = runs[-1]
    others = [h for h in (height(a, b) for a, b in runs[:-1]) if h >= 0.4 * em_px]  # commas are not digits
    if not others or not YEN_MIN_WIDTH_EM * em_px <= x1 - x0 <= YEN_MAX_WIDTH_EM * em_px:
        return c
    if height(x0, x1) >= YEN_TALLER * float(np.median(others)):
        c = c.copy()
        c[:, max(0, x0 - 1):x1 + 1] = 255
    return c


def _drop_outside_glyphs(c: np.ndarray, margin_px: float) -> np.ndarray:
    """White out connected components centred in the extra margin of a grown crop (a neighbour's small
    print that touches the value's line, so that the line test cannot separate them)."""
    h = c.shape[0]
    n, labels, _, cents = cv2.connectedComponentsWithStats((c < 128).astype(np.uint8), connectivity=8)
    for i in range(1, n):
        cy = cents[i][1]
        if cy < margin_px or cy > h - margin_px:
            c[labels == i] = 255
    return c


def _despeckle(c: np.ndarray, em_px: float) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats((c < 128).astype(np.uint8), connectivity=8)
    min_area = max(3, int((em_px * 0.06) ** 2))
    for i in range(1, n):
        if stats[i, cv2.CC_STAT_AREA] < min_area:
            c[labels == i] = 255
    return c


def _cells_row(parts: list[np.ndarray], em_px: float) -> np.ndarray:
    """The inked cells' digits side by side, packed like printed digits (wide gaps make Tesseract invent digits)."""
    h = max(p.shape[0] for p in parts)
    gap = np.full((h, max(2, int(em_px * 0.12))), 255, np.uint8)
    row = []
    for p in parts:
        cols = np.flatnonzero((p < INK_LEVEL).any(axis=0))
        if cols.size == 0:
            continue
        p = p[:, cols[0]:cols[-1] + 1]
        if p.shape[0] < h:
            p = cv2.copyMakeBorder(p, 0, h - p.shape[0], 0, 0, cv2.BORDER_CONSTANT, value=255)
        row += [p, gap]
    return np.hstack(row) if row else np.full((h, 8), 255, np.uint8)


Rows = dict[str, list[tuple[object, int, np.ndarray, float, BBox]]]  # kind → (key, line, image, f, origin box) per row


@dataclass
class _Stack:
    """One form's boxes cut out for OCR: the rows of each kind, and what the re-checks need."""

    rows: Rows = field(default_factory=dict)
    cell_parts: dict[object, list[np.ndarray]] = field(default_factory=dict)
    kana_lines: dict[object, _KanaLine] = field(default_factory=dict)

    def to_read(self) -> Rows:
        """The rows, and two more opinions on every digit box: the other model (jpn), and eng at another size."""
        digits = self.rows.get("digits", [])
        return {**self.rows,
                "digits_jpn": [(_Aux("jpn", k), li, img, f, b) for k, li, img, f, b in digits],
                "digits_vote": [(_Aux("vote", k), li, img, f * VOTE_EM_PX / DIGIT_EM_PX, b) for k, li, img, f, b in digits]}


def read_boxes(engine: OcrEngine, grey: np.ndarray, requests: list[BoxRequest],
               other_boxes: tuple[BBox, ...] = ()) -> dict[object, BoxRead]:
    """Read many boxes with one OCR call per kind; blank boxes read as "". A text line that lies more in
    another request's box or in one of ``other_boxes`` (value boxes nobody reads) is left to that box."""
    return read_boxes_batch(engine, [(grey, requests, other_boxes)])[0]


def read_boxes_batch(engine: OcrEngine, jobs: list[tuple[np.ndarray, list[BoxRequest], tuple[BBox, ...]]]
                     ) -> list[dict[object, BoxRead]]:
    """:func:`read_boxes` of several forms (grey page, requests, other boxes) with one OCR call per kind for
    all of them: the two forms of a 2-up sheet share each Tesseract start."""
    stacks = [_stack(grey, requests, others) for grey, requests, others in jobs]
    pieces = _read_stacks(engine, [s.to_read() for s in stacks])
    return [_settle(engine, grey, requests, stack, got) for (grey, requests, _), stack, got in zip(jobs, stacks, pieces)]


def _stack(grey: np.ndarray, requests: list[BoxRequest], other_boxes: tuple[BBox, ...]) -> _Stack:
    """Cut each request's box out of the page into rows to OCR (see :func:`read_boxes`)."""
    st = _Stack()
    rows = st.rows
    for r in requests:
        em = r.em
        f = _scale(em, DIGIT_EM_PX if r.kind == "digits" or r.cells else TEXT_EM_PX)
        if r.cells:
            parts = _cell_images(grey, r.cells, em)
            c = _cells_row(parts, em)
            if has_ink(c, em):
                rows.setdefault("digits", []).append((r.key, 0, c, f, r.box))
                inked = [i for i, p in enumerate(parts) if has_ink(p, em)]
                # digits are written in one run (right-justified): a faint "1" inside the run still counts
                st.cell_parts[r.key] = parts[inked[0]:inked[-1] + 1] if inked else []
            continue
        own = r.box
        grown, c = _value_lines(grey, r)
        if not has_ink(c, em):
            continue
        r = BoxRequest(r.key, grown, r.kind, r.em_px, r.blank, r.cells, r.valid)
        if r.kind == "digits":
            c = _drop_outside_glyphs(c, GROW_EM * em)  # neighbours' small print touching the value line
            c = drop_yen_suffix(c, em)
            if has_ink(c, em):
                rows.setdefault("digits", []).append((r.key, 0, c, f, r.box))
            continue
        pad = int(em * SEGMENT_PAD_EM)
        if r.kind == "kana":
            _add_kana_lines(rows, st.kana_lines, r, c, em, f, pad)
            continue
        others = [o.box for o in requests if o.key != r.key] + list(other_boxes)
        lines = [kept for ln in segments(c, em)
                 if (kept := [sp for sp in ln if not _claimed_elsewhere(_on_page(r.box, _ink_span(c, sp)), own, others)])]
        for li, line in enumerate(lines):
            # the whole line in one piece (the model reads kanji better in context), and its segments
            # one by one: where the spaces are
            seg, sub = _piece(c, r.box, _line_span(line), pad)
            rows.setdefault(r.kind, []).append((r.key, li, seg, f, sub))
            for span in line:
                seg, sub = _piece(c, r.box, span, pad)
                rows.setdefault("text_segments", []).append((_Aux("segments", r.key), li, seg, f, sub))
    return st


def _settle(engine: OcrEngine, grey: np.ndarray, requests: list[BoxRequest], st: _Stack, pieces: dict
            ) -> dict[object, BoxRead]:
    """Each box's reading from its rows' words, then the re-checks (see :func:`read_boxes`)."""
    out: dict[object, BoxRead] = {r.key: BoxRead("", 0.0, []) for r in requests}
    rows, cell_parts, kana_lines = st.rows, st.cell_parts, st.kana_lines
    second = {key[1]: segs for key, segs in pieces.items() if isinstance(key, _Aux) and key[0] == "jpn"}
    third = {key[1]: segs for key, segs in pieces.items() if isinstance(key, _Aux) and key[0] == "vote"}
    kinds = {r.key: r.kind for r in requests}
    ems = {r.key: r.em for r in requests}
    for key, segs in pieces.items():
        if isinstance(key, _Aux):
            continue
        words = [w for _, _, ws in segs for w in ws]
        if kinds[key] == "kana":
            out[key] = _kana_read(segs, pieces.get(_Aux("wide", key), []), kana_lines.get(key))
            continue
        if kinds[key] == "digits":
            # a stub of a printed mark (the foot of 円) reads as a small stray digit: drop short words
            tallest = max((w.bbox.height for w in words), default=0.0)
            words = [w for w in words if w.bbox.height >= STUB_SHARE * tallest]
            out[key] = BoxRead(join_words(words), mean_confidence(words), words)
        else:
            out[key] = _text_read(segs, pieces.get(_Aux("segments", key), []), ems[key])
        if key in second and key not in cell_parts:
            out[key] = _vote(out[key], _digits_read(second[key]), _digits_read(third[key]))
    _recheck_unread_lines(engine, out, rows, kinds, kana_lines, ems)
    _recheck_lone_digits(engine, out, rows.get("digits", []), cell_parts)
    _recheck_digit_count(engine, out, rows.get("digits", []), cell_parts, ems)
    _recheck_digit_zeros(out, rows.get("digits", []), cell_parts, ems)  # after the jpn re-reads: they read 0 as 9
    _recheck_cells(engine, out, cell_parts, {r.key: r for r in requests})
    _recheck_by_form_glyphs(out, rows.get("digits", []), cell_parts, ems)
    _recheck_text_zeros(grey, out, [r for r in requests if r.kind == "text"])
    return out


def _text_read(segs, segment_pieces, em: float) -> BoxRead:
    """A text box's reading: each line read whole, with the spaces its segments read one by one show."""
    words = [w for _, _, ws in segs for w in ws]
    by_line: dict[int, list[tuple[str, BBox]]] = {}
    for li, box, ws in sorted(segment_pieces, key=lambda s: (s[0], s[1].x0)):
        t = "".join(w.text for w in sorted(ws, key=lambda w: w.bbox.x0))
        if t:
            by_line.setdefault(li, []).append((t, box))
    text = "".join(_with_spaces_of("".join(w.text for w in ws), _join_segments(by_line.get(li, []), em))
                   for li, _, ws in sorted(segs, key=lambda s: s[0]))
    return BoxRead(text, mean_confidence(words), words)


def _recheck_unread_lines(engine: OcrEngine, out: dict, rows: Rows, kinds: dict, kana_lines: dict, ems: dict
                          ) -> None:
    """Text and フリガナ boxes whose lines of ink came back from the stacked read without a word, read again
    with each line on its own: Tesseract's layout pass may drop one row of a stack whole (a 摘要's 年末調整未済
    between a name and an address; フリガナ read blank at 13 of ~8,000 forms of six generated batches), though
    alone the row reads. As unsure as a lone digit re-read (:data:`ALONE_PENALTY`); a box that still reads
    nothing (faint half-width ﾌﾘｶﾞﾅ) is blank only with :data:`INK_UNREAD_CONFIDENCE`."""
    unread = {key for key, kind in kinds.items() if kind in ("text", "kana") and not out[key].text.strip()}
    retry = [(kind, row) for kind in ("text", "text_segments", "kana") for row in rows.get(kind, [])
             if (row[0][1] if isinstance(row[0], _Aux) else row[0]) in unread]
    if not retry:
        return
    pieces: dict[object, list] = {}
    for got in _read_stacks(engine, [{kind: [row]} for kind, row in retry]):
        for key, segs in got.items():
            pieces.setdefault(key, []).extend(segs)
    for key in unread:
        if kinds[key] == "kana":
            read = _kana_read(pieces.get(key, []), pieces.get(_Aux("wide", key), []), kana_lines.get(key))
        else:
            read = _text_read(pieces.get(key, []), pieces.get(_Aux("segments", key), []), ems[key])
        out[key] = BoxRead(read.text, read.confidence * ALONE_PENALTY, read.words) if read.text.strip() else \
            BoxRead("", INK_UNREAD_CONFIDENCE, [])  # blank as read, but not sure: ink was there


_LOOPED = "48"  # digits with holes of their own (noise splits a fax's 4's in two): a zero only when its slash shows


def _zero_by_shape(ch: str, glyph: np.ndarray) -> str:
    """``ch`` (a digit read from ``glyph``, or "" for nothing read) as 0 when the glyph has a zero's shape."""
    return "0" if ch != "0" and _is_zero(glyph, plain=ch not in _LOOPED) else ch


def _recheck_digit_zeros(out: dict, digit_rows: list, cell_parts: dict, ems: dict) -> None:
    """Zeros of a digit box read as 6, 8 or 9 (a slashed zero blurred by a fax or a 200 dpi JPEG: 480,000
    read 480,600; a 2 now and then). The box is cut into its glyphs; where glyphs and digits pair off one to
    one, a digit whose glyph has a zero's shape becomes 0, an 8 or a 4 only when the slash or dot shows (an 8
    whose waist faded has a zero's one tall hole). A lone glyph at the box's edge, which the glyph cut leaves
    out, is tested on the whole box."""
    for key, _, img, _, _ in digit_rows:
        text = out[key].text
        digits = _digits(text)
        if key in cell_parts or set(digits) <= {"0"}:
            continue
        if len(digits) == 1:
            glyphs = [img]
        else:
            glyphs = _tall_glyphs(img, ems[key])
            if len(glyphs) != len(digits):
                continue
        fixed = "".join(_zero_by_shape(ch, g) for ch, g in zip(digits, glyphs))
        if fixed != digits:
            it = iter(fixed)
            text = "".join(next(it) if ch.isdigit() else ch for ch in text)
            out[key] = BoxRead(text, out[key].confidence * DISAGREEMENT_PENALTY, out[key].words)


def _recheck_text_zeros(grey: np.ndarray, out: dict, requests: list[BoxRequest]) -> None:
    """Slashed zeros inside text lines (シャトー桜台802 read 892, 小杉町6-25-10 read 6-25-19, 24番10号 read 24番19号,
    パークハウス806 read 8606): each word holding a 6 or a 9 (placed in the text by :func:`_word_places`) is paired
    glyph by glyph with its text (:func:`_pair_glyphs`), and a 6 or 9 whose glyph has a zero's shape
    (:func:`_is_zero`) becomes 0, as does a 60 or 90 that Tesseract read out of one zero-shaped glyph. Only where the
    text and the glyphs pair off cheaply. The characters read beside a word are paired too, unless they stand on
    another line (レジデンス大泉209 printed over two lines, 20 | 9: paired with the 9 after it, the 20 found no glyph
    for it and slipped onto 泉)."""
    for r in requests:
        read = out[r.key]
        text = read.text
        found = _word_places(text, read.words)
        for j in reversed(range(len(found))):  # from the end: a collapsed 60 shortens the text
            at, w = found[j]
            if not set(w.text) & _SIX_NINE:
                continue
            # the characters beside it, unless they stand on another line (a long address goes on below)
            before = "" if j > 0 and not _same_line(found[j - 1][1], w) else text[at - 1:at].strip()
            after = ("" if j + 1 < len(found) and not _same_line(found[j + 1][1], w)
                     else text[at + len(w.text):at + len(w.text) + 1].strip())
            fixed = _zeros_by_shape(grey, w, r.em, before, after)
            if fixed != w.text:
                text = text[:at] + fixed + text[at + len(w.text):]
                read = BoxRead(text, read.confidence * DISAGREEMENT_PENALTY, read.words)
        out[r.key] = read


def _word_places(text: str, words: list[Word]) -> list[tuple[int, Word]]:
    """The words of a text box's reading with where each stands in ``text`` (words not found in order in ``text``
    are left out)."""
    found: list[tuple[int, Word]] = []
    cursor = 0
    for w in words:
        at = text.find(w.text, cursor) if w.text else -1
        if at >= 0:
            found.append((at, w))
            cursor = at + len(w.text)
    return found


def _same_line(a: Word, b: Word) -> bool:
    return min(a.bbox.y1, b.bbox.y1) > max(a.bbox.y0, b.bbox.y0)


def _zeros_by_shape(grey: np.ndarray, w: Word, em: float, before: str = "", after: str = "") -> str:
    """``w``'s text with each 6 or 9 (or 60, 90 read from one glyph) whose glyph is a zero's shape made 0.

    The crop reaches ZERO_SIDE_EM beyond the word's box on either side, and the characters read just
    ``before`` and ``after`` the word are paired too: Tesseract's box of a word may begin a glyph late (107
    boxed from its 0) or end a glyph late (19 boxed from its 0 to 号), and the neighbours anchor the pairing."""
    pad, side = ZERO_PAD_EM * em, ZERO_SIDE_EM * em
    c = cut_out(grey, BBox(w.bbox.x0 - side, w.bbox.y0 - pad, w.bbox.x1 + side, w.bbox.y1 + pad))
    left = w.bbox.x0 - max(0, int(w.bbox.x0 - side))  # the box's columns in the crop
    box = (left, left + w.bbox.width)
    top, bottom = int(round(pad)), c.shape[0] - int(round(pad))  # the word's rows: a stamp or a rule below stays out
    band = c[top:bottom]
    if band.size == 0:
        return w.text
    otsu, _ = cv2.threshold(band, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # neighbours first, then without them (out of the crop, or faint); dark ink first (it parts touching glyphs),
    # then Otsu's level (a blurred scan's ink is grey); a 60 read from one glyph only when nothing else pairs: it
    # lets the pairing slip by one glyph, and the slip turns a real 6 into 0 (609 read 009)
    levels = sorted({128, int(min(otsu, INK_LEVEL))})
    tries = [(collapse, level, b, a) for collapse in (False, True)
             for b, a in dict.fromkeys([(before, after), ("", "")]) for level in levels]
    for collapse, level, before, after in tries:
        ink = band < level
        runs = _glyph_runs(ink, em, min_gap=1)  # every empty column parts: a hyphen touching a 6 is its own run
        line = before + w.text + after
        loops = [_loop_or_cut(c, ink, top, x0, x1) for x0, x1 in runs] if em >= LOOP_MIN_EM_PX else None
        paired = _pair_glyphs(line, ink, runs, em, box, collapse, loops)
        if paired is not None and not collapse:  # ...or where the plain pairing gives a 0, 6, 8 or 9 a glyph with
            # no loop and a cheaper one with a 60 or 90 does not (ス203 read ス2603: without the collapse, ス's first
            # stroke pairs as ス and the rest of ス as the 2 and the 6)
            other = _pair_glyphs(line, ink, runs, em, box, True, loops)
            if (other is not None and other[0] < paired[0] and not _loops_hold(line, paired[1], c, ink, top)
                    and _loops_hold(line, other[1], c, ink, top)):
                paired = other
        if paired is not None:
            pairs = paired[1]
            break
    else:
        return w.text
    text = list(w.text)
    for i, k, (x0, x1) in pairs:
        i -= len(before)
        if not 0 <= i < len(text) or not set(w.text[i:i + k]) & _SIX_NINE:
            continue
        if _is_zero(_glyph_at(c, ink, top, x0, x1)):
            text[i:i + k] = ["0" if w.text[i].isascii() else "０"] + [""] * (k - 1)
    return "".join(text)


def _glyph_at(c: np.ndarray, ink: np.ndarray, top: int, x0: int, x1: int) -> np.ndarray:
    """The glyph between columns ``x0`` and ``x1`` of the band ``ink`` (which starts at row ``top`` of ``c``),
    cut from ``c`` with a margin of two pixels."""
    rows = np.flatnonzero(ink[:, x0:x1].any(axis=1))
    if rows.size == 0:
        return c[:0, :0]
    return c[top + max(0, rows[0] - 2):top + rows[-1] + 3, max(0, x0 - 2):x1 + 2]


def _loops_hold(line: str, pairs: list[tuple[int, int, tuple[int, int]]], c: np.ndarray, ink: np.ndarray,
                top: int) -> bool:
    """Whether every 0, 6, 8 or 9 of a pairing (:func:`_pair_glyphs`) has a glyph that encloses white, or one the
    crop's side cuts (what is left of it cannot tell)."""
    return all(_loop_or_cut(c, ink, top, x0, x1) for i, k, (x0, x1) in pairs if set(line[i:i + k]) & _LOOPS)


def _loop_or_cut(c: np.ndarray, ink: np.ndarray, top: int, x0: int, x1: int) -> bool:
    """Whether the glyph between columns ``x0`` and ``x1`` encloses white, or the crop's side cuts it (what is left
    of it cannot tell)."""
    return _has_loop(_glyph_at(c, ink, top, x0, x1)) or x0 == 0 or x1 >= ink.shape[1]


def _has_loop(glyph: np.ndarray) -> bool:
    """Whether a glyph encloses white, at dark ink or at faint."""
    for level in (128, INK_LEVEL):
        contours, hierarchy = cv2.findContours((glyph < level).astype(np.uint8), cv2.RETR_CCOMP,
                                               cv2.CHAIN_APPROX_SIMPLE)
        if hierarchy is not None and any(h[3] >= 0 and cv2.contourArea(contours[j]) >= 1.0
                                         for j, h in enumerate(hierarchy[0])):
            return True
    return False


_DIGIT_CHARS = "0123456789０１２３４５６７８９"  # a text line's digits, as Tesseract's jpn model writes them
_SIX_NINE = set("69６９")
_LOOPS = set("0689０６８９")  # digits with a loop of their own
_PUNCT = set("-‐−–.,:;'・")
_COLLAPSED = {"60", "06", "90", "09"}  # one slashed zero read as two digits
_EDGE_COST = 0.5  # a run inside the word's box left unpaired (one outside costs 0.1)
_MAX_PAIRING_COST = 2.0
_AWAY_COST = 0.5  # a digit paired with a run outside the word's box
_COLLAPSE_COST = 0.5  # 60 or 90 paired with one run
_CHAR_SPAN_EM = (0.6, 1.05)  # the ink of a kanji or kana spans this much (narrower costs more: a digit's width)


def _pair_glyphs(text: str, ink: np.ndarray, runs: list[tuple[int, int]], em: float, box: tuple[float, float],
                 collapse: bool = False, loops: list[bool] | None = None
                 ) -> tuple[float, list[tuple[int, int, tuple[int, int]]]] | None:
    """Pair the characters of a word with the column runs of its ink (``box``: the columns Tesseract gave the
    word, with margins on both sides), cheapest first.

    A digit takes one narrow run of a digit's height (one cut by the crop's side may be narrower); two digits
    may share a run up to twice as wide (a fax's blur joins them), and the word's first or last digit may share
    one with the neighbouring character outside the word's box (0 touching 号): such a run is cut at its
    thinnest column. With ``collapse``, 60 or 90 may come from one narrow run (a slashed zero read as two). A
    hyphen, comma or dot takes one short run or none; any other character takes one to four runs spanning
    _CHAR_SPAN_EM (the strokes of ハ or 川). Runs at either end may stay unpaired: cheaply outside the word's box
    (the neighbouring characters), dearly inside it. Given ``loops`` (per run, whether its glyph encloses white), a
    0, 6, 8 or 9 paired with a run without one costs :data:`LOOPLESS_COST` more. Returns the pairing's cost and
    (character index, number of characters, glyph columns) for the digits, or None when nothing pairs cheaply."""
    glyphs = [(x0, x1, _ink_height(ink, x0, x1)) for x0, x1 in runs]
    width = ink.shape[1]
    n, m = len(text), len(glyphs)
    lo, hi = GLYPH_MIN_WIDTH_EM * em, GLYPH_MAX_WIDTH_EM * em
    tall = GLYPH_HEIGHT_EM[0] * em

    def digit(ch: str) -> bool:
        return ch in _DIGIT_CHARS

    cost = [[math.inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple | None]] = [[None] * (m + 1) for _ in range(n + 1)]

    def skip(j: int) -> float:  # leaving run j unpaired at an end
        return _EDGE_COST * (box[0] <= (glyphs[j][0] + glyphs[j][1]) / 2 <= box[1]) + 0.1

    cost[0][0] = 0.0
    for j in range(m):  # the neighbours before the word
        cost[0][j + 1] = cost[0][j] + skip(j)
    for i in range(n + 1):
        for j in range(m + 1):
            here = cost[i][j]
            if here == math.inf:
                continue
            steps = []
            if i < n and digit(text[i]) and j < m and glyphs[j][2] >= tall:
                x0, x1, _ = glyphs[j]
                cut = x0 == 0 or x1 >= width
                away = _AWAY_COST * (not box[0] <= (x0 + x1) / 2 <= box[1])
                loopless = LOOPLESS_COST * (loops is not None and not loops[j])  # see LOOP_MIN_EM_PX
                if (lo <= x1 - x0 or cut) and x1 - x0 <= hi:
                    steps.append((1, 1, 0.2 * cut + away + loopless * (text[i] in _LOOPS), True))
                    if collapse and text[i:i + 2] in _COLLAPSED:
                        steps.append((2, 1, _COLLAPSE_COST + away + loopless, True))
                elif hi < x1 - x0 <= 2 * hi:
                    if i + 1 < n and digit(text[i + 1]):
                        steps.append((2, 1, 0.5, "both"))
                    if i == n - 1 and x1 > box[1]:
                        steps.append((1, 1, 0.8, "left"))
                    if i == 0 and x0 < box[0]:
                        steps.append((1, 1, 0.8, "right"))
            if i < n and text[i] in _PUNCT:
                steps.append((1, 0, 0.5, False))
                if j < m and glyphs[j][2] < tall:
                    steps.append((1, 1, 0.0, False))
            if i < n and not digit(text[i]) and text[i] not in _PUNCT:
                for k in (1, 2, 3, 4):
                    span = glyphs[j + k - 1][1] - glyphs[j][0] if j + k <= m else math.inf
                    if span <= _CHAR_SPAN_EM[1] * em:
                        steps.append((1, k, 0.1 * (k - 1) + 0.3 * (span < _CHAR_SPAN_EM[0] * em), False))
            if i == n and j < m:  # the neighbours after the word
                steps.append((0, 1, skip(j), False))
            for di, dj, c, paired in steps:
                if here + c < cost[i + di][j + dj]:
                    cost[i + di][j + dj] = here + c
                    back[i + di][j + dj] = (i, j, paired)
    if cost[n][m] > _MAX_PAIRING_COST:
        return None
    pairs = []
    i, j = n, m
    while back[i][j] is not None:
        pi, pj, paired = back[i][j]
        if paired in ("both", "left", "right"):  # a run of two glyphs: cut where they part
            x0, x1 = glyphs[pj][:2]
            mid = _thinnest_column(ink, x0, x1)
            pairs += {"both": [(pi + 1, 1, (mid, x1)), (pi, 1, (x0, mid))], "left": [(pi, 1, (x0, mid))],
                      "right": [(pi, 1, (mid, x1))]}[paired]
        elif paired:
            pairs.append((pi, i - pi, glyphs[pj][:2]))
        i, j = pi, pj
    return cost[n][m], pairs[::-1]


def _thinnest_column(ink: np.ndarray, x0: int, x1: int) -> int:
    """Where two touching glyphs between columns ``x0`` and ``x1`` part: the column with least ink in the
    middle 40 %."""
    profile = ink[:, x0:x1].sum(axis=0)
    lo, hi = int((x1 - x0) * 0.3), int((x1 - x0) * 0.7)
    return x0 + lo + int(np.argmin(profile[lo:hi]))


def _value_lines(grey: np.ndarray, r: BoxRequest) -> tuple[BBox, np.ndarray]:
    """The box grown by GROW_EM above and below (a value may stray out of its box), and its crop with the
    lines that lie mostly outside the box (the next box's value, a label) whited out."""
    em = r.em
    grown = BBox(r.box.x0, r.box.y0 - GROW_EM * em, r.box.x1, r.box.y1 + GROW_EM * em)
    return grown, _keep_lines_inside(crop(grey, grown, r.blank, em), GROW_EM * em, em)


# Other ways to read a one-line text box, tried in turn when a first reading is contradicted (a name that
# does not read as its フリガナ): each model at the scan's own size and half as large again. With them and
# the kana checks of normalize/readings.py, recipient names wrong on 196 scanned dev forms fell from 17 to 8.
VARIANTS = (("text_line", 1.0), ("line", 1.0), ("text_line", 1.5), ("line", 1.5))


def _line_image(grey: np.ndarray, request: BoxRequest) -> np.ndarray | None:
    """A one-line box's value cut out with a white margin, None when it holds no ink."""
    _, c = _value_lines(grey, request)
    if not has_ink(c, request.em):
        return None
    return cv2.copyMakeBorder(c, ROW_GAP_PX, ROW_GAP_PX, LEFT_PAD_PX, LEFT_PAD_PX, cv2.BORDER_CONSTANT, value=255)


def read_variants(engine: OcrEngine, grey: np.ndarray, request: BoxRequest) -> Iterator[str]:
    """The text of a one-line box read in each of :data:`VARIANTS` ways, one OCR call each, lazily."""
    c = _line_image(grey, request)
    if c is None:
        return
    for mode, f in VARIANTS:
        img = c if f == 1.0 else cv2.resize(c, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
        yield join_words(engine.read_words(img, mode=mode))


def read_choices(engine: OcrEngine, grey: np.ndarray, request: BoxRequest) -> list[list[str]]:
    """A one-line box read with the model's choices at each character, best first (jpn, one line; empty when
    the box holds no ink). For a name whose look-alike Tesseract prefers (蓮 read 運): the printed character
    is often among the next choices."""
    c = _line_image(grey, request)
    return [] if c is None else engine.read_choices(c)


def read_only(engine: OcrEngine, grey: np.ndarray, request: BoxRequest, chars: str) -> str:
    """The text of a one-line box read with only ``chars`` allowed (jpn, one line): the model's choice among
    them where its first is not (where the printed character is none of its next choices, see read_choices)."""
    c = _line_image(grey, request)
    return "" if c is None else join_words(engine.read_words(c, mode="line", only=chars))


class _Aux(tuple):
    """Key of a second reading of a box: ``("wide", key)`` the stretched copy of a フリガナ line (half-width
    kana read as full-width), ``("segments", key)`` a text box read segment by segment (see
    :func:`_with_spaces_of`). Its own type, so that it never equals a request's key."""

    def __new__(cls, tag: str, key):
        return super().__new__(cls, (tag, key))


def _line_span(line: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """The bounds of a line of segments (see :func:`segments`)."""
    return line[0][0], min(s[1] for s in line), line[-1][2], max(s[3] for s in line)


def _ink_span(c: np.ndarray, span: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``span`` narrowed to the rows its own ink covers (a segment's span has its whole line's height)."""
    x0, y0, x1, y1 = span
    rows = np.flatnonzero((c[y0:y1, x0:x1] < 128).any(axis=1))
    return (x0, y0 + int(rows[0]), x1, y0 + int(rows[-1]) + 1) if rows.size else span


def _on_page(origin: BBox, span: tuple[int, int, int, int]) -> BBox:
    x0, y0, x1, y1 = span
    return BBox(origin.x0 + x0, origin.y0 + y0, origin.x0 + x1, origin.y0 + y1)


def _claimed_elsewhere(line: BBox, own: BBox, others: list[BBox]) -> bool:
    """Whether another box of the form holds more of this piece of a line's height than the box being
    read: on a shifted or stretched scan the next box's line (支払者 氏名 under 住所, 1 mm apart) or the
    telephone number beside it enters the grown crop with its centre inside, and both boxes would read it."""
    def held(box: BBox) -> float:
        if min(line.x1, box.x1) <= max(line.x0, box.x0):
            return 0.0
        return max(0.0, min(line.y1, box.y1) - max(line.y0, box.y0))
    mine = held(own)
    return any(held(o) > mine for o in others)


def _piece(c: np.ndarray, origin: BBox, span: tuple[int, int, int, int], pad: int) -> tuple[np.ndarray, BBox]:
    """The part ``span`` of crop ``c`` with ``pad`` pixels around it, and where that part lies on the page."""
    x0, y0, x1, y1 = span
    img = c[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
    return img, BBox(origin.x0 + max(0, x0 - pad), origin.y0 + max(0, y0 - pad), origin.x0 + x1 + pad, origin.y0 + y1 + pad)


@dataclass
class _KanaLine:
    """How wide a フリガナ line's ink runs and where its widest blank gap is, in pixels from the line's start."""

    width: int
    gap: tuple[int, int] | None  # the widest gap between glyphs


def _add_kana_lines(rows: dict, lines: dict, r: BoxRequest, c: np.ndarray, em: float, f: float, pad: int) -> None:
    """Each フリガナ line whole (no cut at gaps: half-width kana are full of gaps), plus a copy stretched
    ``KANA_STRETCH`` times in width: Tesseract's jpn model reads half-width kana (ﾀｶﾊｼ, common in payroll
    print-outs) far better once they have full-width proportions. The reading Tesseract is surer of wins."""
    for li, line in enumerate(segments(c, em)):
        span = _line_span(line)
        seg, sub = _piece(c, r.box, span, pad)
        rows.setdefault("kana", []).append((r.key, li, seg, f, sub))
        rows["kana"].append((_Aux("wide", r.key), li, seg, (f * KANA_STRETCH, f), sub))
        if li == 0:
            x0, y0, x1, y1 = span
            runs = _glyph_runs(c[y0:y1, x0:x1] < INK_LEVEL, em)
            gaps = [(b[0] - a[1], a[1], b[0]) for a, b in pairwise(runs)]
            lines[r.key] = _KanaLine(x1 - x0, max(gaps)[1:] if gaps else None)


def _kana_read(segs, wide_segs, line: _KanaLine | None) -> BoxRead:
    """The surer of the plain and stretched readings, with one space (family and given name) at the
    widest blank gap of the line when that gap is wide for the line's character pitch. Kana are printed
    at a fixed pitch, so the gap's place along the line tells after how many characters the space falls
    (Tesseract's own word boxes are too loose for Japanese)."""
    reads = []
    for s in (segs, wide_segs):
        words = sorted((w for _, _, ws in s for w in ws), key=lambda w: w.bbox.x0)
        reads.append((mean_confidence(words), words))
    conf, words = max(reads, key=lambda r: r[0])
    text = "".join(w.text for w in words)
    if not text or line is None or line.gap is None:
        return BoxRead(text, conf, words)
    n = len(text)
    g0, g1 = line.gap
    width = g1 - g0
    printed = line.width - width  # the line's length without the gap: n characters at a fixed pitch
    if width >= KANA_SPACE_PITCH * printed / n:
        k = round(n * g0 / max(1.0, printed))
        if 0 < k < n:
            text = text[:k] + " " + text[k:]
    return BoxRead(text, conf, words)


_GROUPED = re.compile(r"^\d{1,3}([,.]\d{3})*$")


def _digits_read(segs) -> BoxRead:
    words = [w for _, _, ws in segs for w in ws]
    tallest = max((w.bbox.height for w in words), default=0.0)
    words = [w for w in words if w.bbox.height >= STUB_SHARE * tallest]
    return BoxRead(join_words(words), mean_confidence(words), words)


def _better(a: BoxRead, b: BoxRead) -> BoxRead:
    """Reading ``a`` (eng) unless it is malformed and ``b`` (jpn) is not. The jpn model often reads the
    slashed 0 of IPA fonts as 9 with high confidence, so it is a fallback, never a rival on confidence."""
    def well(r: BoxRead) -> bool:
        t = r.text.replace(" ", "")
        digits = sum(ch.isdigit() for ch in t)
        return bool(t) and _GROUPED.match(t) is not None and not (digits > 1 and t.startswith("0"))
    if well(a) or not well(b):
        return a if a.text.strip() or not b.text.strip() else b
    return b


def _is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fc" or "\uff66" <= ch <= "\uff9f"


def _join_segments(parts: list[tuple[str, BBox]], em: float) -> str:
    """Segments of one line joined with a space, except between two katakana unless the gap is a
    full-width space: small kana (ャ, ッ) and narrow ones (ト, ー) leave gaps as wide as a half-width
    space inside a word (シャトー), so only a gap of about a character's width separates katakana words."""
    if not parts:
        return ""
    text = parts[0][0]
    for (a, box_a), (b, box_b) in pairwise(parts):
        gap = (box_b.x0 - box_a.x1) / em + 2 * SEGMENT_PAD_EM
        sep = "" if _is_katakana(a[-1]) and _is_katakana(b[0]) and gap < KATAKANA_SPACE_EM else " "
        text += sep + b
    return text


def _with_spaces_of(line: str, spaced: str) -> str:
    """``line`` (the whole line read at once: the better characters) with the spaces of ``spaced`` (the
    same line read segment by segment, cut at its blank gaps: the right spaces), carried over where
    the two readings align. Tesseract's own character boxes are too loose to place the spaces."""
    plain = spaced.replace(" ", "")
    if not plain or not line:
        return line or spaced
    cuts, k = [], 0
    for ch in spaced:
        if ch == " ":
            cuts.append(k)
        else:
            k += 1
    blocks = SequenceMatcher(None, plain, line, autojunk=False).get_matching_blocks()
    out = []
    for cut in cuts:
        for a, b, size in blocks:
            if size and a <= cut <= a + size and (a < cut or b > 0):
                out.append(b + cut - a)
                break
        else:  # no aligned neighbour: the same share of the line
            out.append(round(cut * len(line) / len(plain)))
    text = line
    for pos in sorted({p for p in out if 0 < p < len(line)}, reverse=True):
        text = text[:pos] + " " + text[pos:]
    return text


def _is_zero(img: np.ndarray, plain: bool = True) -> bool:
    """Whether a box holding one glyph shows a zero that Tesseract read as 9, 6 or 8. A slashed or dotted
    zero (IPA Gothic, many payroll fonts): a 9's loop is one hole with nothing inside, a marked zero's
    loop is split in two by the slash, or holds the dot. A plain zero, or one whose slash is lost to
    blur: its one hole runs nearly the glyph's full height, centred, where a 9's or a 6's loop fills
    one end (at most ~0.65 of the height in the fonts at hand). A blurred slash is fainter than the
    loop: the tests run on dark ink first, then on faint ink. ``plain=False``: only a marked zero."""
    return any(_zero_at(img, level, plain) for level in (128, INK_LEVEL))


def _zero_at(img: np.ndarray, level: int, plain: bool) -> bool:
    bw = (img < level).astype(np.uint8)
    contours, hierarchy = cv2.findContours(bw, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    areas = [cv2.contourArea(c) for c in contours]
    outer = [i for i, h in enumerate(hierarchy[0]) if h[3] < 0 and areas[i] > 0.01 * max(areas)]
    holes = [i for i, h in enumerate(hierarchy[0]) if h[3] >= 0 and areas[i] > 0.01 * max(areas)]
    if plain and len(outer) == 1 and len(holes) == 1:
        _, oy, _, oh = cv2.boundingRect(contours[outer[0]])
        _, hy, _, hh = cv2.boundingRect(contours[holes[0]])
        return hh >= ZERO_HOLE_HEIGHT * oh and abs((hy + hh / 2) - (oy + oh / 2)) <= ZERO_HOLE_OFFSET * oh
    if len(outer) == 1 and len(holes) == 2:  # split by a slash: overlapping in height, unlike the stacked loops
        (_, y0, _, h0), (_, y1, _, h1) = (cv2.boundingRect(contours[i]) for i in holes)  # of 8,
        a0, a1 = sorted(areas[i] for i in holes)  # and in two like halves, unlike a 9's loop and a pinhole,
        oh = cv2.boundingRect(contours[outer[0]])[3]  # and over most of the glyph, unlike a 4's hole split by noise
        return (min(y0 + h0, y1 + h1) - max(y0, y1) >= SLASH_OVERLAP * min(h0, h1) and a0 >= SLASH_HALVES * a1
                and max(y0 + h0, y1 + h1) - min(y0, y1) >= SLASH_SPAN * oh)
    if len(outer) == 2 and len(holes) == 1:  # the dot: a small blob inside the loop
        (x, y, w, h) = cv2.boundingRect(contours[holes[0]])
        dot = min(outer, key=lambda i: areas[i])
        dx, dy, dw, dh = cv2.boundingRect(contours[dot])
        return x <= dx and y <= dy and dx + dw <= x + w and dy + dh <= y + h
    return False


def _scale(em_px: float, target_px: float) -> float:
    return min(MAX_UPSCALE, max(0.4, target_px / em_px))


def _vote(first: BoxRead, jpn: BoxRead, other_size: BoxRead) -> BoxRead:
    """Three readings of one digit box. When jpn and eng at the other size agree against the first
    reading, theirs wins; otherwise the first (or jpn where the first is malformed, see :func:`_better`).
    Any disagreement lowers the confidence of the surest reading behind the choice: the value may be written,
    but a person should look. A reading of nothing abstains (eng often reads nothing in a box holding a lone 1).
    When at least two readings agree and none differs, the surest of them speaks for the box, and no less
    sure than :data:`AGREED` says: eng with a digit whitelist scores a plain "11" at 0, and two models at two
    sizes reading the same is no reason for doubt. Nor is jpn's known slip on a slashed 0 (:func:`_jpn_slip`)."""
    a, b, c = _digits(first.text), _digits(jpn.text), _digits(other_size.text)
    said = [(d, r.confidence) for d, r in ((a, first), (b, jpn), (c, other_size)) if d]
    if a and a == c and _jpn_slip(b, a):
        said = [(a, first.confidence), (c, other_size.confidence)]
    if len(said) >= 2 and len({d for d, _ in said}) == 1:
        chosen = _better(first, jpn)
        silent = ("",) if not (a and b and c) else ()  # a reading of nothing, set aside: the glyphs are read again
        return BoxRead(chosen.text, max(AGREED[len(said)], *(conf for _, conf in said)), chosen.words, silent)
    if b and b == c and a != b:
        chosen = other_size
    else:
        chosen = _better(first, jpn)
    if len({a, b, c}) > 1:
        backing = [conf for d, conf in said if d == _digits(chosen.text)]
        conf = max(backing) if len(backing) >= 2 else chosen.confidence
        others = tuple(d for d in (a, b, c) if d and d != _digits(chosen.text))
        chosen = BoxRead(chosen.text, conf * DISAGREEMENT_PENALTY, chosen.words, others)
    return chosen


def _jpn_slip(jpn: str, eng: str) -> bool:
    """Whether the jpn reading differs from the two eng readings (``eng``) only by jpn's known slips on the slashed 0
    of IPA fonts (see :func:`_better`): 0s read as 9, 6 or 8, or digits added around them (4,000 read 4 09000).
    In two scanned files of a training seed, the two eng readings agreed and jpn did not in 11 of 49 digit boxes:
    6 were the first slip, the rest the second."""
    return zero_slip(jpn, eng) or (len(jpn) > len(eng) and _is_subsequence(eng, jpn))


def zero_slip(read: str, printed: str, *, widened: bool = False) -> bool:
    """Whether ``read`` is ``printed`` with some of its 0s read as 9, 6 or 8, and with ``widened`` also as 60 or
    90 (a slashed 0 taken for two glyphs: an address's room 107 read 1607)."""
    if read == printed or "0" not in printed:
        return False
    zero = "(?:0|[968]|[69]0)" if widened else "[0968]"
    return re.fullmatch("".join(zero if ch == "0" else re.escape(ch) for ch in printed), read) is not None


def _recheck_lone_digits(engine: OcrEngine, out: dict, digit_rows: list, cell_parts: dict) -> None:
    """Digit boxes with ink but nothing read (a lone "1" defeats the eng model): read them with jpn."""
    retry = [row for row in digit_rows if row[0] not in cell_parts and not any(ch.isdigit() for ch in out[row[0]].text)]
    if not retry:
        return
    for key, segs in _read_rows(engine, {"digits_jpn": retry}).items():
        words = [w for _, _, ws in segs for w in ws]
        text = join_words(words)
        if any(ch.isdigit() for ch in text):
            out[key] = BoxRead(text, mean_confidence(words) * ALONE_PENALTY, words)


def _tall_glyphs(c: np.ndarray, em_px: float) -> list[np.ndarray]:
    """The digit-sized glyphs of a digit box, left to right (commas, dots and frame remnants left out).
    Connected components, not column runs: at 200 dpi a Mincho 1's serif and stem leave faint columns
    between them, and two Gothic 1s touch at faint ink; pieces that overlap in x are one glyph."""
    n, _, stats, _ = cv2.connectedComponentsWithStats((c < INK_LEVEL).astype(np.uint8), connectivity=8)
    boxes: list[list[int]] = []
    for x, y, w, h, _ in sorted((tuple(st) for st in stats[1:n] if not _is_debris(st[2], st[3], em_px)),
                                key=lambda st: st[0]):
        if boxes and x < boxes[-1][2] - 1:  # overlaps the previous glyph in x: a piece of it
            b = boxes[-1]
            boxes[-1] = [b[0], min(b[1], y), max(b[2], x + w), max(b[3], y + h)]
        else:
            boxes.append([x, y, x + w, y + h])
    split = []
    for x0, y0, x1, y1 in boxes:  # digits touching (Mincho "11" at its serifs, a fax's "580"): cut at thin columns
        if x1 - x0 > GLYPH_MAX_WIDTH_EM * em_px:
            parts = max(2, round((x1 - x0) / (DIGIT_PITCH_EM * em_px)))
            ink, step = c[y0:y1] < INK_LEVEL, (x1 - x0) / parts
            cuts = [x0] + [_thinnest_column(ink, int(x0 + (k - 1) * step), int(x0 + (k + 1) * step))
                           for k in range(1, parts)] + [x1]
            split += [(a, y0, b, y1) for a, b in pairwise(cuts)]
        else:
            split.append((x0, y0, x1, y1))
    pad = max(2, int(em_px * SEGMENT_PAD_EM))
    edge = GLYPH_EDGE_EM * em_px  # a frame line's remnant stands at the crop's side; digits never do
    return [cv2.copyMakeBorder(c[y0:y1, x0:x1], pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
            for x0, y0, x1, y1 in split
            if x1 - x0 >= GLYPH_MIN_WIDTH_EM * em_px
            and ((x0 >= edge and x1 <= c.shape[1] - edge) or x1 - x0 >= EDGE_GLYPH_WIDTH_EM * em_px)
            and GLYPH_HEIGHT_EM[0] * em_px <= y1 - y0 <= GLYPH_HEIGHT_EM[1] * em_px]


def _is_debris(w: int, h: int, em_px: float) -> bool:
    """Whether a connected component of a digit box is no piece of a digit: a speck of dust, a cell rule's
    remnant taller than any digit (a corner ┌ left of a date part) or a flat stroke of one below the digits.
    Kept, it joins the digit it overlaps in x and makes it too tall to count."""
    return (max(w, h) < SPECK_EM * em_px or h > GLYPH_HEIGHT_EM[1] * em_px
            or (h < FLAT_EM * em_px and w > 2 * h))


def _is_bar(glyph: np.ndarray, em_px: float) -> bool:
    """An upright stem, whatever its serifs: in a digit box that is a 1 (a Mincho 1 at 200 dpi reads as
    nothing on its own). Over the middle of its height every row holds one thin stroke at the same place;
    a 7's stroke wanders, a 4 has its crossbar."""
    ink = glyph < INK_LEVEL
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size < GLYPH_HEIGHT_EM[0] * em_px:
        return False
    mid = ink[rows[0] + rows.size // 5:rows[-1] + 1 - rows.size // 5]
    widths = mid.sum(axis=1)
    if widths.min() == 0:
        return False
    centres = (mid * np.arange(mid.shape[1])).sum(axis=1) / widths
    return np.median(widths) <= BAR_WIDTH_EM * em_px and np.ptp(centres) <= BAR_DRIFT_EM * em_px


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _recheck_digit_count(engine: OcrEngine, out: dict, digit_rows: list, cell_parts: dict, ems: dict) -> None:
    """Digit boxes whose reading has not as many digits as the box has glyphs, re-read glyph by glyph:
    - short boxes (date parts, counts) read with fewer: Tesseract reads a close pair of 1s ("11") as one;
    - or with more, read unsure: a fax's month "7" between its cell's remnant rules read "17";
    - amounts whose thousands group is not 3 digits: a fax's "480,000" read "480,", its zeros lost; "40 000"
      (split at the 千 mark) read "40 6000".
    - and short boxes read with as many, where the three readings disagreed: a 2-up scan's month "1" beside its
      cell's remnant rule read "4" by eng at both sizes and "1" by jpn.
    Each glyph is read on its own line (jpn: eng gives up on a lone 1), a plain bar is a 1, a zero's shape a 0.
    The re-reading is taken only when every glyph gave one digit and, of the two readings, the shorter's
    digits are among the longer's in order (digits are restored or dropped, never replaced: the two arcs of a
    faint 0 are two bars), or when it is a reading the vote set aside (a fax's year "40" read "40" by eng and "1",
    its cell's remnant rule, by the other two: glyph by glyph it is 40 again), and with less confidence.
    A disputed box whose glyphs read as the vote chose is as sure as two readings that agree (AGREED[2]): eng scores
    a plain "12" at 0, and a third reading, glyph by glyph, outweighs jpn's lone dissent. On the benchmark sets this
    raised 14 and 11 right birth dates of 1,000 forms (on seed 9001 from 0.00–0.59), no wrong one, and changed no
    value.
    A box two readings agreed on while the third read nothing (``others`` is ("",)) is read glyph by glyph too, and
    is less sure where the glyphs read otherwise (a 2-up's month 1 read 7 by eng at both sizes, 1 glyph by glyph)."""
    rows, pending = [], {}
    for key, _, img, f, box in digit_rows:
        if key in cell_parts:
            continue
        read = len(_digits(out[key].text))
        broken = BROKEN_GROUP.search(out[key].text) is not None
        if read >= MAX_GLYPH_RECHECK and not broken:  # a long number read whole: spare the glyph search
            continue
        glyphs = _tall_glyphs(img, ems[key])
        n = len(glyphs)
        lost = 1 < n and read < n and (n <= MAX_GLYPH_RECHECK or broken)
        invented = 0 < n < read and (broken or out[key].confidence < UNSURE_DIGITS)  # a frame's remnant read as 1
        disputed = 0 < n == read <= MAX_GLYPH_RECHECK and bool(out[key].others)
        if lost or invented or disputed:
            # a bar is a 1 where digits went missing; where the readings disputed a digit, jpn reads each glyph
            # (a Mincho 7's stem and a 4 pass for bars)
            pending[key] = (["1" if not disputed and _is_bar(g, ems[key]) else "" for g in glyphs], glyphs, disputed)
            rows += [(_Aux("glyph", key), i, g, f, box) for i, g in enumerate(glyphs) if not pending[key][0][i]]
    pieces = _read_rows(engine, {"digits_jpn": rows}) if rows else {}
    for key, (texts, glyphs, disputed) in pending.items():
        words = []
        for i, _, ws in pieces.get(_Aux("glyph", key), []):
            texts[i] = join_words(ws).strip()
            words += ws
        # a lone slashed zero reads as 9 or as nothing: its shape decides (see _recheck_digit_zeros)
        zeros = [t if t == "1" else _zero_by_shape(t, g) for t, g in zip(texts, glyphs)]  # a bar's 1 is no zero
        first, again = _digits(out[key].text), "".join(zeros)
        whole = all(len(t) == 1 and t.isdigit() for t in zeros)  # every glyph gave one digit
        if disputed and whole and again == first:
            out[key] = replace(out[key], confidence=max(out[key].confidence, AGREED[2]))  # the vote's choice, confirmed
            continue
        if whole and again != first and (again in out[key].others or any(
                _is_subsequence(*sorted((first, t), key=len)) for t in ("".join(texts), again))):
            conf = (mean_confidence(words) if words else out[key].confidence) * DISAGREEMENT_PENALTY
            if len(first) == len(again):  # a disputed digit settled: no surer than the dispute left it
                conf = min(conf, out[key].confidence)
            out[key] = BoxRead(again, conf, words)
        elif disputed and whole and out[key].others == ("",):  # two readings agreed, the third read nothing, and
            # the glyphs read otherwise: a dissent (a 2-up's month 1 read 7 by eng at both sizes, 1 glyph by glyph)
            out[key] = replace(out[key], confidence=out[key].confidence * DISAGREEMENT_PENALTY)


def _recheck_by_form_glyphs(out: dict, digit_rows: list, cell_parts: dict, ems: dict) -> None:
    """A digit box read unsurely (the three readings differed, or Tesseract scored it low) whose every glyph looks
    likest the same digit printed in the form's other boxes read at :data:`SAMPLE_DIGITS` or more (the three
    readings agreed) is as sure as :data:`GLYPH_AGREED`. A form's values are printed in one font by one printer
    and scanned together, so its own glyphs are the best samples of what each digit looks like on this scan: a
    fax's lone 7 in a birth month, which eng and jpn read apart, matches the 7s of the amounts above it. A box
    never lends to itself. Only a confirmation: a glyph likest another digit changes nothing, and a digit the
    other boxes never show gives no verdict. Measured on the unsure digit boxes of 195 files of three training
    seeds (most picked for a digit misread): samples from boxes at 0.9 or more confirmed 260, none of them
    misread; from boxes at 0.8 or more, 410, none misread (most money boxes sit at 0.8, so at 0.9 a digit often
    had no sample). Where the glyphs said another digit (samples at 0.9), the reading was right 48 times out of 61."""
    glyphs: dict[object, list[tuple[str, np.ndarray]]] = {}
    for key, _, img, _, _ in digit_rows:
        digits = _digits(out[key].text)
        if key in cell_parts or not digits:
            continue
        vectors = [_glyph_vector(g) for g in _tall_glyphs(img, ems[key])]
        if len(vectors) == len(digits) and all(v is not None for v in vectors):
            glyphs[key] = list(zip(digits, vectors))
    lenders = {key for key in glyphs if out[key].confidence >= SAMPLE_DIGITS}  # fixed before any box is raised
    for key, pairs in glyphs.items():
        if out[key].confidence >= SURE_DIGITS:
            continue
        samples: dict[str, list[np.ndarray]] = {}
        for other in lenders - {key}:
            for digit, v in glyphs[other]:
                samples.setdefault(digit, []).append(v)
        if all(_likest(v, digit, samples) for digit, v in pairs):
            out[key] = replace(out[key], confidence=GLYPH_AGREED)


def _glyph_vector(glyph: np.ndarray) -> np.ndarray | None:
    """A glyph as a unit vector to compare with others: its ink's box scaled to :data:`GLYPH_PX` tall (the width
    in proportion, so that a 1 stays narrow), centred and blurred a little; None for a glyph without ink."""
    ys, xs = np.nonzero(glyph < INK_LEVEL)
    if not ys.size:
        return None
    ink = 255.0 - glyph[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(float)
    width = max(1, min(GLYPH_PX, round(ink.shape[1] * GLYPH_PX / ink.shape[0])))
    canvas = np.zeros((GLYPH_PX, GLYPH_PX))
    x0 = (GLYPH_PX - width) // 2
    canvas[:, x0:x0 + width] = cv2.resize(ink, (width, GLYPH_PX), interpolation=cv2.INTER_AREA)
    v = cv2.GaussianBlur(canvas, (0, 0), GLYPH_BLUR).ravel()
    v -= v.mean()
    norm = float(np.linalg.norm(v))
    return v / norm if norm else None


def _likest(v: np.ndarray, digit: str, samples: dict[str, list[np.ndarray]]) -> bool:
    """Whether glyph ``v`` is likest ``digit``'s samples, by :data:`GLYPH_MARGIN` over every other digit's."""
    best = {d: max(float(v @ s) for s in vs) for d, vs in samples.items()}
    if digit not in best:
        return False
    rival = max((b for d, b in best.items() if d != digit), default=-1.0)
    return best[digit] - rival >= GLYPH_MARGIN


def _recheck_cells(engine: OcrEngine, out: dict, cell_parts: dict, reqs: dict) -> None:
    """Digit-per-cell boxes: a cell read 6, 8 or 9 that has a zero's shape becomes 0 where the number then
    passes its check digit (:func:`_cell_zeros`); a reading that still has the wrong number of digits or
    fails its check digit is read again with the other model (jpn, digits only); the first candidate that
    fits wins."""
    _cell_zeros(out, cell_parts, reqs)
    retry = []
    for key, parts in cell_parts.items():
        if parts and not _fits(out[key].text, len(parts), reqs[key].valid):  # no inked cell: nothing to re-read
            retry.append(key)
    if not retry:
        return
    rows = []
    for key in retry:
        r = reqs[key]
        f = _scale(r.em, DIGIT_EM_PX)
        rows.append((key, 0, _cells_row(cell_parts[key], r.em_px), f, r.box))
    pieces = _read_rows(engine, {"digits_jpn": rows})
    for key, segs in pieces.items():
        words = [w for _, _, ws in segs for w in ws]
        text = join_words(words)
        if _fits(text, len(cell_parts[key]), reqs[key].valid) or not _fits(out[key].text, len(cell_parts[key]), None):
            out[key] = BoxRead(text, mean_confidence(words), words)


def _cell_zeros(out: dict, cell_parts: dict, reqs: dict) -> None:
    """The slashed-zero slip of :func:`_recheck_digit_zeros` in a digit-per-cell box (a fax's 法人番号 0 read 9,
    8 or 6), where each cell holds one glyph: taken only when the number then fits its cells and check digit
    (9 for 0 keeps a 法人番号's check digit: the shape alone decides there), as unsure as a disagreement."""
    for key, parts in cell_parts.items():
        digits = _digits(out[key].text)
        if len(digits) != len(parts):
            continue
        fixed = "".join(_zero_by_shape(ch, g) for ch, g in zip(digits, parts))
        if fixed != digits and _fits(fixed, len(parts), reqs[key].valid):
            out[key] = BoxRead(fixed, out[key].confidence * DISAGREEMENT_PENALTY, out[key].words)


def _fits(text: str, n_cells: int, valid: Callable[[str], bool] | None) -> bool:
    digits = _digits(text)
    return len(digits) == n_cells and (valid is None or valid(digits))


MODES = {"digits": "digits", "digits_vote": "digits", "digits_jpn": "digits_jpn", "kana": "kana", "text": "text_line"}
# the other kind, text boxes cut into segments, is read as sparse text: psm 6 drops short rows


def _read_rows(engine: OcrEngine, rows: Rows) -> dict[object, list[tuple[int, BBox, list[Word]]]]:
    """Stack the rows of each kind into one image, OCR it, and hand the words back per row."""
    return _read_stacks(engine, [rows])[0]


def _canvas(items: list) -> tuple[np.ndarray, list]:
    """The rows of one kind scaled and stacked into one image, and each row's band in it."""
    scaled = []
    for key, li, img, f, box in items:
        fx, fy = f if isinstance(f, tuple) else (f, f)
        if abs(fx - 1) > 0.05 or abs(fy - 1) > 0.05:
            img = cv2.resize(img, None, fx=fx, fy=fy, interpolation=cv2.INTER_CUBIC if fy > 1 else cv2.INTER_AREA)
        scaled.append((key, li, img, (fx, fy), box))
    width = max(img.shape[1] for _, _, img, _, _ in scaled) + 2 * LEFT_PAD_PX
    height = sum(img.shape[0] + ROW_GAP_PX for _, _, img, _, _ in scaled) + ROW_GAP_PX
    canvas = np.full((height, width), 255, np.uint8)
    bands = []
    y = ROW_GAP_PX
    for key, li, img, f, box in scaled:
        canvas[y:y + img.shape[0], LEFT_PAD_PX:LEFT_PAD_PX + img.shape[1]] = img
        bands.append((y, y + img.shape[0], key, li, box, f, []))
        y += img.shape[0] + ROW_GAP_PX
    if DEBUG_DIR:
        cv2.imwrite(f"{DEBUG_DIR}/stack_{id(canvas)}.png", canvas)
    return canvas, bands


def _read_stacks(engine: OcrEngine, stacks: list[Rows]) -> list[dict[object, list[tuple[int, BBox, list[Word]]]]]:
    """:func:`_read_rows` of several forms' rows: one image per form and kind, and one OCR call per mode for
    all the images (each image is still read on its own)."""
    canvases = [(i, MODES.get(kind, "sparse"), *_canvas(items)) for i, rows in enumerate(stacks)
                for kind, items in rows.items() if items]
    for mode in dict.fromkeys(m for _, m, _, _ in canvases):
        group = [(canvas, bands) for _, m, canvas, bands in canvases if m == mode]
        for (canvas, bands), words in zip(group, engine.read_words_batch([c for c, _ in group], mode=mode)):
            for w in words:
                cy = w.bbox.cy
                for y0, y1, key, li, box, (fx, fy), got in bands:
                    if y0 - ROW_GAP_PX / 2 <= cy < y1 + ROW_GAP_PX / 2:
                        b = w.bbox
                        got.append(Word(w.text, w.confidence, BBox(
                            box.x0 + (b.x0 - LEFT_PAD_PX) / fx, box.y0 + (b.y0 - y0) / fy,
                            box.x0 + (b.x1 - LEFT_PAD_PX) / fx, box.y0 + (b.y1 - y0) / fy)))
                        break
    pieces: list[dict] = [{} for _ in stacks]
    for i, _, _, bands in canvases:
        for y0, y1, key, li, box, f, got in bands:
            pieces[i].setdefault(key, []).append((li, box, got))
    return pieces
