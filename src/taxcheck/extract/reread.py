"""OCR of field boxes cropped from the cleaned page (the scan path).

Measured on generated forms (see bench/read_bench.md): one full-page OCR pass finds the titles
and anchor labels well, but its values inside ruled boxes suffer from frame remnants, printed
千/円 marks and neighbouring text. Reading each non-empty box on its own, with the right page
segmentation (digits only for amounts, numbers and dates), is more accurate. Starting Tesseract
costs ~0.2 s per call (the jpn model loads each time), so the boxes of one form are stacked into
one tall image per mode — one call for text boxes, one for digit boxes — and the words are sent
back to their boxes by their vertical position. Empty boxes (ink test) are never sent.
"""

from __future__ import annotations

import cv2
import numpy as np

from taxcheck.ocr.base import OcrEngine
from taxcheck.ocr.preprocess import binarize
from taxcheck.records import BBox, Word

PAD_PX = 12
TARGET_BOX_PX = 80  # upscale small boxes so that their height is about this
MAX_UPSCALE = 3.0
EMPTY_INK_SHARE = 0.004  # below this share of ink pixels a box is blank (no OCR call)


def crop(grey: np.ndarray, box: BBox, blank: list[BBox] = ()) -> np.ndarray:
    """The box cut out of ``grey``, printed marks in ``blank`` painted white, short rules removed."""
    h, w = grey.shape[:2]
    x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
    x1, y1 = min(w, int(box.x1 + 0.5)), min(h, int(box.y1 + 0.5))
    if x1 - x0 < 3 or y1 - y0 < 3:
        return np.full((8, 8), 255, np.uint8)
    c = grey[y0:y1, x0:x1].copy()
    for b in blank:
        bx0, by0 = int(max(b.x0 - x0, 0)), int(max(b.y0 - y0, 0))
        bx1, by1 = int(min(b.x1 - x0, c.shape[1])), int(min(b.y1 - y0, c.shape[0]))
        if bx1 > bx0 and by1 > by0:
            c[by0:by1, bx0:bx1] = 255
    bw = binarize(c)
    ch, cw = c.shape
    vert = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(3, int(ch * 0.8)))))
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(min(cw, ch * 4) * 0.9)), 1)))
    mask = cv2.dilate(cv2.bitwise_or(vert, horiz), np.ones((3, 3), np.uint8))
    c[mask > 0] = 255
    return c


def has_ink(c: np.ndarray) -> bool:
    return float((c < 128).mean()) >= EMPTY_INK_SHARE


def ocr_box(engine: OcrEngine, grey: np.ndarray, box: BBox, mode: str, blank: list[BBox] = ()) -> list[Word] | None:
    """Words read in ``box`` (coordinates back in page pixels); None when the box holds no ink."""
    c = crop(grey, box, blank)
    if not has_ink(c):
        return None
    f = min(MAX_UPSCALE, max(1.0, TARGET_BOX_PX / max(1, c.shape[0])))
    if f > 1.05:
        c = cv2.resize(c, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    c = cv2.copyMakeBorder(c, PAD_PX, PAD_PX, PAD_PX, PAD_PX, cv2.BORDER_CONSTANT, value=255)
    words = engine.read_words(c, mode=mode)
    out = []
    for w in words:
        b = w.bbox
        out.append(Word(w.text, w.confidence, BBox(box.x0 + (b.x0 - PAD_PX) / f, box.y0 + (b.y0 - PAD_PX) / f,
                                                   box.x0 + (b.x1 - PAD_PX) / f, box.y0 + (b.y1 - PAD_PX) / f)))
    return out


ROW_GAP_PX = 36
LEFT_PAD_PX = 24


TARGET_TEXT_PX = 44  # glyph height the crops are scaled to (Tesseract likes 30–50 px capitals)
DEBUG_DIR = None  # set to a folder to keep the stacked images (development only)


def ocr_many(engine: OcrEngine, grey: np.ndarray, requests: list[tuple[str, BBox, str, list[BBox], float]]) -> dict[str, list[Word]]:
    """Read many boxes in one OCR call per mode.

    ``requests``: (key, box, mode, printed marks to blank, expected glyph height in page px). Returns
    words per key in page pixels; a key whose box holds no ink maps to [].
    """
    out: dict[str, list[Word]] = {key: [] for key, *_ in requests}
    by_mode: dict[str, list[tuple[str, BBox, np.ndarray, float]]] = {}
    for key, box, mode, blank, text_px in requests:
        c = crop(grey, box, blank)
        if not has_ink(c):
            continue
        f = min(MAX_UPSCALE, max(0.5, TARGET_TEXT_PX / max(1.0, text_px)))
        if abs(f - 1) > 0.05:
            c = cv2.resize(c, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)
        by_mode.setdefault("digits" if mode == "digits" else "block", []).append((key, box, c, f))
    for mode, items in by_mode.items():
        width = max(c.shape[1] for _, _, c, _ in items) + 2 * LEFT_PAD_PX
        height = sum(c.shape[0] + ROW_GAP_PX for _, _, c, _ in items) + ROW_GAP_PX
        canvas = np.full((height, width), 255, np.uint8)
        bands = []
        y = ROW_GAP_PX
        for key, box, c, f in items:
            canvas[y:y + c.shape[0], LEFT_PAD_PX:LEFT_PAD_PX + c.shape[1]] = c
            bands.append((y, y + c.shape[0], key, box, f))
            y += c.shape[0] + ROW_GAP_PX
        if DEBUG_DIR:
            cv2.imwrite(f"{DEBUG_DIR}/stack_{mode}_{id(canvas)}.png", canvas)
        for w in engine.read_words(canvas, mode=mode):
            cy = w.bbox.cy
            for y0, y1, key, box, f in bands:
                if y0 - ROW_GAP_PX / 2 <= cy < y1 + ROW_GAP_PX / 2:
                    b = w.bbox
                    out[key].append(Word(w.text, w.confidence, BBox(
                        box.x0 + (b.x0 - LEFT_PAD_PX) / f, box.y0 + (b.y0 - y0) / f,
                        box.x0 + (b.x1 - LEFT_PAD_PX) / f, box.y0 + (b.y1 - y0) / f)))
                    break
    return out
