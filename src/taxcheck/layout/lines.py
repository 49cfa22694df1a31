"""Words → text lines with a box per character, and a fuzzy search for printed labels in them.

OCR splits and merges Japanese words freely (「支払」「金額」 or 「支払金額」), and misreads a
character here and there, so labels are searched character by character inside lines: an exact
substring first, else the longest matching blocks (difflib) covering most of the label. Each
matched character gives one point correspondence (its box centre on the page ↔ its position in
the template), which is what the transform fit needs.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from taxcheck.records import BBox, Word

LINE_OVERLAP = 0.5  # vertical overlap (share of the smaller height) to be on the same line
LINE_GAP = 1.6  # horizontal gap (in heights) beyond which two words on a row are separate lines
MIN_MATCH_SHARE = 0.6


def canon(text: str) -> str:
    """Comparison form of a label or of OCR text: NFKC, no spaces."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass
class Line:
    words: list[Word]
    text: str  # canon text, one entry per character in ``boxes``
    boxes: list[BBox]  # one box per character (word boxes split evenly)

    @cached_property
    def chars(self) -> frozenset[str]:
        return frozenset(self.text)

    @property
    def bbox(self) -> BBox:
        return BBox(min(b.x0 for b in self.boxes), min(b.y0 for b in self.boxes),
                    max(b.x1 for b in self.boxes), max(b.y1 for b in self.boxes))


def char_boxes(word: Word) -> tuple[str, list[BBox]]:
    t = canon(word.text)
    if not t:
        return "", []
    b = word.bbox
    if b.height > 2.2 * b.width and len(t) > 1:  # vertical text: split along y
        step = b.height / len(t)
        return t, [BBox(b.x0, b.y0 + i * step, b.x1, b.y0 + (i + 1) * step) for i in range(len(t))]
    step = b.width / len(t)
    return t, [BBox(b.x0 + i * step, b.y0, b.x0 + (i + 1) * step, b.y1) for i in range(len(t))]


def group_lines(words: list[Word]) -> list[Line]:
    """Cluster words into horizontal lines, left to right.

    First bands of words whose vertical centres agree (whatever their x), then each band is cut
    wherever the horizontal gap between neighbours is wider than LINE_GAP heights.
    """
    bands: list[list[Word]] = []
    stats: list[list[float]] = []  # running mean centre and height of each band
    for w in sorted(words, key=lambda w: w.bbox.cy):
        b = w.bbox
        placed = False
        for i in range(len(bands) - 1, max(-1, len(bands) - 4), -1):
            cy, hh = stats[i]
            if abs(b.cy - cy) <= LINE_OVERLAP * max(min(hh, b.height), 1.0):
                bands[i].append(w)
                n = len(bands[i])
                stats[i] = [cy + (b.cy - cy) / n, hh + (b.height - hh) / n]
                placed = True
                break
        if not placed:
            bands.append([w])
            stats.append([b.cy, b.height])
    rows: list[list[Word]] = []
    for band in bands:
        band.sort(key=lambda w: w.bbox.x0)
        row = [band[0]]
        right = band[0].bbox.x1
        for w in band[1:]:
            h = max(w.bbox.height, max(x.bbox.height for x in row[-3:]))
            if w.bbox.x0 - right > LINE_GAP * h:
                rows.append(row)
                row = []
            row.append(w)
            right = max(right, w.bbox.x1) if row[:-1] else w.bbox.x1
        rows.append(row)
    lines: list[Line] = []
    for row in rows:
        row.sort(key=lambda w: w.bbox.x0)
        text, boxes = "", []
        for w in row:
            t, bs = char_boxes(w)
            text += t
            boxes += bs
        if text:
            lines.append(Line(row, text, boxes))
    return lines


@dataclass(frozen=True)
class LabelHit:
    """One occurrence of a label: pairs (index into the label text, page point of that character)."""

    label: str
    pairs: tuple[tuple[int, tuple[float, float]], ...]
    score: float  # matched share of the label

    @property
    def centre(self) -> tuple[float, float]:
        xs = [p[1][0] for p in self.pairs]
        ys = [p[1][1] for p in self.pairs]
        return sum(xs) / len(xs), sum(ys) / len(ys)


def find_label(label: str, lines: list[Line], min_share: float = MIN_MATCH_SHARE) -> list[LabelHit]:
    """Every occurrence of ``label`` in ``lines`` (exact or fuzzy)."""
    target = canon(label)
    n = len(target)
    hits: list[LabelHit] = []
    if not n:
        return hits
    for line in lines:
        start = line.text.find(target)
        if start >= 0:
            while start >= 0:
                pairs = tuple((k, (line.boxes[start + k].cx, line.boxes[start + k].cy)) for k in range(n))
                hits.append(LabelHit(label, pairs, 1.0))
                start = line.text.find(target, start + n)
            continue
        if n < 3:
            continue  # a short label must match exactly
        if sum(ch in line.chars for ch in target) < max(2, min_share * n):
            continue  # too few of the label's characters in the line for any match (most lines: cheap)
        sm = difflib.SequenceMatcher(None, line.text, target, autojunk=False)
        blocks = [b for b in sm.get_matching_blocks() if b.size]
        matched = sum(b.size for b in blocks)
        if matched < max(2, min_share * n):
            continue
        span = blocks[-1].a + blocks[-1].size - blocks[0].a
        if span > 1.5 * n + 1:
            continue
        pairs = tuple(
            (b.b + k, (line.boxes[b.a + k].cx, line.boxes[b.a + k].cy)) for b in blocks for k in range(b.size)
        )
        hits.append(LabelHit(label, pairs, matched / n))
    return hits
