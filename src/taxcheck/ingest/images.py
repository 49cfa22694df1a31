"""Raster containers (multi-page TIFF, PNG, JPEG) → upright-unknown RGB pages.

Orientation and skew are the layout stage's job; here we only decode, turn a page as its EXIF orientation
tag says (phones and some scanners store the pixels as the sensor saw them and set the tag: every viewer a
clerk uses shows the page turned, and the layout stage then needs no OSD to find it), keep the resolution
the file declares (300 dpi assumed when it declares none) and flatten to RGB. Pixels that are not
square (a fax in standard mode: 204 × 98 dpi) are made square at the finer resolution, or the page
would be half its height to every later stage. A resolution that would make the page larger than A3
(phones and many image tools write 72 dpi whatever the pixels) is replaced by the one that makes its
long side an A4 sheet's.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from taxcheck.ingest.errors import IngestError
from taxcheck.records import Page

DEFAULT_DPI = 300.0
A4_LONG_IN = 297 / 25.4
A3_LONG_IN = 420 / 25.4
# Decompression-bomb guard: a 600 dpi A3 scan is ~70 Mpx.
Image.MAX_IMAGE_PIXELS = 120_000_000


def _dpi(img: Image.Image) -> tuple[float, float]:
    """(horizontal, vertical) resolution the image declares; 300 dpi for what it leaves out or gets wrong."""
    dpi = img.info.get("dpi")
    try:
        values = [float(v) for v in dpi[:2]] if dpi else []
    except (TypeError, ValueError):
        values = []
    values = [v if 50 <= v <= 1200 else DEFAULT_DPI for v in values] or [DEFAULT_DPI]
    return values[0], values[-1]


def _square(image: np.ndarray, dpi: tuple[float, float]) -> tuple[np.ndarray, float]:
    """The image with square pixels at the finer of its two resolutions, and that resolution."""
    x_dpi, y_dpi = dpi
    if abs(x_dpi - y_dpi) <= 0.02 * max(dpi):
        return image, x_dpi
    h, w = image.shape[:2]
    fine = max(dpi)
    size = (round(w * fine / x_dpi), round(h * fine / y_dpi))
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR), fine


def _plausible(image: np.ndarray, dpi: float) -> float:
    """``dpi``, or the A4 resolution of the image's long side when ``dpi`` makes the page larger than A3."""
    long_px = max(image.shape[:2])
    return dpi if long_px / dpi <= A3_LONG_IN * 1.1 else long_px / A4_LONG_IN


def _wide_grey_to_l(img: Image.Image) -> Image.Image:
    """An 8-bit grey image of a 16-bit (``I;16``), 32-bit integer (``I``) or float (``F``) grey one. Pillow's own
    conversion clips such samples at 255 instead of scaling them, so a 16-bit scan came out white but for its
    pure blacks, and no form was found on it. The samples are scaled from their type's full range: 16 bits for
    ``I;16``, and for ``I`` when any sample exceeds 255 (Pillow opens some 16-bit files as ``I``); 0–1 for a
    float image whose samples stay within it."""
    a = np.asarray(img, dtype=np.float64)
    peak = float(a.max()) if a.size else 0.0
    if img.mode == "F":
        full = 1.0 if peak <= 1.0 else 255.0
    else:
        full = 65535.0 if img.mode.startswith("I;16") or peak > 255 else 255.0
    return Image.fromarray(np.clip(np.rint(a * (255.0 / full)), 0, 255).astype(np.uint8))


def to_rgb(img: Image.Image) -> np.ndarray:
    """RGB uint8 array of a PIL image of any mode (1-bit fax TIFF, 16-bit grey scan, palette PNG, alpha, CMYK)."""
    if img.mode.startswith("I") or img.mode == "F":
        img = _wide_grey_to_l(img)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        bg = Image.new("RGB", img.size, "white")
        bg.paste(img.convert("RGBA"), mask=img.convert("RGBA").split()[-1])
        img = bg
    return np.asarray(img.convert("RGB"))


def read_image(path: Path, source: str) -> list[Page]:
    """Every frame of a TIFF/PNG/JPEG as a page (1-based page numbers)."""
    try:
        img = Image.open(path)
    except UnidentifiedImageError as e:
        raise IngestError("not_an_image", str(e)) from e
    pages: list[Page] = []
    try:
        for i, frame in enumerate(ImageSequence.Iterator(img), start=1):
            frame.load()
            frame = ImageOps.exif_transpose(frame)
            image, dpi = _square(to_rgb(frame), _dpi(frame))
            pages.append(Page(source=source, page_no=i, image=image, dpi=_plausible(image, dpi)))
    except (OSError, SyntaxError, ValueError) as e:
        if pages:  # a multi-page TIFF cut after some good pages: keep them
            return pages
        msg = str(e).lower()
        code = "truncated_image" if "truncated" in msg or "broken" in msg or "end of file" in msg else "not_an_image"
        raise IngestError(code, type(e).__name__) from e
    finally:
        img.close()
    return pages
