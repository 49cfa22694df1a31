"""Single glyphs of a box: a digit box cut into its digits, the shapes that tell a slashed zero from a 6, 8 or 9
and a 1 from a bar, slashed zeros paired glyph by glyph inside a text line, and glyphs compared with a form's own
samples of each digit.

Why: Tesseract reads the slashed 0 of IPA fonts as 9, 6 or 8 and a lone 1 as nothing; the glyph's shape, or the
same digit printed elsewhere on the form, settles what the readings cannot. :mod:`taxcheck.extract.reread` decides
when to ask; this module only looks.
"""

from __future__ import annotations

import math
from itertools import pairwise

import cv2
import numpy as np

from taxcheck.extract.crops import INK_LEVEL, SEGMENT_PAD_EM, SPECK_EM, cut_out, glyph_runs, ink_height
from taxcheck.records import BBox, Word

GLYPH_MIN_WIDTH_EM = 0.08  # a digit is at least this wide (a Mincho 1's stem at 200 dpi is ~0.1 em)
GLYPH_EDGE_EM = 0.2  # …and stands this far from the crop's sides (a frame line's remnant does not)…
EDGE_GLYPH_WIDTH_EM = 0.3  # …unless this wide: a digit printed flush to its box's edge (a remnant is a thin stroke)
GLYPH_MAX_WIDTH_EM = 0.62  # a wider component is digits touching…
DIGIT_PITCH_EM = 0.5  # …as many as fit at this pitch (digits are half-width)
GLYPH_HEIGHT_EM = (0.45, 1.1)  # …and this tall: a comma or a dot is shorter, a frame remnant taller
FLAT_EM = 0.15  # a flat stroke lower than this share of the font size is a rule's remnant
BAR_WIDTH_EM = 0.15  # a stem: rows of ink no wider than this…
BAR_DRIFT_EM = 0.1  # …whose centres move no more than this over the middle of the glyph
ZERO_PAD_EM = 0.25  # margin cut around a digit word of a text line: its glyphs' edges lie a little outside the box
ZERO_SIDE_EM = 1.5  # …and at its sides, to hold the characters on either side
# From this size of a line's em up (300 dpi 1-up, ~37 px), a 0, 6, 8 or 9 shows its loop, and pairing one with a glyph
# that has none costs LOOPLESS_COST more (サンハイツ308 read 3908 paired its 9 with the 3). Smaller, a blurred 6 closes
# up (2-up メゾン石神井602 would read 02). On 1,565 recorded address boxes of five seeds: 1 more mended, 1 fewer broken.
LOOP_MIN_EM_PX = 30
LOOPLESS_COST = 0.4
SLASH_HALVES = 0.4  # the two holes of a slashed zero: the smaller at least this share of the larger…
SLASH_OVERLAP = 0.2  # …side by side over this share of their height (at 200 dpi the slash leaves them diagonal)…
SLASH_SPAN = 0.5  # …and together over this share of the glyph's height
ZERO_HOLE_HEIGHT = 0.7  # a zero's one hole runs at least this share of its height (a 9's loop ≤ ~0.65)…
ZERO_HOLE_OFFSET = 0.1  # …centred within this share of it
GLYPH_MARGIN = 0.1  # …and an unsure box's glyph is the digit read when it is likest that digit's samples by this much
GLYPH_PX = 32  # glyphs are compared scaled to this height…
GLYPH_BLUR = 1.0  # …and blurred this much (px), so that a pixel's shift costs little
_LOOPED = "48"  # digits with holes of their own (noise splits a fax's 4's in two): a zero only when its slash shows


def zero_by_shape(ch: str, glyph: np.ndarray) -> str:
    """``ch`` (a digit read from ``glyph``, or "" for nothing read) as 0 when the glyph has a zero's shape."""
    return "0" if ch != "0" and is_zero(glyph, plain=ch not in _LOOPED) else ch


def zeros_by_shape(grey: np.ndarray, w: Word, em: float, before: str = "", after: str = "") -> str:
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
        runs = glyph_runs(ink, em, min_gap=1)  # every empty column parts: a hyphen touching a 6 is its own run
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
        if not 0 <= i < len(text) or not set(w.text[i:i + k]) & SIX_NINE:
            continue
        if is_zero(_glyph_at(c, ink, top, x0, x1)):
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
SIX_NINE = set("69６９")
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
    glyphs = [(x0, x1, ink_height(ink, x0, x1)) for x0, x1 in runs]
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


def is_zero(img: np.ndarray, plain: bool = True) -> bool:
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


def tall_glyphs(c: np.ndarray, em_px: float) -> list[np.ndarray]:
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


def is_bar(glyph: np.ndarray, em_px: float) -> bool:
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


def glyph_vector(glyph: np.ndarray) -> np.ndarray | None:
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


def likest(v: np.ndarray, digit: str, samples: dict[str, list[np.ndarray]]) -> bool:
    """Whether glyph ``v`` is likest ``digit``'s samples, by :data:`GLYPH_MARGIN` over every other digit's."""
    best = {d: max(float(v @ s) for s in vs) for d, vs in samples.items()}
    if digit not in best:
        return False
    rival = max((b for d, b in best.items() if d != digit), default=-1.0)
    return best[digit] - rival >= GLYPH_MARGIN
