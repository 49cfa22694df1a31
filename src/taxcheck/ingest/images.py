"""Raster containers (multi-page TIFF, PNG, JPEG) → upright-unknown RGB pages.

Orientation and skew are the layout stage's job; here we only decode, keep the resolution
the file declares (300 dpi assumed when it declares none) and flatten to RGB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from taxcheck.ingest.errors import IngestError
from taxcheck.records import Page

DEFAULT_DPI = 300.0
# Decompression-bomb guard: a 600 dpi A3 scan is ~70 Mpx.
Image.MAX_IMAGE_PIXELS = 120_000_000


def _dpi(img: Image.Image) -> float:
    dpi = img.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    return value if 50 <= value <= 1200 else DEFAULT_DPI


def to_rgb(img: Image.Image) -> np.ndarray:
    """RGB uint8 array of a PIL image of any mode (1-bit fax TIFF, palette PNG, alpha, CMYK)."""
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
            pages.append(Page(source=source, page_no=i, image=to_rgb(frame), dpi=_dpi(frame)))
    except (OSError, SyntaxError, ValueError) as e:
        if pages:  # a multi-page TIFF cut after some good pages: keep them
            return pages
        msg = str(e).lower()
        code = "truncated_image" if "truncated" in msg or "broken" in msg or "end of file" in msg else "not_an_image"
        raise IngestError(code, type(e).__name__) from e
    finally:
        img.close()
    return pages
