"""Tesseract (``jpn``) through pytesseract.image_to_data: words, boxes, confidences.

Modes map to page segmentation modes: "page" = psm 11 (sparse text: a form is islands of text,
not paragraphs), "line" = psm 7, "block" = psm 6, "digits" = psm 6 with a digit whitelist (re-reads of amount and
number boxes), "kana" = psm 11 with a katakana whitelist (フリガナ), "text_line" = psm 6 with the
Japanese script model when installed (whole lines of names and addresses). OMP_THREAD_LIMIT=1 is the caller's business (one process per core is faster).

Images go to Tesseract as uncompressed PNM: pytesseract's default PNG took ~0.14 s to encode per A4 page at
300 dpi (~4 % of a run), for the same words. PNM, like a PNG without a pHYs chunk, states no resolution, so
Tesseract estimates it from the text as before (BMP would state 96 dpi).
"""

from __future__ import annotations

import re

import numpy as np
import pytesseract
from PIL import Image

from taxcheck.ocr.base import OcrEngine, OcrUnavailable
from taxcheck.records import BBox, Word

PSM = {"text_line": 6, "page": 11, "block": 6, "sparse": 11, "line": 7, "digits": 6, "digits_jpn": 6, "kana": 11}
# The space must be allowed, or Tesseract glues the words of a line together (and reports confidence 0).
WHITELIST = {
    "digits": "0123456789,. ",
    "digits_jpn": "0123456789,. ",
    # full-width katakana, the voiced-sound marks, half-width katakana (ｦ..ﾟ)
    "kana": "".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ー゛゜" + "".join(chr(c) for c in range(0xFF66, 0xFFA0)) + " ",
}


SCRIPT_MODEL = "Japanese"  # Debian package tesseract-ocr-script-jpan: reads whole lines of names better than jpn


def _pnm(image: np.ndarray) -> Image.Image:
    """The image as pytesseract hands it over: PNM (pytesseract saves in the image's ``format``)."""
    img = Image.fromarray(image)
    img.format = "PPM"
    return img


class TesseractEngine(OcrEngine):
    name = "tesseract"

    def __init__(self, lang: str = "jpn", timeout: float = 120.0) -> None:
        self.lang = lang
        self.timeout = timeout
        self._script: bool | None = None

    @property
    def script_model(self) -> bool:
        """Whether the Japanese script model is installed (else whole text lines are read with ``lang``)."""
        if self._script is None:
            try:
                self._script = SCRIPT_MODEL in pytesseract.get_languages(config="")
            except (pytesseract.TesseractNotFoundError, OSError):
                self._script = False
        return self._script

    def check(self) -> None:
        """Raise OcrUnavailable unless tesseract and the language are installed."""
        try:
            langs = pytesseract.get_languages(config="")
        except (pytesseract.TesseractNotFoundError, OSError) as e:
            raise OcrUnavailable("tesseract is not installed") from e
        missing = [lang for lang in self.lang.split("+") if lang not in langs]
        if missing:
            raise OcrUnavailable(f"tesseract lacks language data: {missing}")

    def _config(self, mode: str) -> str:
        cfg = f"--psm {PSM[mode]} -c preserve_interword_spaces=1"
        if mode in WHITELIST:
            cfg += f' -c "tessedit_char_whitelist={WHITELIST[mode]}"'
        return cfg

    def read_words(self, image: np.ndarray, *, mode: str = "page") -> list[Word]:
        lang = "eng" if mode == "digits" else self.lang  # eng reads IPA digits (slashed 0) better than jpn
        if mode == "text_line" and self.script_model:
            lang = SCRIPT_MODEL
        data = pytesseract.image_to_data(
            _pnm(image), lang=lang, config=self._config(mode),
            output_type=pytesseract.Output.DICT, timeout=self.timeout,
        )
        words: list[Word] = []
        for text, conf, x, y, w, h in zip(data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"]):
            text = (text or "").strip()
            if not text:
                continue
            c = float(conf)
            words.append(Word(text, max(0.0, min(1.0, c / 100.0)), BBox(x, y, x + w, y + h)))
        return words

    def orientation(self, image: np.ndarray) -> int | None:
        try:
            osd = pytesseract.image_to_osd(_pnm(image), config="--psm 0", timeout=self.timeout)
        except pytesseract.TesseractError:
            return None
        rot = re.search(r"Rotate: (\d+)", osd)
        conf = re.search(r"Orientation confidence: ([\d.]+)", osd)
        if not rot or not conf or float(conf.group(1)) < 1.0:
            return None
        return int(rot.group(1)) % 360
