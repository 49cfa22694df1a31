"""Image crops of flagged boxes, so a clerk sees the pixels a value was read from.

Crops are cut from the upright page image (the coordinates of ``FieldValue.bbox``) with a margin.
The 個人番号 box is never cropped: its pixels would show all 12 digits, and the report shows the
masked value ("********1234") instead. A 12-digit 支払者番号 is a 個人番号 as well and is treated alike.
The margin of a neighbouring box's crop can reach into the 個人番号 box (the フリガナ line sits right
under it), so every 個人番号 box reaching into a crop is painted white on it (a box misread onto the 個人番号
line then shows white, never the digits).
Files are written with mode 0600 (they show names and amounts).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from taxcheck.privacy import is_personal_number_column
from taxcheck.records import Form

MARGIN_PX = 12  # fixed margin around the box, in page pixels
MARGIN_FRACTION = 0.25  # plus this share of the box height, so neighbouring print stays in view
MAX_CROP_WIDTH_PX = 900  # wider crops are scaled down (a whole address line is enough)
FILE_MODE = 0o600
PERSONAL_PAD_PX = 3  # painted around a 個人番号 box: its bbox is the ink's, tight around the digits


def crop_name(form_key: str, column: str) -> str:
    """A file name for a crop that holds no personal data (the form key may hold a person's file name)."""
    digest = hashlib.sha1(form_key.encode("utf-8")).hexdigest()[:12]
    return f"{digest}_{column}.png"


def _as_pil(image: np.ndarray | Image.Image) -> Image.Image:
    """The page as a PIL image, not copied (grey stays grey: crops are converted one by one)."""
    if isinstance(image, Image.Image):
        return image
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def _write_png(img: Image.Image, path: Path) -> None:
    """PNG at zlib's default level: ``optimize`` (a search over levels) took ~20 ms a crop for ~10 % fewer bytes."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        img.save(fh, format="PNG")
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, path)


def _personal_boxes(form: Form) -> list[tuple[float, float, float, float]]:
    """The 個人番号 boxes of ``form`` with :data:`PERSONAL_PAD_PX` around them, in page pixels."""
    return [(b.x0 - PERSONAL_PAD_PX, b.y0 - PERSONAL_PAD_PX, b.x1 + PERSONAL_PAD_PX, b.y1 + PERSONAL_PAD_PX)
            for col, fv in form.fields.items()
            if (b := fv.bbox) is not None and is_personal_number_column(col, fv.value or fv.raw)]


def _cut(page: Image.Image, box: tuple[int, int, int, int], hidden: list[tuple[float, float, float, float]]
         ) -> Image.Image:
    """``box`` of ``page`` in RGB, every 個人番号 box reaching into it painted white (the page itself is left as it is:
    converting and copying a whole page took ~25 ms a form)."""
    x0, y0, _, _ = box
    crop = page.crop(box).convert("RGB")
    draw = ImageDraw.Draw(crop)
    for hx0, hy0, hx1, hy1 in hidden:
        draw.rectangle((hx0 - x0, hy0 - y0, hx1 - x0, hy1 - y0), fill="white")
    return crop


def crop_boxes(
    image: np.ndarray | Image.Image,
    form: Form,
    columns: Iterable[str],
    out_dir: str | Path,
) -> dict[str, str]:
    """Write a PNG crop of each of ``columns`` of ``form`` and return ``{column: path}``.

    Columns without a box (blank, not found) and 個人番号 boxes get no crop. ``image`` is the
    upright page image (RGB or grey array, or PIL image) the form's boxes were measured on.
    """
    out = Path(out_dir)
    page = _as_pil(image)
    hidden = _personal_boxes(form)
    width, height = page.size
    crops: dict[str, str] = {}
    for column in dict.fromkeys(columns):  # unique, in order
        fv = form.fields.get(column)
        if fv is None or fv.bbox is None:
            continue
        if is_personal_number_column(column, fv.value or fv.raw):
            continue
        b = fv.bbox
        margin = MARGIN_PX + MARGIN_FRACTION * max(b.height, 0)
        x0, y0 = max(0, int(b.x0 - margin)), max(0, int(b.y0 - margin))
        x1, y1 = min(width, int(b.x1 + margin + 1)), min(height, int(b.y1 + margin + 1))
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        crop = _cut(page, (x0, y0, x1, y1), hidden)
        if crop.width > MAX_CROP_WIDTH_PX:
            crop = crop.resize((MAX_CROP_WIDTH_PX, max(1, round(crop.height * MAX_CROP_WIDTH_PX / crop.width))))
        out.mkdir(parents=True, exist_ok=True)
        path = out / crop_name(form.key, column)
        _write_png(crop, path)
        crops[column] = str(path)
    return crops
