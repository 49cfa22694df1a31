"""Picking and joining the words that fall inside a field's box."""

from __future__ import annotations

from taxcheck.records import BBox, Word

SPACE_GAP = 0.35  # a horizontal gap wider than this share of the text height is a space


def words_in(words: list[Word], box: BBox, exclude: list[BBox] = ()) -> list[Word]:
    """Words whose centre lies in ``box`` and in none of ``exclude`` (printed labels)."""
    out = []
    for w in words:
        cx, cy = w.bbox.cx, w.bbox.cy
        if box.contains_point(cx, cy) and not any(e.contains_point(cx, cy) for e in exclude):
            out.append(w)
    return out


def _rows(words: list[Word]) -> list[list[Word]]:
    """Words clustered into rows by vertical overlap only (a box's text can have wide gaps)."""
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: w.bbox.cy):
        if rows:
            r = rows[-1]
            y0, y1 = min(x.bbox.y0 for x in r), max(x.bbox.y1 for x in r)
            if min(y1, w.bbox.y1) - max(y0, w.bbox.y0) >= 0.4 * min(y1 - y0, w.bbox.height):
                r.append(w)
                continue
        rows.append([w])
    return rows


def join_words(words: list[Word]) -> str:
    """Text of words in reading order; a space where the gap between two words is wide. Lines are joined
    without a space: a long address or name wraps inside its box wherever the line is full."""
    parts: list[str] = []
    for row in _rows(words):
        ws = sorted(row, key=lambda w: w.bbox.x0)
        text = ws[0].text
        for prev, w in zip(ws, ws[1:]):
            h = max(prev.bbox.height, w.bbox.height, 1.0)
            gap = w.bbox.x0 - prev.bbox.x1
            text += (" " if gap > SPACE_GAP * h else "") + w.text
        parts.append(text)
    return "".join(parts)


def mean_confidence(words: list[Word]) -> float:
    """Character-weighted mean confidence; the weakest word pulls it down too."""
    if not words:
        return 0.0
    n = sum(max(1, len(w.text)) for w in words)
    mean = sum(w.confidence * max(1, len(w.text)) for w in words) / n
    return 0.7 * mean + 0.3 * min(w.confidence for w in words)
