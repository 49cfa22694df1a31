"""A payer's name and address are one text, printed on each of its forms: read several times, settled once.

An employer's payroll software prints the same 支払者 header on every 給与支払報告書 it sends, so the
forms of one payer in a night's batch are independent scans of one text. Where their readings of
支払者 氏名又は名称 or 住所 differ, the reading most of them share is the printed one; between readings
shared by as many forms, the one read with the most confidence. It replaces the readings near it (an
OCR slip), never a reading far from it (another office's address stays as read).

Forms are grouped by a payer number that passes its check digit, so one misread number cannot join
two payers. A form's own reading stays in :attr:`FieldValue.as_read`: a rerun settles again from the
readings, not from an earlier settlement, and a clerk can see what the form itself gave.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from taxcheck.records import FieldValue, Form
from taxcheck.rules.checkdigits import is_valid_payer_number

PAYER_COLUMNS = ("payer_name", "payer_address")
# A reading at least this similar to the settled one is a misreading of it (measured on three generated
# batches: 0.4 to 0.6 settle the same forms; 0.7 leaves garbled readings of a long name alone).
MIN_SIMILARITY = 0.5


def _own(fv: FieldValue | None) -> str:
    if fv is None:
        return ""
    return fv.as_read if fv.as_read is not None else (fv.value or "")


def _settled(readings: dict[str, list[float]]) -> str | None:
    """The reading most forms share, then the most confident; None when two tie on both."""
    ranked = sorted(readings, key=lambda v: (len(readings[v]), max(readings[v])), reverse=True)
    if len(ranked) > 1 and (len(readings[ranked[1]]), max(readings[ranked[1]])) == (
            len(readings[ranked[0]]), max(readings[ranked[0]])):
        return None
    return ranked[0]


def settle_payers(forms: Sequence[Form]) -> list[Form]:
    """``forms`` with each payer's name and address settled over the payer's forms (same order).

    Forms whose values change are new objects; a changed value keeps its form's reading and confidence
    in ``as_read`` and ``as_read_confidence`` and takes the confidence of the surest form that read the
    settled value.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, form in enumerate(forms):
        number = form.value("payer_number")
        if number and is_valid_payer_number(number):
            groups[number].append(i)
    out = list(forms)
    for idx in groups.values():
        if len(idx) < 2:
            continue
        for column in PAYER_COLUMNS:
            readings: dict[str, list[float]] = defaultdict(list)
            for i in idx:
                fv = forms[i].fields.get(column)
                if _own(fv):
                    readings[_own(fv)].append(fv.confidence if fv.as_read is None else fv.as_read_confidence or 0.0)
            settled = _settled(readings) if readings else None
            if settled is None:
                continue
            for i in idx:
                out[i] = _settle_field(out[i], column, settled, max(readings[settled]))
    return out


def _settle_field(form: Form, column: str, settled: str, confidence: float) -> Form:
    fv = form.fields.get(column)
    own = _own(fv)
    if fv is None or not own:
        return form
    if own == settled:
        if fv.as_read is None:
            return form
        new = dataclasses.replace(fv, value=own, confidence=fv.as_read_confidence, as_read=None,
                                  as_read_confidence=None)  # an earlier settlement is undone
    elif Levenshtein.normalized_similarity(own, settled) >= MIN_SIMILARITY:
        if fv.value == settled and fv.as_read == own and fv.confidence == confidence:
            return form
        new = dataclasses.replace(fv, value=settled, confidence=confidence, as_read=own,
                                  as_read_confidence=fv.confidence if fv.as_read is None else fv.as_read_confidence)
    else:
        return form
    return dataclasses.replace(form, fields={**form.fields, column: new})
