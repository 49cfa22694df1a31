"""フリガナ against the name it spells: the form carries each 氏名 twice, once in kanji and once in katakana.

Tesseract loses or invents the voicing marks of small katakana (フクダ read フクタ, ヒロシ read ヒロジ),
confuses small and full-size kana (ッ, ツ) and reads a speck as one more kana. The readings a dictionary
gives for the kanji name (``pykakasi``'s dictionary: 蓮 is ハス, レン or ハチス) settle exactly those marks.
Where the kana read is one of them, it stands; where it differs from exactly one of them only in such
marks, that reading is what is printed. Family and given name are compared apart, and a name with no
reading that fits is left as read: names have readings no dictionary knows.

The other way round, the kana says which characters a name misread as a look-alike may be spelled with
(``name_characters``: 蓮 read 運 beside レン), and a kana garbled beside a name read sure is best guessed as the
name's reading nearest to it (``likeliest_kana``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import jaconv
import yaml
from rapidfuzz.distance import Levenshtein

MAX_KANA_EDITS = 1  # nearest_kana: a part this many kana off its name's only near reading is that reading…
UNSURE_KANA_EDITS = 2  # …or this many, when the フリガナ was read unsure (see UNSURE_KANA)
# A フリガナ read below this confidence is unsure. On the scans of two training seeds (66 kana misread), kana
# read right but spelling no reading of the name (ハルト of 陽翔, a misread 壮 for アオイ) scored 0.53–0.93, and
# 21 garbled ones below it were two kana off their name's only near reading (ロンシ for ヒロシ of 浩).
UNSURE_KANA = 0.5
MIN_NEAR_KANA = 3  # …in parts of at least this many kana: one off in two (レン, ウン of a misread 運) is half
MAX_NAME_LENGTH = 8  # a person's name without its space; longer is no single person's name
# Marks glued to either end of a name (a ruling read as |, a corner as 」): no Japanese name has them.
_NOT_NAME_ENDS = re.compile(r"^[^\u3040-\u30ff\u3400-\u9fff々〆]+|[^\u3040-\u30ff\u3400-\u9fff々〆]+$")
_SMALL = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
# Half-width ｼ ﾝ ﾂ ｿ differ only in the slant of their strokes: OCR reads one for another. In four generated runs,
# nine フリガナ ending in シ (タカシ, ヒロシ) were read ン, and the reading one kana short (タカ, ヒロ: 隆 and 浩 have
# both) was taken for them; no trailing ン was a stray kana.
_LOOKALIKE = str.maketrans("ンツソ", "シシシ")


@lru_cache(maxsize=1)
def _dictionary():
    """pykakasi's converter and its word table (every reading of a word), loaded on first use (~1 s)."""
    import pykakasi
    from pykakasi.kanji import Kanwa

    return pykakasi.kakasi(), Kanwa()


def is_japanese(c: str) -> bool:
    """Whether ``c`` is kana or a kanji: a character of a name."""
    return "\u3040" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff" or c in "々〆ヶ"


@lru_cache(maxsize=1)
def _given_names() -> tuple[dict[str, list[str]], frozenset[str]]:
    """name_readings.yaml: readings of given names the dictionary lacks, and given names no one is given."""
    data = yaml.safe_load((resources.files(__package__) / "name_readings.yaml").read_text(encoding="utf-8"))
    return data["readings"], frozenset(data["not_given_names"])


@lru_cache(maxsize=4096)
def readings(part: str) -> tuple[str, ...]:
    """The katakana readings of one part of a name (family or given): name_readings.yaml's, the dictionary's
    entries for the whole part, and pykakasi's conversion; ``()`` when the part is not Japanese script or is
    no one's name."""
    extra, nobody = _given_names()
    if not part or not all(is_japanese(c) for c in part) or part in nobody:
        return ()
    converter, words = _dictionary()
    found = extra.get(part, []) + ["".join(item["hira"] for item in converter.convert(part))]
    found += [yomi for yomi, _ in (words.load(part) or {}).get(part, [])]
    return tuple(dict.fromkeys(jaconv.hira2kata(r) for r in found if r))


def _listed(part: str) -> bool:
    """Whether ``part`` is a word of the dictionary or of name_readings.yaml (not only the conversion's)."""
    _, words = _dictionary()
    return part in _given_names()[0] or bool((words.load(part) or {}).get(part))


@lru_cache(maxsize=1)
def _by_reading() -> dict[str, str]:
    """Every katakana reading in pykakasi's word table → the characters of the words of up to
    MAX_NAME_LENGTH / 2 characters read so (レン → 蓮連廉…). Built on first use: ~2 s, ~170,000 readings."""
    _, words = _dictionary()
    chars: dict[str, set[str]] = {}
    for code in range(0x3400, 0xA000):  # the word table is keyed by each word's first character
        for word, entries in (words.load(chr(code)) or {}).items():
            if len(word) <= MAX_NAME_LENGTH // 2:
                for yomi, _ in entries:
                    chars.setdefault(jaconv.hira2kata(yomi), set()).update(word)
    for name, name_readings in _given_names()[0].items():
        for reading in name_readings:
            chars.setdefault(reading, set()).update(name)
    return {reading: "".join(sorted(cs)) for reading, cs in chars.items()}


def name_characters(kana: str, name: str) -> str:
    """The characters a name read against its フリガナ may be spelled with: a part that reads as its kana keeps
    its own, a part that does not may take any character of a word read as its kana. Empty when the two do not
    split alike, already agree, or a kana part spells no word. For re-reading a name that Tesseract's model
    misreads as a look-alike (蓮 as 運, 葵 as 壮) with only those characters allowed."""
    pairs = _pairs(kana, name)
    if not pairs or all(_match(p, n) is not None for p, n in pairs):
        return ""
    allowed = ""
    for part, name_part in pairs:
        own = _match(part, name_part) is not None
        chars = name_part if own else "".join(c for c in _by_reading().get(part, "") if c not in _given_names()[1])
        if not chars:
            return ""
        allowed += chars
    return "".join(sorted(set(allowed)))


def _loose(kana: str) -> str:
    """Each kana without its voicing mark and at full size: one character for one, so lengths agree."""
    return "".join(unicodedata.normalize("NFD", c)[0] for c in kana).translate(_SMALL)


def _same_but_marks(read: str, reading: str) -> bool:
    """Whether ``read`` is ``reading`` but for voicing marks and kana size."""
    return _loose(read) == _loose(reading)


def marks_lost(kana: str, name: str) -> bool:
    """Whether a part of ``kana`` is its name part's common reading (the conversion's, first in
    :func:`readings`) with voicing marks lost: オカタ for 岡田, ヤマサキ for 山崎. The dictionary holds both
    readings, so the pair agrees, but OCR loses a dakuten easily (5 フリガナ misread so in four generated runs,
    and no フリガナ read right): the kana is not sure. (A person may be ヤマサキ; only a person can tell.)"""
    def voiced(text: str) -> int:
        return sum(unicodedata.normalize("NFD", c) != c for c in text)

    for part, name_part in _pairs(kana, name):
        options = readings(name_part)
        if options and part != options[0] and _same_but_marks(part, options[0]) and voiced(part) < voiced(options[0]):
            return True
    return False


def _same_but_lookalikes(read: str, reading: str) -> bool:
    """Whether ``read`` is ``reading`` but for marks, size and look-alike kana (タカン for タカシ)."""
    return _loose(read).translate(_LOOKALIKE) == _loose(reading).translate(_LOOKALIKE)


def _but_one_at_an_end(read: str, reading: str) -> bool:
    """Whether ``read`` is ``reading`` (marks aside) with one extra kana at either end: a speck or a ruling
    read as ソ, ィ. A kana missing or wrong inside is not settled here."""
    a, b = _loose(read), _loose(reading)
    return len(a) == len(b) + 1 and b in (a[1:], a[:-1])


def _match(read: str, part: str, *, stray: bool = True) -> str | None:
    """The reading of ``part`` that ``read`` spells: itself when it is one, else the one reading it differs
    from only in marks, else the one it differs from only in look-alike kana, else (with ``stray``) the one it
    holds with one kana more. None when there is none, or several: コウ fits both こう and ごう of 剛."""
    options = readings(part)
    if read in options:
        return read
    tests = (_same_but_marks, _same_but_lookalikes) + ((_but_one_at_an_end,) if stray else ())
    for test in tests:
        near = [r for r in options if test(read, r)]
        if near:
            return near[0] if len(near) == 1 else None
    return None


def _split(kana: str, family: str) -> list[str]:
    """``kana`` as [family, given]: at its space, or after the family name's reading when OCR lost the space."""
    parts = kana.split(" ")
    if len(parts) == 1:
        cuts = {len(r) for r in readings(family) if len(kana) > len(r) and _loose(kana).startswith(_loose(r))}
        if len(cuts) == 1:
            cut = cuts.pop()
            return [kana[:cut], kana[cut:]]
    return parts


def _pairs(kana: str, name: str) -> list[tuple[str, str]]:
    """[(kana part, name part)] for family and given name, or [] when either does not split in two."""
    names = name.split(" ")
    if len(names) != 2 or not kana:
        return []
    parts = _split(kana, names[0])
    return list(zip(parts, names)) if len(parts) == 2 else []


def reconcile_kana(kana: str, name: str) -> str:
    """``kana`` with each part taken from the name's reading where the two differ only in voicing marks, kana
    size or one stray kana at an end, and the space between family and given name restored from the name."""
    pairs = _pairs(kana, name)
    if not pairs:
        return kana
    return " ".join(_match(p, n) or p for p, n in pairs)


def nearest_kana(kana: str, name: str, confidence: float = 1.0) -> str:
    """``kana`` with each part that spells no reading of its name part replaced by the one reading nearest to
    it, at most one kana away (a kana lost, added inside or misread: イトクウ → イトウ), marks and size aside,
    or two when the kana was read unsure (``confidence`` below :data:`UNSURE_KANA`; only then: ハルコ printed
    for 陽子 is two off ヨウコ). A part further off, as near two readings, or of two kana (unless it is three with
    one lost), stays as read: a real name may have a reading the dictionary lacks, and a misread name (蓮 read
    運) must not bend a kana read right."""
    pairs = _pairs(kana, name)
    if not pairs:
        return kana
    edits = UNSURE_KANA_EDITS if confidence < UNSURE_KANA else MAX_KANA_EDITS
    out = []
    for part, name_part in pairs:
        matched = _match(part, name_part)
        off = {r: Levenshtein.distance(_loose(part), _loose(r)) for r in readings(name_part)}
        nearest = min(off.values(), default=edits + 1)
        near = [r for r, d in off.items() if d == nearest <= edits]
        fits = near[0] if len(near) == 1 and _long_enough(part, near[0], nearest) else None
        out.append(matched or fits or part)
    return " ".join(out)


def likeliest_kana(kana: str, name: str) -> str | None:
    """The name's reading (family and given) likeliest printed where the フリガナ was read garbled: the one
    nearest to what was read, marks, size and the space aside, or the dictionary's first reading (its
    conversion, the common one) when even the nearest is more than half its kana off: a garble that close to
    no reading says nothing. None when a part has no reading. For a フリガナ read unsure beside a name read sure."""
    names = name.split(" ")
    if len(names) != 2 or not all(readings(n) for n in names):
        return None
    options = [f"{f} {g}" for f in readings(names[0]) for g in readings(names[1])]
    read = _loose(kana.replace(" ", ""))

    def off(option: str) -> int:
        return Levenshtein.distance(read, _loose(option.replace(" ", "")))

    best = min(options, key=off)  # ties go to the earlier: the conversion's reading comes first
    return best if off(best) <= len(best.replace(" ", "")) / 2 else options[0]


def _long_enough(part: str, reading: str, edits: int) -> bool:
    """Whether ``part``, ``edits`` kana off ``reading``, is long enough to be taken for it: both of MIN_NEAR_KANA,
    or ``part`` is ``reading`` with one kana lost (ネコ of カネコ, サキ of ササキ: Tesseract drops a small
    half-width kana far more often than it invents one; two of three kana kept in order is no chance)."""
    return min(len(part), len(reading)) >= MIN_NEAR_KANA or (
        len(reading) >= MIN_NEAR_KANA and len(part) == len(reading) - 1 and edits == 1)


def agrees(kana: str, name: str) -> bool:
    """Whether both parts of ``kana`` spell readings of the name's parts, voicing marks and kana size aside."""
    pairs = _pairs(kana, name)
    return bool(pairs) and all(_match(p, n) is not None for p, n in pairs)


def name_spelled_by(kana: str, candidates: Iterable[str]) -> str | None:
    """The first of ``candidates`` (readings of one 氏名 box) that ``kana`` spells, with marks glued to its
    ends dropped and its family/given space put back, or two of its words that the kana spells (山田 芽依 |門:
    a stamp's edge read beside the name); None when none is."""
    for text in candidates:
        words = _NOT_NAME_ENDS.sub("", text).split(" ")
        pairs = [" ".join(words[i:i + 2]) for i in range(len(words) - 1)] if len(words) > 2 else []
        for name in [" ".join(words), *pairs]:
            name = split_name(_NOT_NAME_ENDS.sub("", name), kana)
            if agrees(kana, name):
                return name
    return None


def split_name(name: str, kana: str) -> str:
    """``name`` with the space between family and given name put back where OCR lost it (阿部洋平 → 阿部 洋平):
    at the one place where the part before reads as the フリガナ's family part; where the フリガナ lost its space
    too (the page pass's ワタナベヒロシ, 渡辺浩), at the one place where both parts read as the kana."""
    parts = kana.split(" ")
    if " " in name or len(parts) > 2 or not 2 <= len(name) <= MAX_NAME_LENGTH:
        return name
    if len(parts) == 1:  # the conversion reads any run of kanji: both parts must be words the dictionary lists
        cuts = [k for k in range(1, len(name)) if _listed(name[:k]) and _listed(name[k:])
                and agrees(kana, f"{name[:k]} {name[k:]}")]
    else:
        cuts = [k for k in range(1, len(name)) if _match(parts[0], name[:k], stray=False) is not None]
    return f"{name[:cuts[0]]} {name[cuts[0]:]}" if len(cuts) == 1 else name


def agreement(kana: str, name: str) -> tuple[float, float]:
    """Whether the family and the given part of ``kana`` are readings of the name's parts (1.0 or 0.0), NaN
    where the name does not split in two or a part has no reading."""
    names = name.split(" ")
    if len(names) != 2 or not kana:
        return math.nan, math.nan
    pairs = _pairs(kana, name)
    if not pairs:
        return 0.0, 0.0
    return tuple(float(p in readings(n)) if readings(n) else math.nan for p, n in pairs)  # type: ignore[return-value]
