"""A box's image cut out of the page and cleaned for OCR: rules, specks, a neighbour's lines and a printed 円 taken
out, faint print darkened, and the lines and segments of what is left found.

Why a module of its own: every reading of :mod:`taxcheck.extract.reread` starts from these crops, and the
measurements behind each constant (ink levels, the em-relative widths) are about paper and scanners, not OCR.
"""

from __future__ import annotations

from itertools import pairwise

import cv2
import numpy as np

from taxcheck.ocr.preprocess import binarize, stretch_greys
from taxcheck.records import BBox

EMPTY_INK_SHARE = 0.004  # below this share of ink pixels a box is blank (no OCR call)
MIN_INK_EM2 = 0.012  # …or fewer ink pixels than this many em² (a printed "1" has ~0.03–0.05 em²)
INK_LEVEL = 165  # darker than this counts as ink when deciding whether a box is blank (faint 200 dpi strokes)
FAINT_INK_LEVEL = 90  # a box whose darkest ink is lighter than this was scanned light (see _darken_faint)…
FAINT_INK_MAX = 150  # …unless lighter than this too: drop-out ink's remnants and haze (170–200), not print
WHITE_LEVEL = 205  # lighter than this is paper (drop-out ink remnants, JPEG haze); thin Mincho strokes of 200 dpi scans are darker
SPACE_EM = 0.55  # a blank gap wider than this share of the font size is a space
NARROW_EM = 0.38
NARROW_EXTRA_EM = 0.3
# column runs closer than this are strokes of one glyph (パ, ハ, 川; a squeezed ハ's stand 0.2 em apart) when judging
# narrowness
STROKE_GAP_EM = 0.3
YEN_MIN_WIDTH_EM = 0.65  # a trailing 円 is ~0.75 em wide, a digit ~0.4–0.55 em
YEN_TALLER = 1.12  # …and ~1.2× as tall as the digits before it
YEN_MAX_WIDTH_EM = 1.1  # three digits a fax's blur joined into one run (311,046) are ~1.4 em wide: no 円
SEGMENT_PAD_EM = 0.12  # white margin kept around each cut-out line
TALL_LINE_EM = 1.5  # a run of rows taller than this is two lines joined by haze (see _split_tall)
LINE_EDGE_EM = 0.4  # …cut no nearer its ends than this
VALLEY_SHARE = 0.2  # …and only at a row this much fainter than the run's median row
SPECK_EM = 0.1  # ink narrower and shorter than this share of the font size is noise, not a glyph
CELL_SHRINK = 0.16  # share of a digit cell trimmed on every side (the frame)


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


def keep_lines_inside(c: np.ndarray, margin_px: float, em_px: float) -> np.ndarray:
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


def glyph_runs(ink: np.ndarray, em_px: float, min_gap: float | None = None) -> list[tuple[int, int]]:
    """Column runs of a line's ink (``ink``: a boolean band), parted by gaps of ``min_gap`` columns (by default
    0.08 em: a glyph's strokes stay together), specks left out: a fax's or a dusty scanner's dot inside the space
    between family and given name would otherwise cut that space in two gaps too narrow to count."""
    runs = _runs(ink.sum(axis=0), min_gap or max(1, em_px * 0.08))
    speck = SPECK_EM * em_px
    return [(x0, x1) for x0, x1 in runs if x1 - x0 >= speck or ink_height(ink, x0, x1) >= speck]


def ink_height(ink: np.ndarray, x0: int, x1: int) -> int:
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
        glyphs = glyph_runs(faint[y0:y1], em_px)
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


def cell_images(grey: np.ndarray, cells: tuple[BBox, ...], em_px: float) -> list[np.ndarray]:
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
    x0, x1 = runs[-1]
    others = [h for h in (ink_height(ink, a, b) for a, b in runs[:-1]) if h >= 0.4 * em_px]  # commas are not digits
    if not others or not YEN_MIN_WIDTH_EM * em_px <= x1 - x0 <= YEN_MAX_WIDTH_EM * em_px:
        return c
    if ink_height(ink, x0, x1) >= YEN_TALLER * float(np.median(others)):
        c = c.copy()
        c[:, max(0, x0 - 1):x1 + 1] = 255
    return c


def drop_outside_glyphs(c: np.ndarray, margin_px: float) -> np.ndarray:
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


def cells_row(parts: list[np.ndarray], em_px: float) -> np.ndarray:
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
