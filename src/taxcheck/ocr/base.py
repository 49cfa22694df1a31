"""The contract every OCR engine keeps (invoice2data-style interface)."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from taxcheck.records import Word


class OcrUnavailable(RuntimeError):
    """The OCR engine is not installed or lacks a language: the batch cannot run."""


class OcrEngine(ABC):
    """Reads words from an image. Coordinates are pixels of the image passed in."""

    name: str = "base"

    @abstractmethod
    def read_words(self, image: np.ndarray, *, mode: str = "page", only: str = "") -> list[Word]:
        """Words with boxes and confidences 0..1. ``mode``: "page" (sparse form text), "line"
        (one line of text), "digits" (one line of digits and separators). ``only``: the characters the
        reading may use (besides the space), when the caller knows them."""

    @abstractmethod
    def read_choices(self, image: np.ndarray) -> list[list[str]]:
        """One line of text as the model's choices at each character, best first (a space between words is
        one too): where the caller knows what may be printed, a second choice can be the right one."""

    def read_words_batch(self, images: list[np.ndarray], *, mode: str) -> list[list[Word]]:
        """:meth:`read_words` of each image, in order; engines that can read many in one go override it."""
        return [self.read_words(image, mode=mode) for image in images]

    @abstractmethod
    def orientation(self, image: np.ndarray) -> int | None:
        """Degrees clockwise the page must be turned to be upright (0/90/180/270), None if unsure."""
