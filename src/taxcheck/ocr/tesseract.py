"""Tesseract (``jpn``) through pytesseract.image_to_data: words, boxes, confidences.

Modes map to page segmentation modes: "page" = psm 11 (sparse text: a form is islands of text,
not paragraphs), "line" = psm 7, "block" = psm 6, "digits" = psm 6 with a digit whitelist (re-reads of amount and
number boxes), "kana" = psm 11 with a katakana whitelist (フリガナ), "text_line" = psm 6 (whole lines of names
and addresses). OMP_THREAD_LIMIT=1 is the caller's business (one process per core is faster).

Every mode reads with ``jpn`` but "digits" (``eng``). The Japanese script model (``tesseract-ocr-script-jpan``)
was measured for the whole text lines on 160 forms of the benchmark (the 56 files holding its misread names,
addresses and remarks, and 50 other scanned files; session 18): it reads other texts wrong, not fewer in all
(氏名 13 → 8 wrong, but 支払者 住所 17 → 22: hyphens of block numbers lost, 2-20-12 read 220-12), at the same
speed; not used.

Images go to Tesseract as uncompressed PNM: pytesseract's default PNG took ~0.14 s to encode per A4 page at
300 dpi (~4 % of a run), for the same words. PNM, like a PNG without a pHYs chunk, states no resolution, so
Tesseract estimates it from the text as before (BMP would state 96 dpi).

Tesseract reads a line a second time in inverted colours (as if printed white on black) whenever its first
reading holds an unsure character (``tessedit_do_invert``). Nothing on a form is printed white on black, so the
page pass goes without that second reading (most of a page's OCR time: 5 % less time on 24 scanned files for
every mode, the same values). The box reads keep it: without it, on the benchmark's faxes, 2 names and their
フリガナ were read wrong (session 19; session 17 saw the same on the whole benchmark).

``read_choices`` reads one line with the model's alternatives per character (hOCR with ``lstm_choice_mode=2``).

Tesseract takes ~0.2 s to start (loading its model), a good share of a small image's reading. Images read
the same way go to one run as a list of files (``read_words_batch``): each is still read as a page of its
own, so the words are the same as one run per image.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from xml.etree import ElementTree

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


def _pnm(image: np.ndarray) -> Image.Image:
    """The image as pytesseract hands it over: PNM (pytesseract saves in the image's ``format``)."""
    img = Image.fromarray(image)
    img.format = "PPM"
    return img


def _words(data: dict) -> tuple[list[int], list[Word]]:
    """(page number, word) of each non-blank word of image_to_data's output."""
    pages: list[int] = []
    words: list[Word] = []
    for page, text, conf, x, y, w, h in zip(data["page_num"], data["text"], data["conf"], data["left"], data["top"],
                                            data["width"], data["height"]):
        text = (text or "").strip()
        if not text:
            continue
        pages.append(int(page))
        words.append(Word(text, max(0.0, min(1.0, float(conf) / 100.0)), BBox(x, y, x + w, y + h)))
    return pages, words


class TesseractEngine(OcrEngine):
    name = "tesseract"

    def __init__(self, lang: str = "jpn", timeout: float = 120.0) -> None:
        self.lang = lang
        self.timeout = timeout

    def check(self) -> None:
        """Raise OcrUnavailable unless tesseract and the language are installed."""
        try:
            langs = pytesseract.get_languages(config="")
        except (pytesseract.TesseractNotFoundError, OSError) as e:
            raise OcrUnavailable("tesseract is not installed") from e
        missing = [lang for lang in self.lang.split("+") if lang not in langs]
        if missing:
            raise OcrUnavailable(f"tesseract lacks language data: {missing}")

    def _config(self, mode: str, only: str = "") -> str:
        cfg = f"--psm {PSM[mode]} -c preserve_interword_spaces=1"
        if mode == "page":
            cfg += " -c tessedit_do_invert=0"
        if only or mode in WHITELIST:
            cfg += f' -c "tessedit_char_whitelist={only + " " if only else WHITELIST[mode]}"'
        return cfg

    def _lang(self, mode: str) -> str:
        if mode == "digits":
            return "eng"  # eng reads IPA digits (slashed 0) better than jpn
        return self.lang

    def _data(self, image: Image.Image | str, mode: str, only: str = "") -> dict:
        return pytesseract.image_to_data(image, lang=self._lang(mode), config=self._config(mode, only),
                                         output_type=pytesseract.Output.DICT, timeout=self.timeout)

    def read_words(self, image: np.ndarray, *, mode: str = "page", only: str = "") -> list[Word]:
        return _words(self._data(_pnm(image), mode, only))[1]

    def read_choices(self, image: np.ndarray) -> list[list[str]]:
        """jpn, one line, with the LSTM's alternatives per character (``lstm_choice_mode=2`` in hOCR)."""
        hocr = pytesseract.image_to_pdf_or_hocr(_pnm(image), lang=self.lang, extension="hocr", timeout=self.timeout,
                                                config=f"--psm {PSM['line']} -c lstm_choice_mode=2")
        return [[c.text or "" for c in el] for el in ElementTree.fromstring(hocr).iter()
                if el.get("id", "").startswith("lstm_choices")]

    def read_words_batch(self, images: list[np.ndarray], *, mode: str) -> list[list[Word]]:
        if len(images) < 2:
            return [self.read_words(image, mode=mode) for image in images]
        with tempfile.TemporaryDirectory(prefix="taxcheck_ocr_") as tmp:
            paths = []
            for i, image in enumerate(images):
                paths.append(Path(tmp, f"{i}.pnm"))
                _pnm(image).save(paths[-1], format="PPM")
            listing = Path(tmp, "images.txt")
            listing.write_text("".join(f"{p}\n" for p in paths), encoding="utf-8")
            pages, words = _words(self._data(str(listing), mode))
        out: list[list[Word]] = [[] for _ in images]
        for page, word in zip(pages, words):
            out[page - 1].append(word)
        return out

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
