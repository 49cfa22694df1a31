"""Field values of one located form, driven by the layout YAML.

Every field's rectangle (template mm) is mapped onto the page by the form's fitted transform;
what is read there depends on how the box is printed (``align`` in the layout):

* ``left`` / ``center`` / ``right``: the words inside the box (printed labels such as 千/円 excluded);
* ``cells``: one digit per cell (個人番号, 法人番号) — the words inside, digits only;
* ``rows``: the dependants' name rows — the value is how many rows hold ink;
* ``date``: era mark (ink in one of 明/大/昭/平/令), then the year/month/day boxes;
  中途就・退職 has one date and two marks (就職 / 退職);
* flags (type ``flag``): ink in the box.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
from rapidfuzz.distance import Levenshtein

from taxcheck.extract.labels import LabelFilter
from taxcheck.extract.marks import NAME_INK_LEVEL, NAME_SHARE, is_marked
from taxcheck.extract.reread import (
    INK_UNREAD_CONFIDENCE,
    BoxRequest,
    read_boxes_batch,
    read_choices,
    read_only,
    read_variants,
    zero_slip,
)
from taxcheck.extract.words import join_words, mean_confidence, words_in
from taxcheck.forms import FieldSpec, salary_fields
from taxcheck.layout.locate import PT_MM, LocatedForm
from taxcheck.layout.snap import snap_shift
from taxcheck.layout.template import FieldBox
from taxcheck.normalize import fold, normalize
from taxcheck.normalize.places import is_sound_address, with_building_space
from taxcheck.normalize.readings import (UNSURE_KANA, agrees, is_japanese, likeliest_kana, marks_lost,
                                         name_characters, name_spelled_by, nearest_kana, reconcile_kana, split_name)
from taxcheck.ocr.base import OcrEngine
from taxcheck.privacy import mask_long_digit_runs
from taxcheck.records import BBox, FieldValue, TextSource, Word
from taxcheck.rules.checkdigits import is_valid_payer_number

FIELD_MARGIN_MM = 0.6  # words whose centre is this close outside a box still belong to it
FORMAT_PENALTY = 0.5  # confidence multiplier when a value fails its format or check digit
BLANK_CONFIDENCE = 0.95
TEXT_LAYER_CONFIDENCE = 0.99
TICK_CHARS = set("○〇◯●◎✓✔レ*＊※×xXvV")  # a text-layer word made only of these is a tick
LABEL_ONLY_CONFIDENCE = 0.4  # the box held only printed labels: the value may have been drawn elsewhere
CELL_CHECKS = {12: is_valid_payer_number, 13: is_valid_payer_number}  # digits per cell row → check digit
VALUE_HALF_HEIGHT_EM = 0.4  # half the height of printed digits/kanji, in em
AGREEMENT_CONFIDENCE = 0.8  # 氏名 and フリガナ read apart agree: likely as printed (斎藤 and 斉藤 read alike)
_DIGITS = re.compile(r"\d+")
SURE_NAME = 0.6  # a name read at least this sure speaks for a フリガナ read unsure (below UNSURE_KANA)
STRAY_LABEL_PAD_EM = 0.25  # a row label reaching into a box's crop is whited out this much larger (see _row_labels)…
MIN_LINES_EM = 2.0  # …in a text box at least this many em tall
DATE_PT = 10.0  # date parts are printed at 10 pt whatever the form's value size
SNAP_NEAR_MM = 4.0  # a cell edge this near a box (template mm) is one of the lines the box is snapped to


@dataclass
class FieldContext:
    """What the field readers need about one form on one page."""

    form: LocatedForm
    words: list[Word]
    clean: np.ndarray  # grey, rules removed, red dropped out: for ink tests and crops
    source: TextSource
    label_boxes: list[BBox]
    engine: OcrEngine | None = None  # set on scanned pages: boxes are OCRed on their own
    cache: dict = field(default_factory=dict)
    line_masks: tuple | None = None  # (vertical, horizontal) ruled-line masks of the page, for snapping
    shifts: dict = field(default_factory=dict)
    label_only: set = field(default_factory=set)  # rects whose text was only printed labels: an unsure blank
    prefetched: bool = False  # the boxes to OCR have been read (see prefetch)

    @property
    def labels(self) -> LabelFilter:
        if "_labels" not in self.cache:
            self.cache["_labels"] = LabelFilter(lab.text for lab in self.form.version.labels)
        return self.cache["_labels"]

    def box(self, rect, margin_mm: float = 0.0) -> BBox:
        b = self.form.rect_to_page(tuple(rect), margin_mm)
        if self.line_masks is None:
            return b
        dx, dy = self._shift(tuple(rect))
        return BBox(b.x0 + dx, b.y0 + dy, b.x1 + dx, b.y1 + dy)

    def _shift(self, rect: tuple) -> tuple[float, float]:
        """Local correction of the fitted transform from the ruled cells around ``rect`` (cached): the page
        positions of the edges of the cells beside it (the vertical edges of the cells in its rows, within
        :data:`SNAP_NEAR_MM` of it across, and the horizontal ones of the cells in its columns), all cells at once."""
        if rect not in self.shifts:
            if "_cells" not in self.cache:
                self.cache["_cells"] = np.array(self.form.version.cells, dtype=float).reshape(-1, 4)
            c = self.cache["_cells"]
            x0, y0, x1, y1 = rect
            rows = (c[:, 1] < y1) & (c[:, 3] > y0)
            mid_y = (np.maximum(c[:, 1], y0) + np.minimum(c[:, 3], y1)) / 2
            xs = c[:, [0, 2]]
            at = rows[:, None] & (xs >= x0 - SNAP_NEAR_MM) & (xs <= x1 + SNAP_NEAR_MM)
            v_edges = self.form.points_to_page(xs[at], np.broadcast_to(mid_y[:, None], xs.shape)[at])[0]
            cols = (c[:, 0] < x1) & (c[:, 2] > x0)
            mid_x = (np.maximum(c[:, 0], x0) + np.minimum(c[:, 2], x1)) / 2
            ys = c[:, [1, 3]]
            at = cols[:, None] & (ys >= y0 - SNAP_NEAR_MM) & (ys <= y1 + SNAP_NEAR_MM)
            h_edges = self.form.points_to_page(np.broadcast_to(mid_x[:, None], ys.shape)[at], ys[at])[1]
            v, h = (sorted({round(e, 1) for e in edges.tolist()}) for edges in (v_edges, h_edges))
            self.shifts[rect] = snap_shift(self.form.rect_to_page(rect), v, h, self.line_masks, self.form.scale)
        return self.shifts[rect]

    def read(self, rect, kind: str, margin_mm: float = FIELD_MARGIN_MM,
             own_label: str | None = None) -> tuple[str, float]:
        """(text, confidence) of one box: from the text layer, or from the boxes OCRed by :meth:`prefetch`.
        Printed labels that stray into the box are taken out; in a free-text box (``own_label`` given) only
        whole words, since its prose quotes the other boxes' names."""
        if self.engine is None:
            ws, text, conf = self._from_words(rect, kind, margin_mm)
        else:
            r = self.cache.get((tuple(rect), kind))
            text, conf = (r.text, r.confidence) if r else ("", 0.0)
            ws = [None] if text.strip() else []
        clean = self._without_labels(text, own_label)
        if ws and not clean:
            self.label_only.add(tuple(rect))
            conf = LABEL_ONLY_CONFIDENCE
        return clean, conf

    def _from_words(self, rect, kind: str, margin_mm: float = FIELD_MARGIN_MM) -> tuple[list[Word], str, float]:
        """The words of the text layer or the page pass inside a box, printed labels left out, and their text."""
        ws = words_in(self.words, self.box(rect, margin_mm), self.label_boxes)
        kept = self.labels.keep(ws, digits=kind == "digits")
        return ws, join_words(kept), mean_confidence(kept)

    def page_read(self, rect, kind: str, own_label: str | None = None) -> str:
        """What the full-page pass read in a box that was re-read on its own, labels taken out as :meth:`read` does."""
        return self._without_labels(self._from_words(rect, kind)[1], own_label)

    def _without_labels(self, text: str, own_label: str | None) -> str:
        """``text`` with printed labels taken out; in a free-text box (``own_label`` given) only whole words."""
        return self.labels.remove_words(text, own_label) if own_label else self.labels.remove_from(text)

    def job(self, tax_year: int | None) -> tuple[np.ndarray, list[BoxRequest], tuple[BBox, ...]]:
        """What :func:`prefetch` OCRs for this form: the page, a request per box to read, the boxes nobody reads."""
        wanted = _boxes_to_read(self, salary_fields(), tax_year)
        requests = [self.request(*box) for box in dict.fromkeys(wanted)]  # (rect, kind, pt, cells, lead-in)
        return self.clean, requests, tuple(self.box(r) for r in self.form.version.other_boxes)

    def _row_labels(self, rect, box: BBox, grown: BBox, kind: str, em_px: float) -> tuple[BBox, ...]:
        """The printed labels of the rows above and below a box of text lines that reach into its crop, whited out
        up to the box's edge (with a margin outside it, never inside): the crop is cut taller than the box, and a
        label placed a little off was read as the value (a 2-up fax's (摘要) read レトゴ4). Boxes of one line are
        left alone: their glyphs reach past the edges."""
        if kind != "text" or box.height < MIN_LINES_EM * em_px:
            return ()
        pad = STRAY_LABEL_PAD_EM * em_px
        out = []
        for lab in self.form.version.labels:
            (x0, y0, x1, y1), (lx0, ly0, lx1, ly1) = rect, lab.rect
            if len(lab.text) <= 2 or not (lx0 < x1 and x0 < lx1) or (y0 < ly1 and ly0 < y1):
                continue  # a mark inside value boxes, a label beside the box, or one on its own rows
            b = self.box(lab.rect)
            top, bottom = (b.y0 - pad, min(b.y1 + pad, box.y0)) if ly1 <= y0 else (max(b.y0 - pad, box.y1), b.y1 + pad)
            b = BBox(b.x0 - pad, top, b.x1 + pad, bottom)
            if bottom > top and _overlaps(b, grown):
                out.append(b)
        return tuple(out)

    def request(self, rect, kind: str, pt: float, cells: tuple = (), lead_in_mm: float = 0.0) -> BoxRequest:
        """What the reader needs to OCR one box: where it is on the page, its font size, what to white out.
        ``lead_in_mm``: how far left of the box a left-aligned value may begin (the layout's ``lead_in``)."""
        box = self.box(rect, FIELD_MARGIN_MM / 3)
        if lead_in_mm:
            box = BBox(box.x0 - lead_in_mm * self.form.scale, box.y0, box.x1, box.y1)
        em_px = pt * PT_MM * self.form.scale
        grown = BBox(box.x0, box.y0 - em_px, box.x1, box.y1 + em_px)
        # printed 千/円/内 marks sit at the top of amount boxes and may touch the digits: white out only
        # the part of a mark above where the value's glyphs begin (the value is centred in its box)
        value_top = box.cy - VALUE_HALF_HEIGHT_EM * em_px
        blank = tuple(BBox(b.x0, b.y0, b.x1, min(b.y1, value_top)) for b in self.label_boxes
                      if _overlaps(b, grown) and b.y0 < value_top) + self._row_labels(rect, box, grown, kind, em_px)
        valid = CELL_CHECKS.get(len(cells)) if cells else None
        return BoxRequest((rect, kind), box, kind, em_px, blank, tuple(self.box(c) for c in cells), valid)


def _overlaps(a: BBox, b: BBox) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


KINDS = {"amount": "digits", "count": "digits", "my_number": "digits", "payer_number": "digits",
         "date": "digits", "text": "text", "address": "text", "kana": "kana"}


def _value(ctx: FieldContext, spec: FieldSpec, raw: str, conf: float, bbox: BBox, tax_year: int | None) -> FieldValue:
    norm = normalize(spec.type, raw, tax_year=tax_year)
    if not raw.strip():
        unsure = conf in (LABEL_ONLY_CONFIDENCE, INK_UNREAD_CONFIDENCE)  # labels only, or ink nothing read
        conf = min(conf, BLANK_CONFIDENCE) if unsure else BLANK_CONFIDENCE
    elif ctx.source == "text_layer":
        conf = max(conf, TEXT_LAYER_CONFIDENCE)
    if not norm.ok:
        conf *= FORMAT_PENALTY
    return FieldValue(spec.name, raw, norm.value, float(round(conf, 4)), bbox, ctx.source)


def _read_words(ctx: FieldContext, fb: FieldBox, spec: FieldSpec) -> tuple[str, float, BBox]:
    text, conf = ctx.read(fb.rect, KINDS.get(spec.type, "text"), own_label=spec.box if spec.free_text else None)
    return text, conf, ctx.box(fb.rect)


def _read_rows(ctx: FieldContext, fb: FieldBox) -> tuple[str, float, BBox]:
    rows = fb.extra.get("rows", [])
    n, confs = 0, []
    for row in rows:
        box = ctx.box(row["name"])
        ws = words_in(ctx.words, box, ctx.label_boxes) if ctx.engine is None else []
        if ctx.source == "text_layer":  # ink of moved labels is not a name
            labels = [w for w in ws if ctx.labels.is_label(w.text) and len(w.text) > 1]
            ws = [w for w in ws if w not in labels]
            marked, c = is_marked(_without_words(ctx.clean, labels + ws), box, NAME_INK_LEVEL, NAME_SHARE)
        else:
            marked, c = is_marked(ctx.clean, box, NAME_INK_LEVEL, NAME_SHARE)
        if ws or marked:
            n += 1
        confs.append(c if not ws else max(c, mean_confidence(ws)))
    return (str(n) if n else ""), (min(confs) if confs else 0.0), ctx.box(fb.rect)


def _read_flag(ctx: FieldContext, fb: FieldBox) -> tuple[str, float, BBox]:
    box = ctx.box(fb.rect)
    if ctx.source == "text_layer":
        ws = words_in(ctx.words, box, ctx.label_boxes)
        if any(_is_tick(w.text) for w in ws):
            return "＊", TEXT_LAYER_CONFIDENCE, box
        # a moved label's ink is not a tick: look for ink outside the words of the text layer
        marked, c = is_marked(_without_words(ctx.clean, ws), box)
    else:
        marked, c = is_marked(ctx.clean, box)
    return ("＊" if marked else ""), c, box


def _is_tick(text: str) -> bool:
    t = fold(text).replace(" ", "")
    return bool(t) and all(c in TICK_CHARS for c in t)


def _without_words(grey: np.ndarray, words: list[Word]) -> np.ndarray:
    if not words:
        return grey
    out = grey.copy()
    h, w = out.shape[:2]
    for wd in words:
        b = wd.bbox
        out[max(0, int(b.y0) - 1):min(h, int(b.y1) + 2), max(0, int(b.x0) - 1):min(w, int(b.x1) + 2)] = 255
    return out


def _part(ctx: FieldContext, rect) -> tuple[str, float]:
    text, conf = ctx.read(tuple(rect), "digits", FIELD_MARGIN_MM / 2)
    return text.replace(" ", ""), conf if text else 1.0


def _read_date(ctx: FieldContext, fb: FieldBox, tax_year: int | None = None) -> tuple[str, float, BBox]:
    """Era mark + year/month/day boxes → e.g. ``昭 55 4 12`` for the date normaliser."""
    box = ctx.box(fb.rect)
    confs: list[float] = []
    era = ""
    if "mark" in fb.extra:  # 中途就・退職: this field's mark cell must be ticked
        marked, c = is_marked(ctx.clean, ctx.box(fb.extra["mark"]))
        if not marked:
            return "", c, box
        era = str(fb.extra.get("era", ""))
        confs.append(c)
    parts = fb.extra.get("parts", {})
    texts = []
    for key in ("year", "month", "day"):
        t, c = _part(ctx, parts[key]) if key in parts else ("", 1.0)
        texts.append(t)
        confs.append(c)
    if not any(texts):
        return "", min(confs) if confs else BLANK_CONFIDENCE, box
    if "era_marks" in fb.extra:
        shares = {e: is_marked(ctx.clean, ctx.box(r)) for e, r in fb.extra["era_marks"].items()}
        ticked = [e for e, (m, _) in shares.items() if m]
        if len(ticked) == 1:
            era = ticked[0]
            confs.append(shares[era][1])
        else:
            confs.append(0.3)
            era = ticked[0] if ticked else _plausible_birth_era(texts[0], tax_year)
    elif era and "mark" in fb.extra:
        era = ""  # 中途就・退職 print era years of the tax year's era: let the normaliser pick 平成31/令和
    raw = f"{era} {texts[0]} {texts[1]} {texts[2]}".strip()
    return raw, min(confs), box


def _plausible_birth_era(year_text: str, tax_year: int | None) -> str:
    """No era mark readable: the era that makes the earner 15–100 years old in the tax year."""
    from taxcheck.normalize.dates import era_to_year

    digits = "".join(c for c in year_text if c.isdigit())
    if not digits:
        return ""
    y, ty = int(digits), tax_year or 2020
    for short, era in (("昭", "昭和"), ("平", "平成"), ("大", "大正"), ("令", "令和")):
        if 15 <= ty - era_to_year(era, y) <= 100:
            return short
    return ""



def _boxes_to_read(ctx: FieldContext, specs: dict[str, FieldSpec], tax_year: int | None
                   ) -> list[tuple[tuple, str, float, tuple, float]]:
    wanted = []
    for name, fb in ctx.form.version.fields.items():
        spec = specs.get(name)
        if spec is None or not spec.applies_to(tax_year) or spec.type == "flag" or fb.align == "rows":
            continue
        if fb.align == "date":
            wanted += [(tuple(r), "digits", DATE_PT, (), 0.0) for r in fb.extra.get("parts", {}).values()]
        else:
            cells = tuple(tuple(c) for c in fb.extra.get("cells", ())) if fb.align == "cells" else ()
            wanted.append(_box_to_read(ctx, fb, KINDS.get(spec.type, "text"), cells))
    return wanted


def _box_to_read(ctx: FieldContext, fb: FieldBox, kind: str, cells: tuple = ()
                 ) -> tuple[tuple, str, float, tuple, float]:
    """A field's box as :meth:`FieldContext.request` takes it: (rect, kind, pt, cells, lead-in), from the layout."""
    return (tuple(fb.rect), kind, float(fb.extra.get("pt", ctx.form.version.value_pt)), cells,
            float(fb.extra.get("lead_in", 0.0)))


def prefetch(forms: list[tuple[FieldContext, int | None]]) -> None:
    """OCR the boxes of several scanned forms (context, tax year) together: one Tesseract call per kind of
    box for all of them (a call costs ~0.2 s to start; a 2-up sheet's two forms share it)."""
    forms = [(ctx, year) for ctx, year in forms if ctx.engine is not None and not ctx.prefetched]
    if not forms:
        return
    for (ctx, _), got in zip(forms, read_boxes_batch(forms[0][0].engine, [ctx.job(year) for ctx, year in forms])):
        ctx.cache.update(got)
        ctx.prefetched = True


def read_fields(ctx: FieldContext, tax_year: int | None) -> dict[str, FieldValue]:
    """Every field of the form's layout version, keyed by results.csv column."""
    specs = salary_fields()
    out: dict[str, FieldValue] = {}
    prefetch([(ctx, tax_year)])  # nothing to do on a text layer, or when the page's forms were read together
    for name, fb in ctx.form.version.fields.items():
        spec = specs.get(name)
        if spec is None or not spec.applies_to(tax_year):
            continue
        if spec.type == "flag":
            raw, conf, box = _read_flag(ctx, fb)
        elif fb.align == "date":
            raw, conf, box = _read_date(ctx, fb, tax_year)
        elif fb.align == "rows":
            raw, conf, box = _read_rows(ctx, fb)
        else:
            raw, conf, box = _read_words(ctx, fb, spec)
        out[name] = _value(ctx, spec, raw, conf, box, tax_year)
    _page_reads(ctx, specs, out)
    _name_against_kana(ctx, out)
    _sound_addresses(specs, out)
    _address_numbers(specs, out)
    return out


def _page_reads(ctx: FieldContext, specs: dict[str, FieldSpec], out: dict[str, FieldValue]) -> None:
    """Keep beside each text box re-read on its own what the full-page pass read there, normalised alike. The two
    readings come from different crops, scales and page segmentations, so a value both agree on is rarely
    misread: on 113 scanned forms of a training seed, 5 of 40 wrong names, kana, addresses and remarks agreed,
    against 506 of 632 right ones. The flagging model weighs the difference (classify/features.py). A run of 12
    or more digits is masked: a box's margin may catch the 個人番号 row beside it."""
    if ctx.engine is None:
        return
    for name, fv in out.items():
        spec, fb = specs[name], ctx.form.version.fields[name]
        if KINDS.get(spec.type) not in ("text", "kana") or fv.blank or fb.align in ("date", "rows"):
            continue
        text = ctx.page_read(fb.rect, KINDS[spec.type], spec.box if spec.free_text else None)
        text = mask_long_digit_runs(normalize(spec.type, text).value or "")
        out[name] = replace(fv, page_read=with_building_space(text) if spec.type == "address" else text)


def _sound_addresses(specs: dict[str, FieldSpec], out: dict[str, FieldValue]) -> None:
    """An address whose re-read breaks an address's grammar (a place Japan Post does not list, a stray mark in the
    block number: 西新宿--12-6, ビル7?階) takes the page pass's reading of the box when that one keeps it, as unsure
    as it was read. A sound re-read always stands: the page pass reads more poorly."""
    for name, fv in out.items():
        if specs[name].type == "address" and fv.page_read and not is_sound_address(fv.value or "") \
                and is_sound_address(fv.page_read):
            out[name] = replace(fv, value=fv.page_read)


def _address_numbers(specs: dict[str, FieldSpec], out: dict[str, FieldValue]) -> None:
    """An address whose re-read differs from the page pass's reading only in numbers, each the page's misread
    in one of the re-read's known ways, takes the page's numbers:
    - 0s read 9, 6, 60 or 90 (jpn's slip on a slashed 0: room 107 read 1607, 20番 read 26番). On four generated
      batches (2,491 forms) this mended 10 addresses and broke none. The other way round (the re-read has the
      0s), the re-read stands: jpn's slip is the page pass's too (on six batches, 7,991 forms, the re-read was
      right in 156 of 171 such boxes);
    - a 3 more at the end of the number before 号 (the top of 号 read as a 3: 24号 read 243号). On those six
      batches the page pass's reading was right in all 9 such boxes, the re-read in none."""
    for name, fv in out.items():
        if specs[name].type != "address" or not fv.page_read or not fv.value:
            continue
        read, page = list(_DIGITS.finditer(fv.value)), _DIGITS.findall(fv.page_read)
        if (_DIGITS.sub("#", fv.value.replace(" ", "")) == _DIGITS.sub("#", fv.page_read.replace(" ", ""))
                and len(read) == len(page) and [m[0] for m in read] != page
                and all(r[0] == p or _number_slip(r[0], p, fv.value[r.end():r.end() + 1]) for r, p in zip(read, page))):
            numbers = iter(page)
            out[name] = replace(fv, value=_DIGITS.sub(lambda _: next(numbers), fv.value))


def _number_slip(read: str, printed: str, after: str) -> bool:
    """Whether an address's number ``read`` (followed by ``after``) is ``printed`` misread in a way the box's
    re-read is known for (:func:`_address_numbers`)."""
    return zero_slip(read, printed, widened=True) or (after == "号" and read == printed + "3")


def _spelled_as_kana(ctx: FieldContext, request: BoxRequest, name: str, kanas: list[str]) -> tuple[str, str] | None:
    """(name, kana): the name as one of ``kanas`` spells it, read again where it does not (readings.name_characters
    gives the characters a kana allows): first from the model's next choices per character (_choose), then read
    with only those characters allowed. Tesseract's jpn model reads 蓮 as 運 and 葵 as 壮 even alone and sharp. Of
    7 names of seed 9001's scans misread so beside a フリガナ read sure, the choices mended 3 (葵, 菜, 蓮) and the
    allowed characters none (the model dropped the character); on the dev seed the allowed characters mended
    one more (輔). Taken only with as many characters as before: a name of a reading no dictionary knows (翔空,
    ソラ) has no such spelling, and stands."""
    allowed = {k: chars for k in kanas if (chars := name_characters(k, split_name(name, k)))}
    if not allowed:
        return None
    choices = read_choices(ctx.engine, ctx.clean, request)
    for read in (lambda chars: _choose(choices, chars), lambda chars: read_only(ctx.engine, ctx.clean, request, chars)):
        for kana, chars in allowed.items():
            if (found := _read_as(ctx, read(chars), name, kana)) is not None:
                return found, kana
    return None


def _choose(choices: list[list[str]], allowed: str) -> str:
    """A line from the model's choices per character (read_choices): at each, the first that ``allowed`` holds
    or that is no kana or kanji; such a mark between family and given name (a space read 了 or 、) is a space."""
    picked = (next((c for c in alts if c in allowed or not is_japanese(c)), alts[0]) for alts in choices if alts)
    return "".join(c if is_japanese(c) else " " for c in picked)


def _read_as(ctx: FieldContext, text: str, name: str, kana: str) -> str | None:
    """``text`` (the name box read again) as the name, when it reads as ``kana`` with as many characters as
    ``name``; None otherwise."""
    found = name_spelled_by(kana, [normalize("text", ctx.labels.remove_from(text)).value or ""])
    return found if found is not None and len(found.replace(" ", "")) == len(name.replace(" ", "")) else None


def _name_near_kana(names: list[str], kanas: list[str], kana_confidence: float) -> str | None:
    """The page pass's reading of the 氏名 box where it, not the box's own, is a kana's near miss (村上 浩 beside
    ムラカミ ロジシ read unsure, the box read 村上 洗): the kana, one kana off a reading of it (two when read unsure,
    :func:`nearest_kana`), decides between two readings of the given name. None when the box's own is near too,
    or the two readings differ in the family name (近藤 軍 and 近 藤運: a kana two off decides nothing there)."""
    def near(name: str) -> bool:
        spelled = ((k, split_name(name, k)) for k in kanas)
        return any(agrees(nearest_kana(k, s, kana_confidence), s) for k, s in spelled)

    family = names[0].split(" ")[0] + " "
    if " " not in names[0] or near(names[0]):
        return None
    for other in names[1:]:
        spelled = split_name(other, kanas[0])
        if spelled.startswith(family) and near(other):
            return spelled
    return None


def _kanas_to_spell_by(kana: FieldValue) -> list[str]:
    """The フリガナ readings sure enough to re-spell a name by: the box's, when read sure or when the page pass
    read the box at most one kana apart (インシイ レン, イシイレン), and then the page pass's too."""
    page = (kana.page_read or "").replace(" ", "")
    agree = bool(page) and Levenshtein.distance(page, kana.value.replace(" ", "")) <= 1
    return list(dict.fromkeys([kana.value] * (agree or kana.confidence >= UNSURE_KANA) + [page] * agree))


def _sure_name(name: FieldValue) -> bool:
    """Whether the 氏名 read speaks for a garbled フリガナ: read sure, or read alike by its box and the page pass."""
    return name.confidence >= SURE_NAME or (name.page_read or "").replace(" ", "") == name.value.replace(" ", "")


def _name_against_kana(ctx: FieldContext, out: dict[str, FieldValue]) -> None:
    """氏名 and フリガナ read against each other (normalize/readings.py). The name's lost space comes from the
    kana; the box's and the page pass's readings of the two boxes are paired, and of the pairs that agree the one
    with the longest name is taken (the box's own among equals); a name no kana spells is then read
    again in other ways, and a reading that is the kana is taken; then the kana's voicing marks come from the
    name, and a kana one off its name's reading (two off, if the kana was read unsure) takes it (keeping its own
    confidence: the kana was misread, or the name); a kana read unsure that is still no reading of a name read
    sure, or read alike by its box and the page pass (_sure_name), takes the name's likeliest reading to the kana
    as read (likeliest_kana), as unsure. A name still no reading of a kana read sure (or read twice alike,
    _kanas_to_spell_by) is spelled as the kana where the model's next choices, or a reading with only the kana's
    characters allowed, spell it so (_spelled_as_kana); taken, it keeps the confidence it was read with. A pair
    that agrees otherwise is trusted.
    Scans only: a text layer is what the payer typed, and a rare reading (フクタ for 福田) must stand."""
    kana, name = out.get("recipient_kana"), out.get("recipient_name")
    if ctx.engine is None or kana is None or name is None or kana.blank or name.blank:
        return
    # the page pass's readings of the two boxes are second opinions, free (its kana without the spaces it puts
    # between words: reconcile_kana restores the one between family and given name); then the name is read again
    names = [name.value] + ([name.page_read] if name.page_read else [])
    kanas = [kana.value] + ([kana.page_read.replace(" ", "")] if kana.page_read else [])
    forced = None
    name_sure = _sure_name(name)  # before a re-read may replace it
    # of the pairs that agree, the longest name: a family name's first character lost at the box's edge takes
    # its kana with it (三浦 ミウラ read 浦 ウラ, sure), and the page pass, cut otherwise, keeps it
    agreeing = [(k, s) for k in kanas for n in names if (s := name_spelled_by(k, [n])) is not None]
    spaced = None
    if agreeing:
        value, spaced = max(agreeing, key=lambda pair: len(pair[1].replace(" ", "")))  # equals: the box's own first
        kana = replace(kana, value=value)
    else:
        fb = ctx.form.version.fields["recipient_name"]
        request = ctx.request(*_box_to_read(ctx, fb, "text"))
        others = read_variants(ctx.engine, ctx.clean, request)
        spaced = name_spelled_by(kana.value, (normalize("text", ctx.labels.remove_from(t)).value for t in others))
        respelled = _spelled_as_kana(ctx, request, name.value, _kanas_to_spell_by(kana)) if spaced is None else None
        if respelled is not None:  # spelled as the kana only when forced: as unsure as the name was read
            spaced = forced = respelled[0]
            kana = replace(kana, value=respelled[1])
        elif spaced is None and (near := _name_near_kana(names, kanas, kana.confidence)) is not None:
            name = replace(name, value=near)  # no reading spells the kana: its near miss, as unsure as the box
    spaced = spaced or split_name(name.value, kana.value)
    value = reconcile_kana(kana.value, spaced)
    kana_sure = kana.confidence >= UNSURE_KANA or not forced  # a name spelled by a kana read unsure: both stay unsure
    conf = max(AGREEMENT_CONFIDENCE, name.confidence, kana.confidence) if agrees(value, spaced) and kana_sure else None
    if conf is None:  # a kana one off the name's reading (two if read unsure) takes it, as unsure as it was read
        value = nearest_kana(value, spaced, kana.confidence)
    if not agrees(value, spaced) and kana.confidence < UNSURE_KANA and name_sure:
        value = likeliest_kana(kana.value, spaced) or value  # garbled: the sure name's likeliest reading, still unsure
    name_conf = name.confidence if forced else conf or name.confidence
    kana_conf = conf or kana.confidence
    if marks_lost(value, spaced):  # オカタ for 岡田: agreeing, but a dakuten may be lost
        kana_conf = min(kana_conf, UNSURE_KANA)
    out["recipient_name"] = replace(name, value=spaced, confidence=name_conf)
    out["recipient_kana"] = replace(kana, value=value, confidence=kana_conf)
