"""Text normalisation: NFKC + width folding, white space, kana, check marks.

NFKC (``unicodedata``) folds full-width ASCII and half-width katakana; ``jaconv`` turns hiragana
read in a フリガナ box into katakana. No hand-written character tables beyond the few OCR
look-alikes that NFKC cannot know about.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import jaconv

_WS = re.compile(r"\s+")
# CJK ideographs, kana, the prolonged sound mark and the iteration mark: no space belongs between two of them.
_CJK = r"[\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_CJK_GAP = re.compile(rf"(?<={_CJK}) (?={_CJK})")
# Dashes and long marks OCR returns for "-" between digits in addresses (１－２－３, 1ー2ー3, 1一2).
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\u4e00\uff70\u2500"
_DIGIT_DASH = re.compile(rf"(?<=[0-9])\s*[{_DASHES}-]\s*(?=[0-9])")
# The long vowel mark OCR confuses with 一 (kanji one) and dashes, inside katakana.
_KATA_LONG = re.compile(rf"(?<=[\u30a1-\u30fa])[{_DASHES}-](?=[\u30a1-\u30fa\s]|$)")
# Marks that mean "ticked" in a check box.
_TICKS = set("○〇◯●◎✓✔レ*＊※xX×vV1")


@dataclass(frozen=True)
class Normalized:
    """A normalised value and whether it fits its type's format (False lowers confidence)."""

    value: str
    ok: bool = True


def fold(text: str) -> str:
    """NFKC, then runs of white space (including the ideographic space) to one ASCII space, trimmed."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text or "")).strip()


def normalize_text(raw: str) -> Normalized:
    """Names, addresses, remarks: NFKC, folded spaces (a space is kept only where the form shows a
    gap: 氏 and 名, a building name), and ``-`` between digits (番地) whatever dash OCR read."""
    s = fold(raw)
    s = _DIGIT_DASH.sub("-", s)
    return Normalized(s, True)


def normalize_kana(raw: str) -> Normalized:
    """フリガナ: katakana (hiragana folded), long marks repaired, one space between family and given name."""
    # a voiced-sound mark read on its own (タ゛) joins its kana: as the half-width mark, NFKC composes it
    s = jaconv.hira2kata(fold((raw or "").replace("゛", "ﾞ").replace("゜", "ﾟ")))
    s = _KATA_LONG.sub("ー", s)
    ok = bool(s) and all(("\u30a0" <= c <= "\u30ff") or c == " " for c in s)
    return Normalized(s, ok or not s)


def normalize_flag(raw: str) -> Normalized:
    """A check box: "1" when it holds any tick mark, "" when empty."""
    s = fold(raw).replace(" ", "")
    if not s:
        return Normalized("", True)
    return Normalized("1", any(c in _TICKS for c in s))
