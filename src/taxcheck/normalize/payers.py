"""A payer's name and address are one text, printed on each of its forms: read several times, settled once.

An employer's payroll software prints the same 支払者 header on every 給与支払報告書 it sends, so the
forms of one payer in a night's batch are independent scans of one text. Where their readings of
支払者 氏名又は名称 or 住所 differ, the reading most of them share is the printed one; between readings
shared by as many forms, the one read with the most confidence. It replaces the readings near it (an
OCR slip), never a reading far from it (another office's address stays as read). A born-digital form's
text layer is what the payer typed: it is never replaced, and where a payer's forms hold one, it is the
value the scans' readings are settled to (two text layers that differ are two offices: nothing is settled).

Forms are grouped by a payer number that passes its check digit, so one misread number cannot join
two payers. A form's own reading stays in :attr:`FieldValue.as_read`: a rerun settles again from the
readings, not from an earlier settlement, and a clerk can see what the form itself gave.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from taxcheck.records import Form
from taxcheck.rules.checkdigits import is_valid_payer_number

PAYER_COLUMNS = ("payer_name", "payer_address")
# A reading at least this similar to the settled one is a misreading of it (measured on three generated
# batches: 0.4 to 0.6 settle the same forms; 0.7 leaves garbled readings of a long name alone).
MIN_SIMILARITY = 0.5


def _as_read(form: Form) -> Form:
    """``form`` with every settled value back to the form's own reading (and its own confidence)."""
    if all(fv.as_read is None for fv in form.fields.values()):
        return form
    return dataclasses.replace(form, fields={
        name: fv if fv.as_read is None else dataclasses.replace(
            fv, value=fv.as_read, confidence=fv.as_read_confidence or 0.0, as_read=None, as_read_confidence=None)
        for name, fv in form.fields.items()})


def _settled(readings: dict[str, list[float]], typed: set[str]) -> str | None:
    """The reading of a text layer (``typed``: what the payer typed, exact), else the one most forms share,
    then the most confident; None when two tie on all."""
    rank = {v: (v in typed, len(c), max(c)) for v, c in readings.items()}
    ranked = sorted(rank, key=rank.get, reverse=True)
    if len(ranked) > 1 and rank[ranked[0]] == rank[ranked[1]]:
        return None
    return ranked[0]


def settle_payers(forms: Sequence[Form]) -> list[Form]:
    """``forms`` with each payer's name and address settled over the payer's forms (same order).

    Settling starts from each form's own readings, so settling again gives the same forms. A changed
    value keeps the form's reading and confidence in ``as_read`` and ``as_read_confidence`` and takes
    the confidence of the surest form that read the settled value. Unchanged forms are returned as given.
    """
    read = [_as_read(f) for f in forms]
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
            for i in idx:
                fv = read[i].fields.get(column)
                if fv is not None and not fv.blank:
                    readings[fv.value].append(fv.confidence)
                    if fv.source == "text_layer":
                        typed.add(fv.value)
            settled = _settled(readings, typed) if readings and len(typed) < 2 else None
            if settled is not None:
                for i in idx:
                    out[i] = _settle_field(out[i], column, settled, max(readings[settled]))
    return [before if after == before else after for before, after in zip(forms, out)]


def _settle_field(form: Form, column: str, settled: str, confidence: float) -> Form:
    fv = form.fields.get(column)
    if fv is None or fv.blank or fv.value == settled or fv.source == "text_layer":
        return form
    if Levenshtein.normalized_similarity(fv.value, settled) < MIN_SIMILARITY:
        return form  # another office's address, not a misreading
    new = dataclasses.replace(fv, value=settled, confidence=confidence, as_read=fv.value,
                              as_read_confidence=fv.confidence)
    return dataclasses.replace(form, fields={**form.fields, column: new})
