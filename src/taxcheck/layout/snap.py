"""Snap a box placed by the fitted transform onto the ruled lines actually printed around it.

The similarity transform from a handful of small labels can be off by a millimetre or two in a
corner of the form (skew remnants, misread labels, a scanner's uneven scale). The form's ruled
cells are known in the template, and their lines are easy to find in the image, so each box is
shifted locally by the (dx, dy) that best lays the template's nearby cell edges onto the page's
line pixels ("prefer the ruled cell").
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


def _best_shift(profile: np.ndarray, edges: list[float], origin: float, max_shift: int) -> int:
    """The shift (-max_shift..max_shift) that lays most line pixels under the edges; the smallest of equals."""
    if not edges or profile.size == 0:
        return 0
    shifts = np.arange(-max_shift, max_shift + 1)
    at = np.round(np.asarray(edges) - origin).astype(int)[:, None] + shifts  # edge × shift → profile index
    inside = (at >= 0) & (at < profile.size)
    scores = np.where(inside, profile[np.clip(at, 0, profile.size - 1)], 0.0).sum(axis=0)
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
