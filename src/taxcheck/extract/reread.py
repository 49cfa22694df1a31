"""OCR of field boxes cropped from the cleaned page (the scan path).

Measured on generated forms (bench/read_bench.md): one full-page OCR pass finds titles and anchor
labels well, but its values inside ruled boxes suffer from frame remnants, printed 千/円 marks and
neighbouring text. Reading each non-empty box on its own, with the right settings (digits only
for amounts, numbers and dates; katakana only for フリガナ), is far more accurate.

* Tesseract costs ~0.2 s per call to start (the model loads each time), so all boxes of one form
  are stacked into one tall image per kind and the words are sent back by vertical position, and the
  images read the same way (of one form, or of a lot's forms) go to one Tesseract run: five calls
  per lot instead of ~35 per form. Images stay apart: rows of two sizes in one image read worse. The re-checks
  below that read again are generators (:data:`Rereads`): a lot's forms ask for their re-readings round by round,
  and each round is one run per mode too.
* Digit boxes are read three times (eng, jpn, eng at another size); two readings that agree against
  the first win, and any disagreement lowers the confidence. The box is then cut into its glyphs
  (`glyphs.tall_glyphs`): a digit whose glyph has a zero's shape is 0, and a reading with more or fewer digits
  than glyphs (a short box, or an amount whose thousands group is not 3 digits) is read glyph by glyph.
  An unsure box whose glyphs each look likest the digit read, among the form's surely read glyphs, is sure.
* Names and addresses are read line-whole (kanji are read better in context). Tesseract's word boxes
  are too loose to tell a real space (氏 and 名, before a building name) from the gap between two kanji,
  so each line is also cut at its wide blank gaps and read segment by segment; the spaces of that
  reading are carried over to the whole-line reading.
* フリガナ lines are read whole, once as printed and once stretched (half-width kana); the single
  space goes at the widest gap, placed by the fixed pitch of kana.
* 個人番号/法人番号 are printed one digit per ruled cell: the cells' interiors are cut out and put
  side by side, so no frame line is ever read as a "1".

The crops themselves (rules and specks out, lines and segments found) come from :mod:`taxcheck.extract.crops`; what
a single glyph's shape says (a slashed zero, a bar, the form's own samples of a digit) from
:mod:`taxcheck.extract.glyphs`. This module reads: it stacks the crops, runs Tesseract, votes and re-checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from itertools import pairwise
from typing import TypeVar

import cv2
import numpy as np

from taxcheck.extract.crops import (
    INK_LEVEL,
    SEGMENT_PAD_EM,
    cell_images,
    cells_row,
    crop,
    drop_outside_glyphs,
    drop_yen_suffix,
    glyph_runs,
    has_ink,
    keep_lines_inside,
    segments,
)
from taxcheck.extract.glyphs import SIX_NINE, glyph_vector, is_bar, likest, tall_glyphs, zero_by_shape, zeros_by_shape
from taxcheck.extract.words import join_words, mean_confidence
from taxcheck.ocr.base import OcrEngine
from taxcheck.records import BBox, Word

ROW_GAP_PX = 36
LEFT_PAD_PX = 24
MAX_UPSCALE = 3.0
# Font size (px) the crops are scaled to. Measured on 83 scanned forms (fields wrong at 26/32/40/48/64 px):
# digits 57/34/52/53/61, names and addresses 115/122/118/133/150: smaller than the 30–50 px often advised.
TEXT_EM_PX = 36
DIGIT_EM_PX = 32
VOTE_EM_PX = 48  # a second eng reading of every digit box at this size: one of three votes
STUB_SHARE = 0.55  # in a digit box, words shorter than this share of the tallest are stubs of marks
GROW_EM = 0.45
MIN_EM_PX = 4.0  # floor of a box's font size in pixels
DISAGREEMENT_PENALTY = 0.7  # confidence factor when the readings of a digit box differ
ALONE_PENALTY = 0.9  # confidence factor of a box the stacked read found nothing in, read again on its own
# The least confidence of a digit box that readings agree on, by how many agree (the third abstaining or not).
# Tesseract's eng scores a lone 1 or an 11 at 0 to 0.2; on 116 forms of the benchmark seed these floors took
# right birth dates marked unsure from 10 to 4 and right withholding taxes from 12 to 9; of its two misread
# digit fields, a birth date stayed at 0.61 and a 社会保険料 went from 0.40 to 0.49.
AGREED = {2: 0.6, 3: 0.8}
KATAKANA_SPACE_EM = 1.0  # between two katakana, only a gap this wide is a space
KANA_STRETCH = 1.8  # width factor that gives half-width kana full-width proportions
KANA_SPACE_PITCH = 0.5  # the widest gap of a フリガナ line is a space when it is this share of the character pitch
MAX_GLYPH_RECHECK = 4  # digit boxes of up to this many glyphs are re-read glyph by glyph when digits went missing,
UNSURE_DIGITS = 0.5  # or when more were read than there are glyphs, at a confidence below this…
BROKEN_GROUP = re.compile(r"[,\s](?!\s?\d{3}(?!\d))")  # …and longer ones whose thousands group is not 3 digits
INK_UNREAD_CONFIDENCE = 0.4  # a text box with lines of ink in which no reading found a character
SURE_DIGITS = 0.9  # digit boxes read less surely than this are confirmed by the form's own samples of each digit…
SAMPLE_DIGITS = 0.8  # …the glyphs of the other boxes read at least this surely (three readings that agree: AGREED[3])
GLYPH_AGREED = 0.9  # confidence of an unsure box whose every glyph looks likest the digit read
DEBUG_DIR = None  # set to a folder to keep the stacked images (development only)


@dataclass
class BoxRequest:
    """One box to read: ``kind`` is digits · text · kana; ``cells`` for one-digit-per-cell boxes."""

    key: object
    box: BBox
    kind: str
    em_px: float  # font size in page pixels
    blank: tuple[BBox, ...] = ()
    cells: tuple[BBox, ...] = ()
    valid: Callable[[str], bool] | None = None  # format check of the digits (check digit)

    @property
    def em(self) -> float:
        """The font size the crops are measured in: ``em_px``, floored so that a bad fit cannot shrink it to nothing."""
        return max(MIN_EM_PX, self.em_px)


@dataclass
class BoxRead:
    text: str
    confidence: float
    words: list[Word]
    # digit box: the digits of the readings the vote set aside; ("",) when two agreed and the third read nothing
    # (see _recheck_digit_count)
    others: tuple[str, ...] = ()


Rows = dict[str, list[tuple[object, int, np.ndarray, float, BBox]]]  # kind → (key, line, image, f, origin box) per row
Pieces = dict[object, list[tuple[int, BBox, list[Word]]]]  # a box's key → (line, origin box, words) per row read
# A form's re-checks are a generator: each re-reading it needs is yielded (the stacks of rows to read) and sent back
# its words, so that read_boxes_batch reads the re-readings of every form of a lot in one Tesseract run per mode.
Rereads = Generator[list[Rows], list[Pieces], None]
R = TypeVar("R")


@dataclass
class _Stack:
    """One form's boxes cut out for OCR: the rows of each kind, and what the re-checks need."""

    rows: Rows = field(default_factory=dict)
    cell_parts: dict[object, list[np.ndarray]] = field(default_factory=dict)
    kana_lines: dict[object, _KanaLine] = field(default_factory=dict)

    def to_read(self) -> Rows:
        """The rows, and two more opinions on every digit box: the other model (jpn), and eng at another size."""
        digits = self.rows.get("digits", [])
        return {**self.rows,
                "digits_jpn": [(_Aux("jpn", k), li, img, f, b) for k, li, img, f, b in digits],
                "digits_vote": [(_Aux("vote", k), li, img, f * VOTE_EM_PX / DIGIT_EM_PX, b) for k, li, img, f, b in digits]}


def read_boxes(engine: OcrEngine, grey: np.ndarray, requests: list[BoxRequest],
               other_boxes: tuple[BBox, ...] = ()) -> dict[object, BoxRead]:
    """Read many boxes with one OCR call per kind; blank boxes read as "". A text line that lies more in
    another request's box or in one of ``other_boxes`` (value boxes nobody reads) is left to that box."""
    return read_boxes_batch(engine, [(grey, requests, other_boxes)])[0]


def read_boxes_batch(engine: OcrEngine, jobs: list[tuple[np.ndarray, list[BoxRequest], tuple[BBox, ...]]]
                     ) -> list[dict[object, BoxRead]]:
    """:func:`read_boxes` of several forms (grey page, requests, other boxes) with one OCR call per kind for
    all of them, and one per kind for each round of their re-checks (:func:`_drive`): a lot's forms share each
    Tesseract start."""
    stacks = [_stack(grey, requests, others) for grey, requests, others in jobs]
    pieces = _read_stacks(engine, [s.to_read() for s in stacks])
    return _drive(engine, [_settle(grey, requests, stack, got) for (grey, requests, _), stack, got
                           in zip(jobs, stacks, pieces)])


def _drive(engine: OcrEngine, rereads: list[Generator[list[Rows], list[Pieces], R]]) -> list[R]:
    """Run each form's re-checks to their end, a round at a time, and hand back what each returned: the re-readings
    all the forms ask for in a round are read together (one Tesseract run per mode, each form's stack still an image
    of its own, to the same words; a run costs ~0.2 s to start, and 40 files' re-checks had taken 18 runs)."""
    done: list = [None] * len(rereads)

    def step(i: int, got: list[Pieces] | None = None) -> list[Rows] | None:
        """The next re-reading form ``i`` asks for, given the words of its last one; None when it is done."""
        try:
            return next(rereads[i]) if got is None else rereads[i].send(got)
        except StopIteration as stop:
            done[i] = stop.value
            return None

    asks = {i: step(i) for i in range(len(rereads))}
    while asks := {i: ask for i, ask in asks.items() if ask is not None}:
        got = iter(_read_stacks(engine, [rows for ask in asks.values() for rows in ask]))
        asks = {i: step(i, [next(got) for _ in ask]) for i, ask in asks.items()}
    return done


def _stack(grey: np.ndarray, requests: list[BoxRequest], other_boxes: tuple[BBox, ...]) -> _Stack:
    """Cut each request's box out of the page into rows to OCR (see :func:`read_boxes`)."""
    st = _Stack()
    rows = st.rows
    for r in requests:
        em = r.em
        f = _scale(em, DIGIT_EM_PX if r.kind == "digits" or r.cells else TEXT_EM_PX)
        if r.cells:
            parts = cell_images(grey, r.cells, em)
            c = cells_row(parts, em)
            if has_ink(c, em):
                rows.setdefault("digits", []).append((r.key, 0, c, f, r.box))
                inked = [i for i, p in enumerate(parts) if has_ink(p, em)]
                # digits are written in one run (right-justified): a faint "1" inside the run still counts
                st.cell_parts[r.key] = parts[inked[0]:inked[-1] + 1] if inked else []
            continue
        own = r.box
        grown, c = _value_lines(grey, r)
        if not has_ink(c, em):
            continue
        r = BoxRequest(r.key, grown, r.kind, r.em_px, r.blank, r.cells, r.valid)
        if r.kind == "digits":
            c = drop_outside_glyphs(c, GROW_EM * em)  # neighbours' small print touching the value line
            c = drop_yen_suffix(c, em)
            if has_ink(c, em):
                rows.setdefault("digits", []).append((r.key, 0, c, f, r.box))
            continue
        pad = int(em * SEGMENT_PAD_EM)
        if r.kind == "kana":
            _add_kana_lines(rows, st.kana_lines, r, c, em, f, pad)
            continue
        others = [o.box for o in requests if o.key != r.key] + list(other_boxes)
        lines = [kept for ln in segments(c, em)
                 if (kept := [sp for sp in ln if not _claimed_elsewhere(_on_page(r.box, _ink_span(c, sp)), own, others)])]
        for li, line in enumerate(lines):
            # the whole line in one piece (the model reads kanji better in context), and its segments
            # one by one: where the spaces are
            seg, sub = _piece(c, r.box, _line_span(line), pad)
            rows.setdefault(r.kind, []).append((r.key, li, seg, f, sub))
            for span in line:
                seg, sub = _piece(c, r.box, span, pad)
                rows.setdefault("text_segments", []).append((_Aux("segments", r.key), li, seg, f, sub))
    return st


def _settle(grey: np.ndarray, requests: list[BoxRequest], st: _Stack, pieces: Pieces
            ) -> Generator[list[Rows], list[Pieces], dict[object, BoxRead]]:
    """Each box's reading from its rows' words, then the re-checks (see :func:`read_boxes`)."""
    out: dict[object, BoxRead] = {r.key: BoxRead("", 0.0, []) for r in requests}
    rows, cell_parts, kana_lines = st.rows, st.cell_parts, st.kana_lines
    second = {key[1]: segs for key, segs in pieces.items() if isinstance(key, _Aux) and key[0] == "jpn"}
    third = {key[1]: segs for key, segs in pieces.items() if isinstance(key, _Aux) and key[0] == "vote"}
    kinds = {r.key: r.kind for r in requests}
    ems = {r.key: r.em for r in requests}
    for key, segs in pieces.items():
        if isinstance(key, _Aux):
            continue
        words = [w for _, _, ws in segs for w in ws]
        if kinds[key] == "kana":
            out[key] = _kana_read(segs, pieces.get(_Aux("wide", key), []), kana_lines.get(key))
            continue
        if kinds[key] == "digits":
            # a stub of a printed mark (the foot of 円) reads as a small stray digit: drop short words
            tallest = max((w.bbox.height for w in words), default=0.0)
            words = [w for w in words if w.bbox.height >= STUB_SHARE * tallest]
            out[key] = BoxRead(join_words(words), mean_confidence(words), words)
        else:
            out[key] = _text_read(segs, pieces.get(_Aux("segments", key), []), ems[key])
        if key in second and key not in cell_parts:
            out[key] = _vote(out[key], _digits_read(second[key]), _digits_read(third[key]))
    yield from _recheck_unread_lines(out, rows, kinds, kana_lines, ems)
    yield from _recheck_lone_digits(out, rows.get("digits", []), cell_parts)
    yield from _recheck_digit_count(out, rows.get("digits", []), cell_parts, ems)
    _recheck_digit_zeros(out, rows.get("digits", []), cell_parts, ems)  # after the jpn re-reads: they read 0 as 9
    yield from _recheck_cells(out, cell_parts, {r.key: r for r in requests})
    _recheck_by_form_glyphs(out, rows.get("digits", []), cell_parts, ems)
    _recheck_text_zeros(grey, out, [r for r in requests if r.kind == "text"])
    return out


def _text_read(segs, segment_pieces, em: float) -> BoxRead:
    """A text box's reading: each line read whole, with the spaces its segments read one by one show."""
    words = [w for _, _, ws in segs for w in ws]
    by_line: dict[int, list[tuple[str, BBox]]] = {}
    for li, box, ws in sorted(segment_pieces, key=lambda s: (s[0], s[1].x0)):
        t = "".join(w.text for w in sorted(ws, key=lambda w: w.bbox.x0))
        if t:
            by_line.setdefault(li, []).append((t, box))
    text = "".join(_with_spaces_of("".join(w.text for w in ws), _join_segments(by_line.get(li, []), em))
                   for li, _, ws in sorted(segs, key=lambda s: s[0]))
    return BoxRead(text, mean_confidence(words), words)


def _recheck_unread_lines(out: dict, rows: Rows, kinds: dict, kana_lines: dict, ems: dict) -> Rereads:
    """Text and フリガナ boxes whose lines of ink came back from the stacked read without a word, read again
    with each line on its own: Tesseract's layout pass may drop one row of a stack whole (a 摘要's 年末調整未済
    between a name and an address; フリガナ read blank at 13 of ~8,000 forms of six generated batches), though
    alone the row reads. As unsure as a lone digit re-read (:data:`ALONE_PENALTY`); a box that still reads
    nothing (faint half-width ﾌﾘｶﾞﾅ) is blank only with :data:`INK_UNREAD_CONFIDENCE`."""
    unread = {key for key, kind in kinds.items() if kind in ("text", "kana") and not out[key].text.strip()}
    retry = [(kind, row) for kind in ("text", "text_segments", "kana") for row in rows.get(kind, [])
             if (row[0][1] if isinstance(row[0], _Aux) else row[0]) in unread]
    if not retry:
        return
    pieces: Pieces = {}
    for got in (yield [{kind: [row]} for kind, row in retry]):
        for key, segs in got.items():
            pieces.setdefault(key, []).extend(segs)
    for key in unread:
        if kinds[key] == "kana":
            read = _kana_read(pieces.get(key, []), pieces.get(_Aux("wide", key), []), kana_lines.get(key))
        else:
            read = _text_read(pieces.get(key, []), pieces.get(_Aux("segments", key), []), ems[key])
        out[key] = BoxRead(read.text, read.confidence * ALONE_PENALTY, read.words) if read.text.strip() else \
            BoxRead("", INK_UNREAD_CONFIDENCE, [])  # blank as read, but not sure: ink was there


def _recheck_digit_zeros(out: dict, digit_rows: list, cell_parts: dict, ems: dict) -> None:
    """Zeros of a digit box read as 6, 8 or 9 (a slashed zero blurred by a fax or a 200 dpi JPEG: 480,000
    read 480,600; a 2 now and then). The box is cut into its glyphs; where glyphs and digits pair off one to
    one, a digit whose glyph has a zero's shape becomes 0, an 8 or a 4 only when the slash or dot shows (an 8
    whose waist faded has a zero's one tall hole). A lone glyph at the box's edge, which the glyph cut leaves
    out, is tested on the whole box."""
    for key, _, img, _, _ in digit_rows:
        text = out[key].text
        digits = _digits(text)
        if key in cell_parts or set(digits) <= {"0"}:
            continue
        if len(digits) == 1:
            glyphs = [img]
        else:
            glyphs = tall_glyphs(img, ems[key])
            if len(glyphs) != len(digits):
                continue
        fixed = "".join(zero_by_shape(ch, g) for ch, g in zip(digits, glyphs))
        if fixed != digits:
            it = iter(fixed)
            text = "".join(next(it) if ch.isdigit() else ch for ch in text)
            out[key] = BoxRead(text, out[key].confidence * DISAGREEMENT_PENALTY, out[key].words)


def _recheck_text_zeros(grey: np.ndarray, out: dict, requests: list[BoxRequest]) -> None:
    """Slashed zeros inside text lines (シャトー桜台802 read 892, 小杉町6-25-10 read 6-25-19, 24番10号 read 24番19号,
    パークハウス806 read 8606): each word holding a 6 or a 9 (placed in the text by :func:`_word_places`) is paired
    glyph by glyph with its text (`glyphs.zeros_by_shape`), and a 6 or 9 whose glyph has a zero's shape
    (:func:`is_zero`) becomes 0, as does a 60 or 90 that Tesseract read out of one zero-shaped glyph. Only where the
    text and the glyphs pair off cheaply. The characters read beside a word are paired too, unless they stand on
    another line (レジデンス大泉209 printed over two lines, 20 | 9: paired with the 9 after it, the 20 found no glyph
    for it and slipped onto 泉)."""
    for r in requests:
        read = out[r.key]
        text = read.text
        found = _word_places(text, read.words)
        for j in reversed(range(len(found))):  # from the end: a collapsed 60 shortens the text
            at, w = found[j]
            if not set(w.text) & SIX_NINE:
                continue
            # the characters beside it, unless they stand on another line (a long address goes on below)
            before = "" if j > 0 and not _same_line(found[j - 1][1], w) else text[at - 1:at].strip()
            after = ("" if j + 1 < len(found) and not _same_line(found[j + 1][1], w)
                     else text[at + len(w.text):at + len(w.text) + 1].strip())
            fixed = zeros_by_shape(grey, w, r.em, before, after)
            if fixed != w.text:
                text = text[:at] + fixed + text[at + len(w.text):]
                read = BoxRead(text, read.confidence * DISAGREEMENT_PENALTY, read.words)
        out[r.key] = read


def _word_places(text: str, words: list[Word]) -> list[tuple[int, Word]]:
    """The words of a text box's reading with where each stands in ``text`` (words not found in order in ``text``
    are left out)."""
    found: list[tuple[int, Word]] = []
    cursor = 0
    for w in words:
        at = text.find(w.text, cursor) if w.text else -1
        if at >= 0:
            found.append((at, w))
            cursor = at + len(w.text)
    return found


def _same_line(a: Word, b: Word) -> bool:
    return min(a.bbox.y1, b.bbox.y1) > max(a.bbox.y0, b.bbox.y0)


def _value_lines(grey: np.ndarray, r: BoxRequest) -> tuple[BBox, np.ndarray]:
    """The box grown by GROW_EM above and below (a value may stray out of its box), and its crop with the
    lines that lie mostly outside the box (the next box's value, a label) whited out."""
    em = r.em
    grown = BBox(r.box.x0, r.box.y0 - GROW_EM * em, r.box.x1, r.box.y1 + GROW_EM * em)
    return grown, keep_lines_inside(crop(grey, grown, r.blank, em), GROW_EM * em, em)


# Other ways to read a one-line text box, tried in turn when a first reading is contradicted (a name that
# does not read as its フリガナ): each model at the scan's own size and half as large again. With them and
# the kana checks of normalize/readings.py, recipient names wrong on 196 scanned dev forms fell from 17 to 8.
VARIANTS = (("text_line", 1.0), ("line", 1.0), ("text_line", 1.5), ("line", 1.5))


def _line_image(grey: np.ndarray, request: BoxRequest) -> np.ndarray | None:
    """A one-line box's value cut out with a white margin, None when it holds no ink."""
    _, c = _value_lines(grey, request)
    if not has_ink(c, request.em):
        return None
    return cv2.copyMakeBorder(c, ROW_GAP_PX, ROW_GAP_PX, LEFT_PAD_PX, LEFT_PAD_PX, cv2.BORDER_CONSTANT, value=255)


def read_variants(engine: OcrEngine, grey: np.ndarray, request: BoxRequest) -> Iterator[str]:
    """The text of a one-line box read in each of :data:`VARIANTS` ways, one OCR call each, lazily."""
    c = _line_image(grey, request)
    if c is None:
        return
    for mode, f in VARIANTS:
        img = c if f == 1.0 else cv2.resize(c, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
        yield join_words(engine.read_words(img, mode=mode))


def read_choices(engine: OcrEngine, grey: np.ndarray, request: BoxRequest) -> list[list[str]]:
    """A one-line box read with the model's choices at each character, best first (jpn, one line; empty when
    the box holds no ink). For a name whose look-alike Tesseract prefers (蓮 read 運): the printed character
    is often among the next choices."""
    c = _line_image(grey, request)
    return [] if c is None else engine.read_choices(c)


def read_only(engine: OcrEngine, grey: np.ndarray, request: BoxRequest, chars: str) -> str:
    """The text of a one-line box read with only ``chars`` allowed (jpn, one line): the model's choice among
    them where its first is not (where the printed character is none of its next choices, see read_choices)."""
    c = _line_image(grey, request)
    return "" if c is None else join_words(engine.read_words(c, mode="line", only=chars))


class _Aux(tuple):
    """Key of a second reading of a box: ``("wide", key)`` the stretched copy of a フリガナ line (half-width
    kana read as full-width), ``("segments", key)`` a text box read segment by segment (see
    :func:`_with_spaces_of`). Its own type, so that it never equals a request's key."""

    def __new__(cls, tag: str, key):
        return super().__new__(cls, (tag, key))


def _line_span(line: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """The bounds of a line of segments (see :func:`segments`)."""
    return line[0][0], min(s[1] for s in line), line[-1][2], max(s[3] for s in line)


def _ink_span(c: np.ndarray, span: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """``span`` narrowed to the rows its own ink covers (a segment's span has its whole line's height)."""
    x0, y0, x1, y1 = span
    rows = np.flatnonzero((c[y0:y1, x0:x1] < 128).any(axis=1))
    return (x0, y0 + int(rows[0]), x1, y0 + int(rows[-1]) + 1) if rows.size else span


def _on_page(origin: BBox, span: tuple[int, int, int, int]) -> BBox:
    x0, y0, x1, y1 = span
    return BBox(origin.x0 + x0, origin.y0 + y0, origin.x0 + x1, origin.y0 + y1)


def _claimed_elsewhere(line: BBox, own: BBox, others: list[BBox]) -> bool:
    """Whether another box of the form holds more of this piece of a line's height than the box being
    read: on a shifted or stretched scan the next box's line (支払者 氏名 under 住所, 1 mm apart) or the
    telephone number beside it enters the grown crop with its centre inside, and both boxes would read it."""
    def held(box: BBox) -> float:
        if min(line.x1, box.x1) <= max(line.x0, box.x0):
            return 0.0
        return max(0.0, min(line.y1, box.y1) - max(line.y0, box.y0))
    mine = held(own)
    return any(held(o) > mine for o in others)


def _piece(c: np.ndarray, origin: BBox, span: tuple[int, int, int, int], pad: int) -> tuple[np.ndarray, BBox]:
    """The part ``span`` of crop ``c`` with ``pad`` pixels around it, and where that part lies on the page."""
    x0, y0, x1, y1 = span
    img = c[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
    return img, BBox(origin.x0 + max(0, x0 - pad), origin.y0 + max(0, y0 - pad), origin.x0 + x1 + pad, origin.y0 + y1 + pad)


@dataclass
class _KanaLine:
    """How wide a フリガナ line's ink runs and where its widest blank gap is, in pixels from the line's start."""

    width: int
    gap: tuple[int, int] | None  # the widest gap between glyphs


def _add_kana_lines(rows: dict, lines: dict, r: BoxRequest, c: np.ndarray, em: float, f: float, pad: int) -> None:
    """Each フリガナ line whole (no cut at gaps: half-width kana are full of gaps), plus a copy stretched
    ``KANA_STRETCH`` times in width: Tesseract's jpn model reads half-width kana (ﾀｶﾊｼ, common in payroll
    print-outs) far better once they have full-width proportions. The reading Tesseract is surer of wins."""
    for li, line in enumerate(segments(c, em)):
        span = _line_span(line)
        seg, sub = _piece(c, r.box, span, pad)
        rows.setdefault("kana", []).append((r.key, li, seg, f, sub))
        rows["kana"].append((_Aux("wide", r.key), li, seg, (f * KANA_STRETCH, f), sub))
        if li == 0:
            x0, y0, x1, y1 = span
            runs = glyph_runs(c[y0:y1, x0:x1] < INK_LEVEL, em)
            gaps = [(b[0] - a[1], a[1], b[0]) for a, b in pairwise(runs)]
            lines[r.key] = _KanaLine(x1 - x0, max(gaps)[1:] if gaps else None)


def _kana_read(segs, wide_segs, line: _KanaLine | None) -> BoxRead:
    """The surer of the plain and stretched readings, with one space (family and given name) at the
    widest blank gap of the line when that gap is wide for the line's character pitch. Kana are printed
    at a fixed pitch, so the gap's place along the line tells after how many characters the space falls
    (Tesseract's own word boxes are too loose for Japanese)."""
    reads = []
    for s in (segs, wide_segs):
        words = sorted((w for _, _, ws in s for w in ws), key=lambda w: w.bbox.x0)
        reads.append((mean_confidence(words), words))
    conf, words = max(reads, key=lambda r: r[0])
    text = "".join(w.text for w in words)
    if not text or line is None or line.gap is None:
        return BoxRead(text, conf, words)
    n = len(text)
    g0, g1 = line.gap
    width = g1 - g0
    printed = line.width - width  # the line's length without the gap: n characters at a fixed pitch
    if width >= KANA_SPACE_PITCH * printed / n:
        k = round(n * g0 / max(1.0, printed))
        if 0 < k < n:
            text = text[:k] + " " + text[k:]
    return BoxRead(text, conf, words)


_GROUPED = re.compile(r"^\d{1,3}([,.]\d{3})*$")


def _digits_read(segs) -> BoxRead:
    words = [w for _, _, ws in segs for w in ws]
    tallest = max((w.bbox.height for w in words), default=0.0)
    words = [w for w in words if w.bbox.height >= STUB_SHARE * tallest]
    return BoxRead(join_words(words), mean_confidence(words), words)


def _better(a: BoxRead, b: BoxRead) -> BoxRead:
    """Reading ``a`` (eng) unless it is malformed and ``b`` (jpn) is not. The jpn model often reads the
    slashed 0 of IPA fonts as 9 with high confidence, so it is a fallback, never a rival on confidence."""
    def well(r: BoxRead) -> bool:
        t = r.text.replace(" ", "")
        digits = sum(ch.isdigit() for ch in t)
        return bool(t) and _GROUPED.match(t) is not None and not (digits > 1 and t.startswith("0"))
    if well(a) or not well(b):
        return a if a.text.strip() or not b.text.strip() else b
    return b


def _is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fc" or "\uff66" <= ch <= "\uff9f"


def _join_segments(parts: list[tuple[str, BBox]], em: float) -> str:
    """Segments of one line joined with a space, except between two katakana unless the gap is a
    full-width space: small kana (ャ, ッ) and narrow ones (ト, ー) leave gaps as wide as a half-width
    space inside a word (シャトー), so only a gap of about a character's width separates katakana words."""
    if not parts:
        return ""
    text = parts[0][0]
    for (a, box_a), (b, box_b) in pairwise(parts):
        gap = (box_b.x0 - box_a.x1) / em + 2 * SEGMENT_PAD_EM
        sep = "" if _is_katakana(a[-1]) and _is_katakana(b[0]) and gap < KATAKANA_SPACE_EM else " "
        text += sep + b
    return text


def _with_spaces_of(line: str, spaced: str) -> str:
    """``line`` (the whole line read at once: the better characters) with the spaces of ``spaced`` (the
    same line read segment by segment, cut at its blank gaps: the right spaces), carried over where
    the two readings align. Tesseract's own character boxes are too loose to place the spaces."""
    plain = spaced.replace(" ", "")
    if not plain or not line:
        return line or spaced
    cuts, k = [], 0
    for ch in spaced:
        if ch == " ":
            cuts.append(k)
        else:
            k += 1
    blocks = SequenceMatcher(None, plain, line, autojunk=False).get_matching_blocks()
    out = []
    for cut in cuts:
        for a, b, size in blocks:
            if size and a <= cut <= a + size and (a < cut or b > 0):
                out.append(b + cut - a)
                break
        else:  # no aligned neighbour: the same share of the line
            out.append(round(cut * len(line) / len(plain)))
    text = line
    for pos in sorted({p for p in out if 0 < p < len(line)}, reverse=True):
        text = text[:pos] + " " + text[pos:]
    return text


def _scale(em_px: float, target_px: float) -> float:
    return min(MAX_UPSCALE, max(0.4, target_px / em_px))


def _vote(first: BoxRead, jpn: BoxRead, other_size: BoxRead) -> BoxRead:
    """Three readings of one digit box. When jpn and eng at the other size agree against the first
    reading, theirs wins; otherwise the first (or jpn where the first is malformed, see :func:`_better`).
    Any disagreement lowers the confidence of the surest reading behind the choice: the value may be written,
    but a person should look. A reading of nothing abstains (eng often reads nothing in a box holding a lone 1).
    When at least two readings agree and none differs, the surest of them speaks for the box, and no less
    sure than :data:`AGREED` says: eng with a digit whitelist scores a plain "11" at 0, and two models at two
    sizes reading the same is no reason for doubt. Nor is jpn's known slip on a slashed 0 (:func:`_jpn_slip`)."""
    a, b, c = _digits(first.text), _digits(jpn.text), _digits(other_size.text)
    said = [(d, r.confidence) for d, r in ((a, first), (b, jpn), (c, other_size)) if d]
    if a and a == c and _jpn_slip(b, a):
        said = [(a, first.confidence), (c, other_size.confidence)]
    if len(said) >= 2 and len({d for d, _ in said}) == 1:
        chosen = _better(first, jpn)
        silent = ("",) if not (a and b and c) else ()  # a reading of nothing, set aside: the glyphs are read again
        return BoxRead(chosen.text, max(AGREED[len(said)], *(conf for _, conf in said)), chosen.words, silent)
    if b and b == c and a != b:
        chosen = other_size
    else:
        chosen = _better(first, jpn)
    if len({a, b, c}) > 1:
        backing = [conf for d, conf in said if d == _digits(chosen.text)]
        conf = max(backing) if len(backing) >= 2 else chosen.confidence
        others = tuple(d for d in (a, b, c) if d and d != _digits(chosen.text))
        chosen = BoxRead(chosen.text, conf * DISAGREEMENT_PENALTY, chosen.words, others)
    return chosen


def _jpn_slip(jpn: str, eng: str) -> bool:
    """Whether the jpn reading differs from the two eng readings (``eng``) only by jpn's known slips on the slashed 0
    of IPA fonts (see :func:`_better`): 0s read as 9, 6 or 8, or digits added around them (4,000 read 4 09000).
    In two scanned files of a training seed, the two eng readings agreed and jpn did not in 11 of 49 digit boxes:
    6 were the first slip, the rest the second."""
    return zero_slip(jpn, eng) or (len(jpn) > len(eng) and _is_subsequence(eng, jpn))


def zero_slip(read: str, printed: str, *, widened: bool = False) -> bool:
    """Whether ``read`` is ``printed`` with some of its 0s read as 9, 6 or 8, and with ``widened`` also as 60 or
    90 (a slashed 0 taken for two glyphs: an address's room 107 read 1607)."""
    if read == printed or "0" not in printed:
        return False
    zero = "(?:0|[968]|[69]0)" if widened else "[0968]"
    return re.fullmatch("".join(zero if ch == "0" else re.escape(ch) for ch in printed), read) is not None


def _recheck_lone_digits(out: dict, digit_rows: list, cell_parts: dict) -> Rereads:
    """Digit boxes with ink but nothing read (a lone "1" defeats the eng model): read them with jpn."""
    retry = [row for row in digit_rows if row[0] not in cell_parts and not any(ch.isdigit() for ch in out[row[0]].text)]
    if not retry:
        return
    for key, segs in (yield [{"digits_jpn": retry}])[0].items():
        words = [w for _, _, ws in segs for w in ws]
        text = join_words(words)
        if any(ch.isdigit() for ch in text):
            out[key] = BoxRead(text, mean_confidence(words) * ALONE_PENALTY, words)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _recheck_digit_count(out: dict, digit_rows: list, cell_parts: dict, ems: dict) -> Rereads:
    """Digit boxes whose reading has not as many digits as the box has glyphs, re-read glyph by glyph:
    - short boxes (date parts, counts) read with fewer: Tesseract reads a close pair of 1s ("11") as one;
    - or with more, read unsure: a fax's month "7" between its cell's remnant rules read "17";
    - amounts whose thousands group is not 3 digits: a fax's "480,000" read "480,", its zeros lost; "40 000"
      (split at the 千 mark) read "40 6000".
    - and short boxes read with as many, where the three readings disagreed: a 2-up scan's month "1" beside its
      cell's remnant rule read "4" by eng at both sizes and "1" by jpn.
    Each glyph is read on its own line (jpn: eng gives up on a lone 1), a plain bar is a 1, a zero's shape a 0.
    The re-reading is taken only when every glyph gave one digit and, of the two readings, the shorter's
    digits are among the longer's in order (digits are restored or dropped, never replaced: the two arcs of a
    faint 0 are two bars), or when it is a reading the vote set aside (a fax's year "40" read "40" by eng and "1",
    its cell's remnant rule, by the other two: glyph by glyph it is 40 again), and with less confidence.
    A disputed box whose glyphs read as the vote chose is as sure as two readings that agree (AGREED[2]): eng scores
    a plain "12" at 0, and a third reading, glyph by glyph, outweighs jpn's lone dissent. On the benchmark sets this
    raised 14 and 11 right birth dates of 1,000 forms (on seed 9001 from 0.00–0.59), no wrong one, and changed no
    value.
    A box two readings agreed on while the third read nothing (``others`` is ("",)) is read glyph by glyph too, and
    is less sure where the glyphs read otherwise (a 2-up's month 1 read 7 by eng at both sizes, 1 glyph by glyph)."""
    rows, pending = [], {}
    for key, _, img, f, box in digit_rows:
        if key in cell_parts:
            continue
        read = len(_digits(out[key].text))
        broken = BROKEN_GROUP.search(out[key].text) is not None
        if read >= MAX_GLYPH_RECHECK and not broken:  # a long number read whole: spare the glyph search
            continue
        glyphs = tall_glyphs(img, ems[key])
        n = len(glyphs)
        lost = 1 < n and read < n and (n <= MAX_GLYPH_RECHECK or broken)
        invented = 0 < n < read and (broken or out[key].confidence < UNSURE_DIGITS)  # a frame's remnant read as 1
        disputed = 0 < n == read <= MAX_GLYPH_RECHECK and bool(out[key].others)
        if lost or invented or disputed:
            # a bar is a 1 where digits went missing; where the readings disputed a digit, jpn reads each glyph
            # (a Mincho 7's stem and a 4 pass for bars)
            pending[key] = (["1" if not disputed and is_bar(g, ems[key]) else "" for g in glyphs], glyphs, disputed)
            rows += [(_Aux("glyph", key), i, g, f, box) for i, g in enumerate(glyphs) if not pending[key][0][i]]
    pieces = (yield [{"digits_jpn": rows}])[0] if rows else {}
    for key, (texts, glyphs, disputed) in pending.items():
        words = []
        for i, _, ws in pieces.get(_Aux("glyph", key), []):
            texts[i] = join_words(ws).strip()
            words += ws
        # a lone slashed zero reads as 9 or as nothing: its shape decides (see _recheck_digit_zeros)
        zeros = [t if t == "1" else zero_by_shape(t, g) for t, g in zip(texts, glyphs)]  # a bar's 1 is no zero
        first, again = _digits(out[key].text), "".join(zeros)
        whole = all(len(t) == 1 and t.isdigit() for t in zeros)  # every glyph gave one digit
        if disputed and whole and again == first:
            out[key] = replace(out[key], confidence=max(out[key].confidence, AGREED[2]))  # the vote's choice, confirmed
            continue
        if whole and again != first and (again in out[key].others or any(
                _is_subsequence(*sorted((first, t), key=len)) for t in ("".join(texts), again))):
            conf = (mean_confidence(words) if words else out[key].confidence) * DISAGREEMENT_PENALTY
            if len(first) == len(again):  # a disputed digit settled: no surer than the dispute left it
                conf = min(conf, out[key].confidence)
            out[key] = BoxRead(again, conf, words)
        elif disputed and whole and out[key].others == ("",):  # two readings agreed, the third read nothing, and
            # the glyphs read otherwise: a dissent (a 2-up's month 1 read 7 by eng at both sizes, 1 glyph by glyph)
            out[key] = replace(out[key], confidence=out[key].confidence * DISAGREEMENT_PENALTY)


def _recheck_by_form_glyphs(out: dict, digit_rows: list, cell_parts: dict, ems: dict) -> None:
    """A digit box read unsurely (the three readings differed, or Tesseract scored it low) whose every glyph looks
    likest the same digit printed in the form's other boxes read at :data:`SAMPLE_DIGITS` or more (the three
    readings agreed) is as sure as :data:`GLYPH_AGREED`. A form's values are printed in one font by one printer
    and scanned together, so its own glyphs are the best samples of what each digit looks like on this scan: a
    fax's lone 7 in a birth month, which eng and jpn read apart, matches the 7s of the amounts above it. A box
    never lends to itself. Only a confirmation: a glyph likest another digit changes nothing, and a digit the
    other boxes never show gives no verdict. Measured on the unsure digit boxes of 195 files of three training
    seeds (most picked for a digit misread): samples from boxes at 0.9 or more confirmed 260, none of them
    misread; from boxes at 0.8 or more, 410, none misread (most money boxes sit at 0.8, so at 0.9 a digit often
    had no sample). Where the glyphs said another digit (samples at 0.9), the reading was right 48 times out of 61."""
    glyphs: dict[object, list[tuple[str, np.ndarray]]] = {}
    for key, _, img, _, _ in digit_rows:
        digits = _digits(out[key].text)
        if key in cell_parts or not digits:
            continue
        vectors = [glyph_vector(g) for g in tall_glyphs(img, ems[key])]
        if len(vectors) == len(digits) and all(v is not None for v in vectors):
            glyphs[key] = list(zip(digits, vectors))
    lenders = {key for key in glyphs if out[key].confidence >= SAMPLE_DIGITS}  # fixed before any box is raised
    for key, pairs in glyphs.items():
        if out[key].confidence >= SURE_DIGITS:
            continue
        samples: dict[str, list[np.ndarray]] = {}
        for other in lenders - {key}:
            for digit, v in glyphs[other]:
                samples.setdefault(digit, []).append(v)
        if all(likest(v, digit, samples) for digit, v in pairs):
            out[key] = replace(out[key], confidence=GLYPH_AGREED)


def _recheck_cells(out: dict, cell_parts: dict, reqs: dict) -> Rereads:
    """Digit-per-cell boxes: a cell read 6, 8 or 9 that has a zero's shape becomes 0 where the number then
    passes its check digit (:func:`_cell_zeros`); a reading that still has the wrong number of digits or
    fails its check digit is read again with the other model (jpn, digits only); the first candidate that
    fits wins."""
    _cell_zeros(out, cell_parts, reqs)
    retry = []
    for key, parts in cell_parts.items():
        if parts and not _fits(out[key].text, len(parts), reqs[key].valid):  # no inked cell: nothing to re-read
            retry.append(key)
    if not retry:
        return
    rows = []
    for key in retry:
        r = reqs[key]
        f = _scale(r.em, DIGIT_EM_PX)
        rows.append((key, 0, cells_row(cell_parts[key], r.em_px), f, r.box))
    for key, segs in (yield [{"digits_jpn": rows}])[0].items():
        words = [w for _, _, ws in segs for w in ws]
        text = join_words(words)
        if _fits(text, len(cell_parts[key]), reqs[key].valid) or not _fits(out[key].text, len(cell_parts[key]), None):
            out[key] = BoxRead(text, mean_confidence(words), words)


def _cell_zeros(out: dict, cell_parts: dict, reqs: dict) -> None:
    """The slashed-zero slip of :func:`_recheck_digit_zeros` in a digit-per-cell box (a fax's 法人番号 0 read 9,
    8 or 6), where each cell holds one glyph: taken only when the number then fits its cells and check digit
    (9 for 0 keeps a 法人番号's check digit: the shape alone decides there), as unsure as a disagreement."""
    for key, parts in cell_parts.items():
        digits = _digits(out[key].text)
        if len(digits) != len(parts):
            continue
        fixed = "".join(zero_by_shape(ch, g) for ch, g in zip(digits, parts))
        if fixed != digits and _fits(fixed, len(parts), reqs[key].valid):
            out[key] = BoxRead(fixed, out[key].confidence * DISAGREEMENT_PENALTY, out[key].words)


def _fits(text: str, n_cells: int, valid: Callable[[str], bool] | None) -> bool:
    digits = _digits(text)
    return len(digits) == n_cells and (valid is None or valid(digits))


MODES = {"digits": "digits", "digits_vote": "digits", "digits_jpn": "digits_jpn", "kana": "kana", "text": "text_line"}


def _canvas(items: list) -> tuple[np.ndarray, list]:
    """The rows of one kind scaled and stacked into one image, and each row's band in it."""
    scaled = []
    for key, li, img, f, box in items:
        fx, fy = f if isinstance(f, tuple) else (f, f)
        if abs(fx - 1) > 0.05 or abs(fy - 1) > 0.05:
            img = cv2.resize(img, None, fx=fx, fy=fy, interpolation=cv2.INTER_CUBIC if fy > 1 else cv2.INTER_AREA)
        scaled.append((key, li, img, (fx, fy), box))
    width = max(img.shape[1] for _, _, img, _, _ in scaled) + 2 * LEFT_PAD_PX
    height = sum(img.shape[0] + ROW_GAP_PX for _, _, img, _, _ in scaled) + ROW_GAP_PX
    canvas = np.full((height, width), 255, np.uint8)
    bands = []
    y = ROW_GAP_PX
    for key, li, img, f, box in scaled:
        canvas[y:y + img.shape[0], LEFT_PAD_PX:LEFT_PAD_PX + img.shape[1]] = img
        bands.append((y, y + img.shape[0], key, li, box, f, []))
        y += img.shape[0] + ROW_GAP_PX
    if DEBUG_DIR:
        cv2.imwrite(f"{DEBUG_DIR}/stack_{id(canvas)}.png", canvas)
    return canvas, bands


def _read_stacks(engine: OcrEngine, stacks: list[Rows]) -> list[Pieces]:
    """Several forms' rows read: the rows of each form and kind stacked into one image, one OCR call per mode for
    all the images (each image is still read on its own), and the words handed back per row."""
    canvases = [(i, MODES.get(kind, "sparse"), *_canvas(items)) for i, rows in enumerate(stacks)
                for kind, items in rows.items() if items]
    for mode in dict.fromkeys(m for _, m, _, _ in canvases):
        group = [(canvas, bands) for _, m, canvas, bands in canvases if m == mode]
        for (canvas, bands), words in zip(group, engine.read_words_batch([c for c, _ in group], mode=mode)):
            for w in words:
                cy = w.bbox.cy
                for y0, y1, key, li, box, (fx, fy), got in bands:
                    if y0 - ROW_GAP_PX / 2 <= cy < y1 + ROW_GAP_PX / 2:
                        b = w.bbox
                        got.append(Word(w.text, w.confidence, BBox(
                            box.x0 + (b.x0 - LEFT_PAD_PX) / fx, box.y0 + (b.y0 - y0) / fy,
                            box.x0 + (b.x1 - LEFT_PAD_PX) / fx, box.y0 + (b.y1 - y0) / fy)))
                        break
    pieces: list[Pieces] = [{} for _ in stacks]
    for i, _, _, bands in canvases:
        for y0, y1, key, li, box, f, got in bands:
            pieces[i].setdefault(key, []).append((li, box, got))
    return pieces
