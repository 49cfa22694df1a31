"""A payer's name and address are one text, printed on each of its forms: read several times, settled once.

An employer's payroll software prints the same 支払者 header on every 給与支払報告書 it sends, so the
forms of one payer in a night's batch are independent scans of one text. Where their readings of
支払者 氏名又は名称 or 住所 differ, they vote character by character, each weighted by how sure its
reader was (:func:`_vote`): forms that misread different characters of one print each lose to the others.
The full-page pass's reading of each form's box (:attr:`FieldValue.page_read`), a second opinion read from
another crop, has a small vote too. A 0 that one form saw stands against forms that read it as 6 or 9 (a
slashed zero: :func:`_zeros_kept`).
The result replaces the readings near it (an OCR slip) and the garbled ones, never a surely read text far
from it (another office's address stays as read). A born-digital form's
text layer is what the payer typed: it is never replaced, and where a payer's forms hold one, it is the
value the scans' readings are settled to (two text layers that differ are two offices: nothing is settled).

Forms are grouped by a payer number that passes its check digit, so one misread number cannot join
two payers. A form's own reading stays in :attr:`FieldValue.as_read`: a rerun settles again from the
readings, not from an earlier settlement, and a clerk can see what the form itself gave.
"""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from taxcheck.records import Form
from taxcheck.rules.checkdigits import is_valid_payer_number

PAYER_COLUMNS = ("payer_name", "payer_address")
# A reading at least this similar to the settled one is a misreading of it (measured on three generated
# batches: 0.4 to 0.6 settle the same forms; 0.7 leaves garbled readings of a long name alone).
MIN_SIMILARITY = 0.5
# ...unless the form's own reading is this unsure: then it is a garbled reading of the same print, not another
# office (on four generated batches, 2,491 forms, settling these mended 6 forms' payer boxes and broke none).
UNSURE = 0.5
# A form's vote weighs the log-odds of its confidence, no less than this: a reading at 0.99 outweighs two at
# 0.52, two at 0.7 outweigh one at 0.8 (on the same batches, 0.2 to 0.3 settle the same forms; plain confidences
# let two garbled readings outvote a sure one).
MIN_WEIGHT = 0.25
# The page pass's reading of each form's payer box votes too, with this weight: less than any form's own
# (MIN_WEIGHT), so it decides near ties (浩 at 0.71 against 洗 at 0.74). Re-settling six generated batches (7,991
# forms) mended 24 payer boxes and broke 2 (both forms of a payer read unsure, the page pass garbled too); 0.15
# mended 18, 0.3 broke 11.
PAGE_WEIGHT = 0.2
# A slashed or dotted zero (a payroll font's 0) is read as 6 or 9 by Tesseract on most scans; a form whose reading
# shows the 0 saw it (a clean scan, or the glyph check of extract/reread.py). The reverse, a printed 6 or 9 read
# as 0, does not happen that way: on six generated batches (7,991 forms) keeping the 0s mended 23 payer
# addresses settled to 6 or 9 by the other forms' votes, and broke none.
_ZERO_READ_AS = {"0": "69", "０": "６９"}


def own_readings(form: Form) -> Form:
    """``form`` with every settled value back to the form's own reading (and its own confidence)."""
    if all(fv.as_read is None for fv in form.fields.values()):
        return form
    return dataclasses.replace(form, fields={
        name: fv if fv.as_read is None else dataclasses.replace(
            fv, value=fv.as_read, confidence=fv.as_read_confidence or 0.0, as_read=None, as_read_confidence=None)
        for name, fv in form.fields.items()})


def _weight(confidence: float) -> float:
    c = min(max(confidence, 0.01), 0.995)
    return max(math.log(c / (1 - c)), MIN_WEIGHT)


def _vote(readings: dict[str, list[float]], seconds: Sequence[str] = ()) -> str | None:
    """Character by character, what the readings say, each weighted by its forms' confidences (ROVER: every
    reading aligned to the one most forms share, the pivot; a slot takes the text with the most weight, a
    character left out or added included, and a tie keeps the pivot's). Two forms misreading different
    characters of one print outvote either misreading; one sure reading outvotes two garbled ones. Readings
    far from the pivot (another office's) do not vote. ``seconds`` are the page pass's readings of the same
    boxes (:attr:`FieldValue.page_read`), each a vote of :data:`PAGE_WEIGHT` on the characters, never on
    spaces (the page pass puts its own between words). None when two readings tie for pivot on forms and
    confidence: nothing says which is the printed one."""
    rank = {v: (len(c), max(c)) for v, c in readings.items()}
    pivot, *rest = sorted(rank, key=rank.get, reverse=True)
    seconds = [text for text in seconds if Levenshtein.normalized_similarity(text, pivot) >= MIN_SIMILARITY]
    if rest and rank[rest[0]] == rank[pivot] and not seconds:
        return None
    here = [defaultdict(float) for _ in pivot]  # per character of the pivot: what stands there
    after = [defaultdict(float) for _ in range(len(pivot) + 1)]  # per gap before each character: what is added
    for text in [pivot, *rest]:  # the pivot first: a tie keeps its text
        confidences = readings[text]
        if _near(text, pivot, min(confidences)):
            _add_votes(pivot, text, sum(_weight(c) for c in confidences), here, after)
    for text in seconds:
        _add_page_votes(pivot, text, here, after)
    slots = [votes for k in range(len(pivot)) for votes in (after[k], here[k])] + [after[len(pivot)]]
    return _zeros_kept("".join(max(votes, key=votes.get) for votes in slots), readings)


def _zeros_kept(settled: str, readings: dict[str, list[float]]) -> str:
    """``settled`` with the 0s of a form's reading that differs from it only by a 0 where it has a 6 or 9: the
    zero that form saw outweighs any number of forms that read it as 6 or 9 (:data:`_ZERO_READ_AS`)."""
    out = list(settled)
    for text in readings:
        for k in _zero_slips(text, settled) or ():
            out[k] = text[k]
    return "".join(out)


def _zero_slips(zeroed: str, other: str) -> list[int] | None:
    """Where ``other`` has a 6 or 9 that ``zeroed`` reads as 0, when those are their only differences."""
    if len(zeroed) != len(other):
        return None
    diffs = [k for k, (a, b) in enumerate(zip(zeroed, other)) if a != b]
    return diffs if diffs and all(other[k] in _ZERO_READ_AS.get(zeroed[k], "") for k in diffs) else None


def _add_votes(pivot: str, text: str, weight: float, here: list[dict], after: list[dict]) -> None:
    """``text``'s votes, aligned to ``pivot``: on what stands at each of its characters and what is added before."""
    added: dict[int, str] = {}
    for tag, i1, i2, j1, j2 in Levenshtein.opcodes(pivot, text):
        if tag == "insert":
            added[i1] = text[j1:j2]
        elif tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for k in range(i1, i2):
                here[k][text[j1 + k - i1]] += weight
        else:  # a deletion, or a stretch read as a different number of characters
            here[i1][text[j1:j2]] += weight
            for k in range(i1 + 1, i2):
                here[k][""] += weight
    for gap in range(len(pivot) + 1):
        after[gap][added.get(gap, "")] += weight


def _add_page_votes(pivot: str, text: str, here: list[dict], after: list[dict]) -> None:
    """The page pass's reading's votes (:data:`PAGE_WEIGHT`), aligned to ``pivot`` without spaces: on which
    character stands where both have one, and on characters it has more where a form's own reading has more too.
    Never on spaces (it puts its own between words) nor on characters it lacks (it cuts a box's text at its own
    edges)."""
    chars = [k for k, c in enumerate(pivot) if c != " "]
    text = text.replace(" ", "")
    added: dict[int, str] = {}
    for tag, i1, i2, j1, j2 in Levenshtein.opcodes("".join(pivot[k] for k in chars), text):
        if tag == "insert":
            added[chars[i1] if i1 < len(chars) else len(pivot)] = text[j1:j2]
        elif tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for k in range(i1, i2):
                here[chars[k]][text[j1 + k - i1]] += PAGE_WEIGHT
    for gap, votes in enumerate(after):
        if any(votes):  # only where a form's own reading has more
            votes[added.get(gap, "")] += PAGE_WEIGHT


def _near(reading: str, settled: str, confidence: float) -> bool:
    """Whether ``reading`` is a misreading of ``settled``: similar enough, or read too unsurely to be another
    office's text."""
    return confidence < UNSURE or Levenshtein.normalized_similarity(reading, settled) >= MIN_SIMILARITY


def _confidence(readings: dict[str, list[float]], settled: str) -> float:
    """The surest form's confidence in ``settled`` (a form that read its 0 as 6 or 9 and nothing else amiss read it:
    :func:`_zeros_kept` mended 23 payer addresses so and broke none); for a vote no form read whole, the forms'
    mean."""
    read_it = [c for text, cs in readings.items() if text == settled or _zero_slips(settled, text) for c in cs]
    if read_it:
        return max(read_it)
    every = [c for cs in readings.values() for c in cs]
    return sum(every) / len(every)


def _settled(readings: dict[str, list[float]], typed: set[str], seconds: Sequence[str] = ()) -> str | None:
    """The reading of the text layer (``typed``, at most one: what the payer typed, exact), else the readings'
    vote."""
    return next(iter(typed)) if typed else _vote(readings, seconds)


def settle_payers(forms: Sequence[Form]) -> list[Form]:
    """``forms`` with each payer's name and address settled over the payer's forms (same order).

    Settling starts from each form's own readings, so settling again gives the same forms. A changed
    value keeps the form's reading and confidence in ``as_read`` and ``as_read_confidence`` and takes
    the confidence of the surest form that read the settled value (the forms' mean when the vote put together a
    text no form read whole). Unchanged forms are returned as given.
    """
    read = [own_readings(f) for f in forms]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, form in enumerate(read):
        number = form.value("payer_number")
        if number and is_valid_payer_number(number):
            groups[number].append(i)
    out = list(read)
    for idx in (g for g in groups.values() if len(g) > 1):
        for column in PAYER_COLUMNS:
            readings: dict[str, list[float]] = defaultdict(list)
            typed: set[str] = set()
            seconds: list[str] = []
            for i in idx:
                fv = read[i].fields.get(column)
                if fv is not None and not fv.blank:
                    readings[fv.value].append(fv.confidence)
                    if fv.source == "text_layer":
                        typed.add(fv.value)
                    if fv.page_read:
                        seconds.append(fv.page_read)
            settled = _settled(readings, typed, seconds) if readings and len(typed) < 2 else None
            if settled is not None:
                for i in idx:
                    out[i] = _settle_field(out[i], column, settled, _confidence(readings, settled))
    return [before if after == before else after for before, after in zip(forms, out)]


def _settle_field(form: Form, column: str, settled: str, confidence: float) -> Form:
    fv = form.fields.get(column)
    if fv is None or fv.blank or fv.value == settled or fv.source == "text_layer":
        return form
    if not _near(fv.value, settled, fv.confidence):
        return form  # another office's address, not a misreading
    new = dataclasses.replace(fv, value=settled, confidence=confidence, as_read=fv.value,
                              as_read_confidence=fv.confidence)
    return dataclasses.replace(form, fields={**form.fields, column: new})
