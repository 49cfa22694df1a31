"""Page image → words with boxes and confidences (0..1), behind one small engine contract.

``get_engine("tesseract")`` returns the default engine; another engine is one more entry in
``ENGINES`` implementing :class:`OcrEngine`.
"""

from __future__ import annotations

from taxcheck.ocr.base import OcrEngine, OcrUnavailable
from taxcheck.ocr.preprocess import clean_for_ocr, dropout_red, remove_rules
from taxcheck.ocr.tesseract import TesseractEngine

ENGINES: dict[str, type[OcrEngine]] = {"tesseract": TesseractEngine}


def get_engine(name: str = "tesseract", **kwargs) -> OcrEngine:
    try:
        return ENGINES[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown OCR engine {name!r}; known: {sorted(ENGINES)}") from None


__all__ = ["ENGINES", "OcrEngine", "OcrUnavailable", "TesseractEngine", "clean_for_ocr", "dropout_red", "get_engine", "remove_rules"]
