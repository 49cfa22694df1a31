"""Text normalisation: NFKC + width folding, white space, kana, check marks.

NFKC (``unicodedata``) folds full-width ASCII and half-width katakana; ``jaconv`` turns hiragana
read in a フリガナ box into katakana. No hand-written character tables beyond the few OCR
look-alikes that NFKC cannot know about.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import jaconv
import yaml

from taxcheck.normalize.places import correct_place

_WS = re.compile(r"\s+")
# Dashes and long marks OCR returns for "-" between digits in addresses (１－２－３, 1ー2ー3, 1一2).
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\u4e00\uff70\u2500"
_DIGIT_DASH = re.compile(rf"(?<=[0-9])\s*[{_DASHES}-]\s*(?=[0-9])")
# The long vowel mark OCR confuses with 一 (kanji one) and dashes, inside katakana.
_KATA_LONG = re.compile(rf"(?<=[\u30a1-\u30fa])[{_DASHES}-](?=[\u30a1-\u30fa\s]|$)")
# Stray marks Tesseract reads from a ruling or a speck at either end of a box: never a name's or an address's
# first character (ー cannot start a word) nor, standing apart, its last.
_LEAD_JUNK = re.compile(r"^[ー\-_=~|.,、。'\"`\s]+")
_TAIL_JUNK = re.compile(r"\s+[|」』)\]】.,、。'\"`!?:;\-]+$")
_CJK = "\u3040-\u30ff\u3400-\u9fff々"  # kana, kanji, 々 (a character class's body)
# …or glued to its last kana or kanji: a ruling's remnant read as | or as a closing bracket no opening one matches.
_GLUED_TAIL = re.compile(rf"(?<=[{_CJK}])(\|+|[」』】])$")
_OPENING = {"」": "「", "』": "『", "】": "【"}
# A period, colon or quote between the words of a name is a speck (a seal's edge, dust) no Japanese name holds:
# 坂本 .太郎, 池田.:蓮. Beside a space it goes; between two characters it took the gap between family and given name.
_INNER_SPECK = re.compile(rf"(?<=[{_CJK}])[.:;'`]+(?=[{_CJK}])|(?<= )[.:;'`]+(?=[{_CJK}])|(?<=[{_CJK}])[.:;'`]+(?= )")
# Japanese addresses, not names: OCR confusions that the address's own grammar settles.
_ADDRESS_REPAIRS = [
    # 第 is always followed by a number: the katakana look-alikes (and a doubled stroke) are the kanji
    (re.compile(r"第[ニ二][ニ二]?(?![ァィゥェォャュョッヮー])"), "第二"),
    (re.compile(r"第[ー―]"), "第一"),
    (re.compile(r"第ハ"), "第八"),
    # before 丁目 only a numeral stands
    (re.compile(r"ニ丁目"), "二丁目"),
    (re.compile(r"(?<![0-9])[ー―]丁目"), "一丁目"),
    # ピル (pill) is no address word; ビル (building) is in most company addresses: handakuten vs dakuten
    (re.compile(r"ピル"), "ビル"),
    # …and the other way in two more building words: パーク (park), コーポ (co-op); バーク, コーボ name no building
    (re.compile(r"バーク"), "パーク"),
    (re.compile(r"コーボ"), "コーポ"),
    # 1 read as ! | ] } l I i beside a digit or a dash (丸の内!-16-10, 日本橋}-11-7, 日本橋i-5-1); ! | ] } also before
    # or after a block-number word (7丁目!番, 1丁目]番, 6番!4号): no address writes them
    (re.compile(r"[!|\]}lIi](?=[0-9]*-[0-9])|(?<=[0-9]-)[!|\]}lIi]|(?<=[0-9])[!|\]}lI](?=[0-9])"), "1"),
    (re.compile(r"(?<=[0-9目番])[!|\]}](?=[0-9番号])|(?<=[目番])[!|\]}]"), "1"),
    # 7 read as ? where a block number's digit stands (芝浦1-14-?, 下石神井?丁目)
    (re.compile(r"(?<=-)\?(?=$| |-|[0-9])|(?<![0-9])\?(?=丁目|番)"), "7"),
    # a dash read as = between two digits, or beside the dash itself (日本橋1-24=5, 練馬3-6=-3)
    (re.compile(r"(?<=[0-9])(?:=-|-=|=)(?=[0-9])"), "-"),
    # no space inside a block number (番1 1号, 5 丁目): gaps between narrow digits read as spaces
    (re.compile(r"(?<=[0-9]) (?=[0-9]*(?:丁目|番|号))"), ""),
    # 丁目 with its 目 read as 月 or 日, its 丁 lost (4目27番) or read as another character (6芽目, 5耳目, 5了丁目):
    # a number is followed by 丁目, never by 丁月, by 目 alone or by another word ending in 目
    (re.compile(r"(?<=[0-9])丁[月日]"), "丁目"),
    (re.compile(r"(?<=[0-9])[^\s0-9番号目]{0,2}目(?=[0-9])"), "丁目"),
    # the letter O after a digit is a zero (9番1O号, サンハイツ3O1): a zero's slash lost to a fax; so is an @
    # (荻窪5-3@-15, 6丁目2@番): a slashed zero read whole
    (re.compile(r"(?<=[0-9])[Oo@]"), "0"),
    # an address ends in a number, a word or a floor, never in a dot glued to its last digit (本町4-30-8.)
    (re.compile(r"(?<=[0-9])[.,。、]$"), ""),
    # a dash after the space that ends a block number starts no building name (2-28-6 -第一ビル): a speck or a rule
    (re.compile(r"(?<=[0-9]) [-ー―‐−]+(?=[^0-9\s-])"), " "),
    # nor does a mark part a floor or room from its number (ビル7?階)
    (re.compile(r"(?<=[0-9])[?？!|:;.,'\"`](?=階|号室|F)"), ""),
]
# A yen amount in running text (摘要: 支払金額545,120円) with its commas read as dots: yen have no decimals.
_YEN_DOTS = re.compile(r"(?<![0-9.,])[1-9][0-9]{0,2}(?:[.,][0-9]{3})+(?=円)")
# …or with its first comma lost (3271,711円) or a speck read beside one (2,.676,554円): its digits regrouped.
_YEN_REGROUP = re.compile(r"(?<![0-9.,])[1-9][0-9]{3,5}(?:,[0-9]{3})+(?=円)"
                          r"|(?<![0-9.,])[1-9][0-9]{0,2},\.(?=[0-9]{3}[,円])")
# A month or day no calendar has, in running text (令和3年19月13日退職): its 0 read 6, 8 or 9 (see reread.zero_slip).
_DATE_ZERO_SLIPS = [(re.compile(r"(?<=年)1[689](?=月)"), "10"), (re.compile(r"(?<=月)3[689](?=日)"), "30")]
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
    gap: 氏 and 名, a building name), ``-`` between digits (番地) whatever dash OCR read, stray
    marks at either end dropped (also a | or an unmatched closing bracket glued to the last character), a yen
    amount's commas read as dots, lost or beside a speck mended (545.120円, 3271,711円, 2,.676,554円), a month or
    day with its 0 misread mended (19月 → 10月), a speck between a name's words dropped (坂本 .太郎), and a word of
    摘要 one character off spelled right (源泉微収税額, 年末調整林済: :func:`_remarks_words`)."""
    s = _DIGIT_DASH.sub("-", fold(raw))
    s = _TAIL_JUNK.sub("", _LEAD_JUNK.sub("", s))
    glued = _GLUED_TAIL.search(s)
    if glued and _OPENING.get(glued.group(1)[0], "\0") not in s:
        s = s[:glued.start()]
    s = _YEN_DOTS.sub(lambda m: m.group(0).replace(".", ","), s)
    s = _YEN_REGROUP.sub(_regrouped, s)
    for pattern, repl in _DATE_ZERO_SLIPS:
        s = pattern.sub(repl, s)
    s = _INNER_SPECK.sub(lambda m: "" if " " in (m.string[m.start() - 1], m.string[m.end()]) else " ", s)
    return Normalized(_remarks_words(s), True)


def _regrouped(m: re.Match) -> str:
    """A yen amount's digits in groups of three (a speck's dot after a comma dropped)."""
    text = m.group(0)
    return text[:-1] if text.endswith(".") else f"{int(text.replace(',', '')):,}"


@lru_cache(maxsize=1)
def _words() -> tuple[str, ...]:
    """remarks_words.yaml: the words payroll software writes in 摘要."""
    data = yaml.safe_load((resources.files(__package__) / "remarks_words.yaml").read_text(encoding="utf-8"))
    return tuple(data["words"])


def _remarks_words(s: str) -> str:
    """``s`` with each stretch one character off a word of 摘要 (:func:`_words`) spelled as that word."""
    for word in _words():
        n = len(word)
        if word[:n // 2] not in s and word[n // 2:] not in s:
            continue  # one character off the word leaves one of its halves whole
        for i in range(len(s) - n + 1):
            if sum(a != b for a, b in zip(s[i:i + n], word)) == 1:
                s = s[:i] + word + s[i + n:]
    return s


def normalize_address(raw: str) -> Normalized:
    """An address: as :func:`normalize_text`, then the OCR confusions its grammar settles (第ニ → 第二,
    ピル → ビル, 1-16 read as !-16 or }-16, 1-14-7 as 1-14-?, 24-5 as 24=5, a space inside a block number, 丁月 → 丁目,
    1O号 or 1@号 → 10号) and its place name mended against Japan Post's list (:mod:`taxcheck.normalize.places`). A
    place not on the list does not fit the format."""
    s = normalize_text(raw).value
    if not s:
        return Normalized(s, True)
    for pattern, repl in _ADDRESS_REPAIRS:
        s = pattern.sub(repl, s)
    s, known = correct_place(s)
    return Normalized(s, known)


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
