"""Turns a rendered page into a realistic scan: raster at a dpi, skew, blur, noise, binarisation, rotation.

Every step takes a ``random.Random`` so the same seed gives the same pixels. The scanner's white
point is imitated by snapping near-white pixels back to pure white, which also keeps PNGs small.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class ScanSettings:
    """How a page was 'scanned'. Angles in degrees (positive = counter-clockwise), blur sigma in pixels."""

    dpi: int = 300
    skew: float = 0.0
    blur: float = 0.0
    noise: float = 0.0  # gaussian sigma in grey levels
    shift_px: tuple[int, int] = (0, 0)
    fax: bool = False  # binarise (fax / bitonal scanner)
    color: bool = False  # keep RGB (drop-out ink, red seals); else greyscale
    rotation: int = 0  # 0/90/180/270: how the page lies in the file (clockwise)
    white_point: int = 232  # grey levels at or above become paper white (the scanner's white point)
    black_point: int = 40  # grey levels at or below become full black (its black point)

    def describe(self) -> dict:
        return {"dpi": self.dpi, "skew": round(self.skew, 2), "blur": round(self.blur, 2), "noise": round(self.noise, 1),
                "fax": self.fax, "color": self.color, "rotation": self.rotation}


def scan(page: np.ndarray, s: ScanSettings, rng: random.Random) -> Image.Image:
    """Apply the settings to an upright RGB page; returns a PIL image (mode RGB, L or 1)."""
    img = page if s.color else cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    h, w = img.shape[:2]
    if s.skew or s.shift_px != (0, 0):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), s.skew, 1.0)
        m[0, 2] += s.shift_px[0]
        m[1, 2] += s.shift_px[1]
        border = (255, 255, 255) if img.ndim == 3 else 255
        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)
    if s.blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), s.blur)
    if s.noise > 0 or s.fax:
        cv2.setRNGSeed(rng.randrange(2**31))
        if s.noise > 0:
            noise = np.empty(img.shape[:2], np.uint8)
            cv2.randn(noise, 128, s.noise)
            if img.ndim == 3:
                noise = cv2.merge([noise, noise, noise])
            img = cv2.addWeighted(img, 1.0, noise, 1.0, -128.0)  # img + N(0, sigma), saturated in one pass
        if s.fax:
            _, img = cv2.threshold(img, 164, 255, cv2.THRESH_BINARY)
            specks = np.empty(img.shape, np.uint16)
            cv2.randu(specks, 0, 10000)
            img[specks < 8] = 0
    if not s.fax:
        grey = img if img.ndim == 2 else cv2.min(cv2.min(img[:, :, 0], img[:, :, 1]), img[:, :, 2])
        _, white = cv2.threshold(grey, s.white_point - 1, 255, cv2.THRESH_BINARY)
        img = cv2.max(img, white if img.ndim == 2 else cv2.merge([white, white, white]))
        if img.ndim == 2:
            _, keep = cv2.threshold(img, s.black_point, 255, cv2.THRESH_BINARY)
            img = cv2.min(img, keep)
    if s.rotation:
        img = np.ascontiguousarray(np.rot90(img, k=-(s.rotation // 90)))  # clockwise
    pil = Image.fromarray(img)
    if s.fax:
        pil = pil.convert("1")
    return pil


def encode(img: Image.Image, fmt: str, dpi: int, quality: int = 85) -> bytes:
    """Encode one image deterministically (no timestamps): PNG, JPEG or single-page TIFF."""
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, "PNG", dpi=(dpi, dpi), optimize=False, compress_level=6)
    elif fmt == "jpeg":
        img.convert("RGB" if img.mode == "RGB" else "L").save(buf, "JPEG", quality=quality, dpi=(dpi, dpi))
    elif fmt == "tiff":
        save_tiff([img], buf, dpi)
    else:
        raise ValueError(fmt)
    return buf.getvalue()


def save_tiff(images: list[Image.Image], buf: io.BytesIO, dpi: int | tuple[int, int]) -> None:
    """A (multi-page) TIFF: group 4 for bitonal pages, LZW otherwise; ``dpi`` one for both axes, or (x, y)."""
    first = images[0]
    comp = "group4" if first.mode == "1" else "tiff_lzw"
    xy = dpi if isinstance(dpi, tuple) else (dpi, dpi)
    first.save(buf, "TIFF", save_all=True, append_images=images[1:], compression=comp, dpi=xy)
