"""Snap a box placed by the fitted transform onto the ruled lines actually printed around it.

The similarity transform from a handful of small labels can be off by a millimetre or two in a
corner of the form (skew remnants, misread labels, a scanner's uneven scale). The form's ruled
cells are known in the template, and their lines are easy to find in the image, so each box is
shifted locally by the (dx, dy) that best lays the template's nearby cell edges onto the page's
line pixels ("prefer the ruled cell").

The same lines tell a form whose printed labels no OCR can read (:func:`fit_frame`): its title, read whole, says
roughly where the form is and how large; the ruled frame, fitted there, says whether it is one and where exactly.
"""

from __future__ import annotations

import cv2
import numpy as np

from taxcheck.ocr.preprocess import binarize, to_grey
from taxcheck.records import BBox

WINDOW_MM = 4.0  # look this far around the box for lines
MAX_SHIFT_MM = 2.5
MIN_LINE_MM = 4.2  # a ruled line piece is at least this long (printed digits are < 3.5 mm)


def line_masks(image: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """(vertical, horizontal) ruled-line masks (uint8 0/1) of a page, frames in any ink colour."""
    bw = binarize(to_grey(image))
    n = max(9, int(MIN_LINE_MM * px_per_mm))
    vert = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, n)))
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (n, 1)))
    return (vert > 0).astype(np.uint8), (horiz > 0).astype(np.uint8)


def _pixels_under(profile: np.ndarray, positions: np.ndarray, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(line pixels, inside): the profile's line pixels at each position (rounded) moved by each shift, position ×
    shift (0 off the profile), and which of those fall on it."""
    at = np.round(positions).astype(int)[:, None] + shifts
    inside = (at >= 0) & (at < profile.size)
    return np.where(inside, profile[np.clip(at, 0, profile.size - 1)], 0.0), inside


def _best_shift(profile: np.ndarray, edges: list[float], origin: float, max_shift: int) -> int:
    """The shift (-max_shift..max_shift) that lays most line pixels under the edges; the smallest of equals."""
    if not edges or profile.size == 0:
        return 0
    shifts = np.arange(-max_shift, max_shift + 1)
    pixels, inside = _pixels_under(profile, np.asarray(edges) - origin, shifts)
    scores = pixels.sum(axis=0)
    best, best_score = 0, 0.0
    for d, score, seen in zip(shifts.tolist(), scores.tolist(), inside.any(axis=0).tolist()):
        if seen and (score > best_score * 1.0001 or (score == best_score and abs(d) < abs(best))):
            best, best_score = d, score
    # demand real evidence: the best shift must see line pixels along a good part of the edges
    return best if best_score > 0 else 0


def snap_shift(box: BBox, v_edges: list[float], h_edges: list[float], masks: tuple[np.ndarray, np.ndarray],
               px_per_mm: float) -> tuple[float, float]:
    """(dx, dy) in page pixels that moves ``box`` onto the page's lines; edges are page-pixel positions
    of the template's cell edges around the box (vertical lines' x, horizontal lines' y)."""
    vert, horiz = masks
    h, w = vert.shape
    pad = WINDOW_MM * px_per_mm
    x0, y0 = max(0, int(box.x0 - pad)), max(0, int(box.y0 - pad))
    x1, y1 = min(w, int(box.x1 + pad)), min(h, int(box.y1 + pad))
    if x1 <= x0 or y1 <= y0:
        return 0.0, 0.0
    max_shift = int(MAX_SHIFT_MM * px_per_mm)
    # vertical lines within the box's own rows; horizontal lines within its columns
    by0, by1 = max(0, int(box.y0)), min(h, int(box.y1))
    bx0, bx1 = max(0, int(box.x0)), min(w, int(box.x1))
    vprof = vert[by0:by1, x0:x1].sum(axis=0).astype(np.float64) if by1 > by0 else np.zeros(0)
    hprof = horiz[y0:y1, bx0:bx1].sum(axis=1).astype(np.float64) if bx1 > bx0 else np.zeros(0)
    dx = _best_shift(vprof, [e for e in v_edges if x0 <= e < x1], x0, max_shift)
    dy = _best_shift(hprof, [e for e in h_edges if y0 <= e < y1], y0, max_shift)
    return float(dx), float(dy)


# A form whose printed labels were all lost to the page pass (a blurred 200 dpi scan in pale drop-out ink: 社会保険料等の
# 金額 read 性生生登料大の多合) is still told by its title read whole and its ruled frame where that title puts it.
FRAME_SCALE_SPAN = 0.08  # the frame is looked for at scales this share either side of the title's…
FRAME_SCALE_STEP = 0.002  # …in steps of this share…
FRAME_SHIFT_MM = 8.0  # …and offsets this far from it (the title alone gives the scale only to ~4 %)
FRAME_TOL_PX = 2  # a template rule lies on the page's rule when within this many pixels of it
MIN_FRAME_COVER = 0.8  # the share of the template's rules (each direction) that must lie on the page's rules

Rule = tuple[float, float, float]  # (where across, from, to along) in mm: a horizontal rule's y, x0, x1


def _merged(edges: list[Rule]) -> list[Rule]:
    """Collinear, touching cell edges as one rule."""
    runs: dict[float, list[list[float]]] = {}
    for at, a, b in sorted(edges):
        segs = runs.setdefault(round(at, 1), [])
        if segs and a <= segs[-1][1] + 0.01:
            segs[-1][1] = max(segs[-1][1], b)
        else:
            segs.append([a, b])
    return [(at, a, b) for at, segs in runs.items() for a, b in segs]


def _rules(cells) -> tuple[list[Rule], list[Rule]]:
    """The template's ruled lines from its cells (x0, y0, x1, y1 mm): horizontal (y, x0, x1), upright (x, y0, y1)."""
    horizontal = _merged([e for x0, y0, x1, y1 in cells for e in ((y0, x0, x1), (y1, x0, x1))])
    upright = _merged([e for x0, y0, x1, y1 in cells for e in ((x0, y0, y1), (x1, y0, y1))])
    return horizontal, upright


def _best_offset(profile: np.ndarray, rules: list[Rule], scale: float, guess: float, span: int) -> tuple[float, float]:
    """(offset, share): the offset within ``span`` px of ``guess`` that lays the most rule pixels of ``profile`` (the
    page's rule pixels summed across) under ``rules`` scaled by ``scale``, and that score over the rules' length."""
    at = np.array([r[0] for r in rules])
    length = np.array([r[2] - r[1] for r in rules])
    offsets = np.arange(int(guess) - span, int(guess) + span + 1)
    score = (_pixels_under(profile, at * scale, offsets)[0] * length[:, None]).sum(axis=0)
    best = int(np.argmax(score))
    return float(offsets[best]), float(score[best]) / (scale * length.sum())


def _cover(mask: np.ndarray, rules: list[Rule], m: np.ndarray, horizontal: bool) -> float:
    """The share of the rules' length (mapped by ``m``) within FRAME_TOL_PX of the page's rule pixels ``mask``."""
    near = cv2.dilate(mask, np.ones((2 * FRAME_TOL_PX + 1,) * 2, np.uint8))
    pts = np.array([(u, at) if horizontal else (at, u) for at, a, b in rules for u in np.arange(a + 0.5, b - 0.5)])
    xs = np.round(pts[:, 0] * m[0, 0] + m[0, 2]).astype(int)
    ys = np.round(pts[:, 1] * m[1, 1] + m[1, 2]).astype(int)
    ok = (xs >= 0) & (ys >= 0) & (xs < mask.shape[1]) & (ys < mask.shape[0])
    return float(near[ys[ok], xs[ok]].sum()) / len(pts)


def fit_frame(masks: tuple[np.ndarray, np.ndarray], init: np.ndarray, cells, size_mm) -> tuple[np.ndarray, float]:
    """The offset and scale that lay the template's ruled ``cells`` (mm) on the page's rule ``masks``
    (:func:`line_masks`), searched near the 2×3 ``init`` (the title's guess), and the share of the template's rules
    that then lie on the page's (the lesser of the two directions; a cover letter's is near 0, a form's near 1).
    Rows' y and columns' x are fitted apart, each on the page's profile of its rules."""
    vert, horiz = masks
    horizontal, upright = _rules(cells)
    s0 = float(np.hypot(init[0, 0], init[1, 0]))
    x0, y0 = float(init[0, 2]), float(init[1, 2])
    c0, c1 = max(0, int(x0)), min(vert.shape[1], int(x0 + s0 * size_mm[0]))
    r0, r1 = max(0, int(y0)), min(vert.shape[0], int(y0 + s0 * size_mm[1]))
    if c1 <= c0 or r1 <= r0 or not horizontal or not upright:
        return np.asarray(init, dtype=np.float64), 0.0
    rows = horiz[:, c0:c1].sum(axis=1).astype(np.float64)  # where the horizontal rules are, down the page
    columns = vert[r0:r1, :].sum(axis=0).astype(np.float64)
    span = int(FRAME_SHIFT_MM * s0)
    best = (-1.0, s0, x0, y0)
    for s in np.arange(s0 * (1 - FRAME_SCALE_SPAN), s0 * (1 + FRAME_SCALE_SPAN), s0 * FRAME_SCALE_STEP):
        ty, share_y = _best_offset(rows, horizontal, s, y0, span)
        tx, share_x = _best_offset(columns, upright, s, x0, span)
        if share_x + share_y > best[0]:
            best = (share_x + share_y, float(s), tx, ty)
    _, s, tx, ty = best
    m = np.array([[s, 0.0, tx], [0.0, s, ty]])
    return m, min(_cover(horiz, horizontal, m, True), _cover(vert, upright, m, False))
