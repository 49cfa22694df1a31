"""Tick marks (＊, ○, ✓) in small boxes, read as ink rather than as characters.

A lone ＊ in a 5 mm box is where OCR is weakest; the presence of ink is not. We measure the
share of dark pixels in the box (on the cleaned image: rules removed, red drop-out) after
shrinking it so that the frame is never counted.
"""

from __future__ import annotations

import numpy as np

from taxcheck.records import BBox

INK_LEVEL = 128  # grey level below which a pixel is ink
MARK_SHARE = 0.02  # share of ink pixels that makes a box "marked"
SHRINK = 0.12  # share of the box trimmed on every side


def ink_share(grey: np.ndarray, box: BBox) -> float:
    h, w = grey.shape[:2]
    dx, dy = box.width * SHRINK, box.height * SHRINK
    x0, y0 = max(0, int(box.x0 + dx)), max(0, int(box.y0 + dy))
    x1, y1 = min(w, int(box.x1 - dx)), min(h, int(box.y1 - dy))
    if x1 <= x0 or y1 <= y0:
        return 0.0
    crop = grey[y0:y1, x0:x1]
    return float((crop < INK_LEVEL).mean())


def is_marked(grey: np.ndarray, box: BBox) -> tuple[bool, float]:
    """(marked?, confidence 0..1) — confident when the ink share is far from the threshold."""
    s = ink_share(grey, box)
    marked = s >= MARK_SHARE
    margin = abs(s - MARK_SHARE) / MARK_SHARE
    return marked, float(min(0.99, 0.6 + 0.4 * min(1.0, margin)))
