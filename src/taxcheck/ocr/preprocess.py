"""Image clean-up before OCR.

* Red/orange ink drop-out: the printed frame of the official form is often red or orange; in the
  red channel such ink is as light as the paper, while black print stays dark.
* Ruled-line removal: long horizontal/vertical runs found by morphological opening are painted
  white, so that frames are not read as ``|``, ``l`` or ``一``.
* Light scans: a page whose darkest print is a mid grey (drop-out labels on a pale 200 dpi JPEG) has
  its greys stretched, or Tesseract's own thresholding loses the labels the forms are found by.
"""

from __future__ import annotations

import cv2
import numpy as np

LINE_MIN_FRACTION = 0.025  # a rule is at least this share of the page width/height long
MIN_LINE_PX = 25
LIGHT_PAGE_LEVEL = 140  # a page whose darkest 1 % of pixels is lighter than this was scanned light
LIGHT_PAGE_MARGIN = 40  # …its stretched greys run from this much below that darkest 1 % (black)…
PAPER_MARGIN = 10  # …to this much below the paper's grey (white)


def dropout_red(image: np.ndarray) -> np.ndarray:
    """Grey image in which red/orange ink is light: the max of R and the luminance.

    Black stays black (R is low), red/orange goes near white (R is high), blue ink stays dark.
    """
    if image.ndim == 2:
        return image
    rgb = image[:, :, :3]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return np.maximum(grey, rgb[:, :, 0])


def stretch_greys(grey: np.ndarray, black: float, white: float) -> np.ndarray:
    """``grey`` mapped linearly so that ``black`` becomes 0 and ``white`` 255 (clipped)."""
    scale = 255.0 / max(1.0, white - black)
    return np.clip((grey.astype(np.float32) - black) * scale, 0, 255).astype(np.uint8)


def stretch_light_page(grey: np.ndarray) -> np.ndarray:
    """``grey`` unchanged, or, when the page was scanned light, stretched so that its print is dark."""
    darkest, paper = np.percentile(grey[::4, ::4], [1, 50])
    if darkest <= LIGHT_PAGE_LEVEL:
        return grey
    return stretch_greys(grey, darkest - LIGHT_PAGE_MARGIN, paper - PAPER_MARGIN)


def binarize(grey: np.ndarray) -> np.ndarray:
    """Ink = 255, paper = 0 (Otsu)."""
    _, bw = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return bw


def rule_mask(bw: np.ndarray, min_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(horizontal, vertical) masks of ruled lines in an ink=255 binary image."""
    h, w = bw.shape
    lh = min_len or max(MIN_LINE_PX, int(w * LINE_MIN_FRACTION))
    lv = min_len or max(MIN_LINE_PX, int(h * LINE_MIN_FRACTION))
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (lh, 1)))
    vert = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, lv)))
    return horiz, vert


def remove_rules(grey: np.ndarray) -> np.ndarray:
    """Grey image with ruled lines painted white."""
    bw = binarize(grey)
    horiz, vert = rule_mask(bw)
    mask = cv2.dilate(cv2.bitwise_or(horiz, vert), np.ones((3, 3), np.uint8))
    out = grey.copy()
    out[mask > 0] = 255
    return out


def clean_for_ocr(image: np.ndarray) -> np.ndarray:
    """Red drop-out, then rule removal: the image OCR reads."""
    return remove_rules(dropout_red(image))
