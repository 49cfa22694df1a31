"""Find every form on an upright page and the transform from its template (mm) to the page (px).

Each occurrence of the title 「給与支払報告書」 is one form (2-up and 4-up sheets hold several).
The title alone gives a first similarity transform (offset + scale); the printed anchor labels
near where that transform puts them then give many point pairs, and a RANSAC fit of a
similarity transform (cv2.estimateAffinePartial2D) ignores the misread ones. Last, where the
anchors found cover the form, a homography fitted to them takes over: a sheet photographed at an
angle, or scaled unevenly by a printer or scanner, is not a similarity of its template. Nothing
here knows pixel positions: only the template in millimetres and what was read on the page.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from taxcheck.layout.lines import LabelHit, Line, canon, find_label
from taxcheck.layout.snap import MIN_FRAME_COVER
from taxcheck.layout.template import Label, Layout, LayoutVersion, Rect
from taxcheck.records import BBox

PT_MM = 25.4 / 72
SEARCH_RADIUS_MM = 18.0  # how far from the title-based guess an anchor may be
REFINE_RADIUS_MM = 3.0  # how far from the fitted position an anchor may be on the second pass
RANSAC_THRESHOLD_MM = 1.5
# of the title's characters read in order: (個人別明細書) alone is 8 of 15 (a fax's 給与支払報告書 read 入境); a line
# naming the form elsewhere is no form unless MIN_ANCHORS labels sit where that title puts them
MIN_TITLE_SHARE = 0.5
SCALE_RANGE = (0.3, 3.0)
MIN_ANCHORS = 3  # printed anchor labels (the title counts; ~23 in all) found where the title says they are
LOOSE_MATCH_SHARE = 0.3  # under a title read whole, labels are matched on this share of their characters…
LOOSE_MIN_ANCHORS = 5  # …and this many must sit where the title puts them
PERSPECTIVE_ANCHORS = 8  # a homography needs this many anchors found…
PERSPECTIVE_SPREAD = 0.6  # …spread over this share of the form's width and height…
MAX_BEND_MM = 15.0  # …and may move a corner of the form at most this far from where the similarity puts it;
BENT_MM = 0.6  # only a form whose anchors sit this far (median) from the similarity's places is bent at all…
BEND_GAIN = 0.7  # …and the homography must bring them this much closer: on a flat scan it only fits reading noise

_ERA_YEAR = re.compile(r"(令和|平成|R|H)(元|\d{1,2})年?分")
_GREGORIAN_YEAR = re.compile(r"(20\d\d)年分")
_BARE_YEAR = re.compile(r"(元|\d{1,4})年")
ERA_BASE = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988}


def year_from_text(text: str) -> int | None:
    """Tax year from the title line: 令和元年分 → 2019, 令和2年分 → 2020, 平成31年分 → 2019, 2021年分 → 2021."""
    t = canon(text).replace("O", "0").replace("o", "0")
    m = _ERA_YEAR.search(t)
    if m:
        n = 1 if m.group(2) == "元" else int(m.group(2))
        return ERA_BASE[m.group(1)] + n
    m = _GREGORIAN_YEAR.search(t)
    return int(m.group(1)) if m else None


# (version, the title's 2×3 guess) → (the fit of the version's ruled frame to the page's rules, the share of them found)
FrameFit = Callable[[LayoutVersion, np.ndarray], tuple[np.ndarray, float]]


@dataclass
class LocatedForm:
    """One form on a page: its template version, tax year and mm→px transform."""

    version: LayoutVersion
    tax_year: int | None
    year_read: bool  # the year came from the printed title (not a hint or a guess)
    matrix: np.ndarray  # 3×3 homography, template mm → page px
    anchors_found: int
    anchor_hits: dict[str, LabelHit] = field(default_factory=dict)
    title_hit: LabelHit | None = None

    @property
    def scale(self) -> float:
        """Pixels per template mm at the middle of the form."""
        w, h = self.version.size_mm
        return math.dist(self.to_page(w / 2, h / 2), self.to_page(w / 2 + 1.0, h / 2))

    def to_page(self, x: float, y: float) -> tuple[float, float]:
        return _map(self.matrix, x, y)

    def points_to_page(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return map_points(self.matrix, xs, ys)

    def rect_to_page(self, rect: Rect, margin_mm: float = 0.0) -> BBox:
        return map_rect(self.matrix, rect, margin_mm)

    @property
    def bbox(self) -> BBox:
        w, h = self.version.size_mm
        return self.rect_to_page((0.0, 0.0, w, h))


def _map(m: np.ndarray, x: float, y: float) -> tuple[float, float]:
    """Template point (mm) → page (px) under a 2×3 affine or 3×3 homography ``m``."""
    p = m @ np.array([x, y, 1.0])
    return (float(p[0]), float(p[1])) if m.shape[0] == 2 else (float(p[0] / p[2]), float(p[1] / p[2]))


def map_points(m: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_map` of many template points at once (page x and y arrays)."""
    p = m @ np.vstack([xs, ys, np.ones_like(xs)])
    return (p[0], p[1]) if m.shape[0] == 2 else (p[0] / p[2], p[1] / p[2])


def map_rect(m: np.ndarray, rect: Rect, margin_mm: float = 0.0) -> BBox:
    """The box around ``rect``'s corners (grown by ``margin_mm``) under ``m``: a template rectangle (mm) → its page
    box (px), or a page box → where a perspective warp of the page puts it."""
    x0, y0, x1, y1 = rect
    x0, y0, x1, y1 = x0 - margin_mm, y0 - margin_mm, x1 + margin_mm, y1 + margin_mm
    pts = [_map(m, x, y) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
    return BBox(min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts))


def _em(ch: str) -> float:
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 0.5


def label_points(rect: Rect, text: str, pt: float = 6.0, vertical: bool = False, align: str = "center") -> list[tuple[float, float]]:
    """Template position (mm) of each character of a label as printed: ``pt`` sized, aligned in ``rect``."""
    t = canon(text)
    if not t:
        return []
    x0, y0, x1, y1 = rect
    em = pt * PT_MM
    if vertical:
        total = len(t) * em
        start = (y0 + y1) / 2 - total / 2
        return [((x0 + x1) / 2, start + (k + 0.5) * em) for k in range(len(t))]
    widths = [_em(c) * em for c in t]
    total = sum(widths)
    if total > (x1 - x0):  # squeezed into its box
        f = (x1 - x0) / total
        widths = [w * f for w in widths]
        total = x1 - x0
    start = x0 if align == "left" else (x1 - total if align == "right" else (x0 + x1) / 2 - total / 2)
    out, x = [], start
    for w in widths:
        out.append((x + w / 2, (y0 + y1) / 2))
        x += w
    return out


def label_pts(lab: Label) -> list[tuple[float, float]]:
    return label_points(lab.rect, lab.text, lab.pt, lab.vertical, lab.align)


def _pairs(hit: LabelHit, pts: list[tuple[float, float]]) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    return [(pts[k], p) for k, p in hit.pairs if k < len(pts)]


def _dedupe_titles(hits: list[LabelHit], min_dist_px: float) -> list[LabelHit]:
    kept: list[LabelHit] = []
    for h in sorted(hits, key=lambda h: -h.score):
        c = h.centre
        if all(math.dist(c, k.centre) > min_dist_px for k in kept):
            kept.append(h)
    return kept


def _title_year(hit: LabelHit, lines: list[Line]) -> int | None:
    """Year printed on the title's line (or just above/left of it)."""
    cx, cy = hit.centre
    xs = [p[1][0] for p in hit.pairs]
    h = max(8.0, (max(xs) - min(xs)) / max(1, len(xs)))
    for line in sorted(lines, key=lambda ln: abs(ln.bbox.cy - cy)):
        b = line.bbox
        if abs(b.cy - cy) > 3 * h:
            break
        if b.x0 > max(xs) + 2 * h:
            continue
        y = year_from_text(line.text)
        if y is not None:
            return y
    return None


def _choose(version: LayoutVersion, m: np.ndarray, hits_by_label: dict[str, list[LabelHit]], radius_mm: float,
            scale: float) -> tuple[dict[str, LabelHit], list]:
    """Each anchor's hit nearest to where ``m`` puts it (within ``radius_mm``), and their point pairs."""
    chosen: dict[str, LabelHit] = {}
    pairs = []
    for lab in version.anchors:
        pts = label_pts(lab)
        best, best_d = None, radius_mm * scale
        for h in hits_by_label.get(lab.text, []):
            # compare like with like: the hit's matched characters against their template points
            tx = np.mean([pts[k][0] for k, _ in h.pairs if k < len(pts)])
            ty = np.mean([pts[k][1] for k, _ in h.pairs if k < len(pts)])
            d = math.dist(h.centre, _map(m, tx, ty))
            if d < best_d:
                best, best_d = h, d
        if best is not None:
            chosen[lab.text] = best
            pairs += _pairs(best, pts)
    return chosen, pairs


def _fit(version: LayoutVersion, init: np.ndarray, hits_by_label: dict[str, list[LabelHit]], radius_mm: float):
    """Pick each anchor's hit nearest to where ``init`` puts it, then fit a similarity with RANSAC."""
    scale = math.hypot(init[0, 0], init[1, 0])
    chosen, pairs = _choose(version, init, hits_by_label, radius_mm, scale)
    if len(pairs) < 3:
        return init, chosen
    src = np.array([p[0] for p in pairs], dtype=np.float64)
    dst = np.array([p[1] for p in pairs], dtype=np.float64)
    m, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                             ransacReprojThreshold=RANSAC_THRESHOLD_MM * scale,
                                             maxIters=2000, confidence=0.995, refineIters=20)
    if m is None or inliers is None or int(inliers.sum()) < 3:
        return init, chosen
    new_scale = math.hypot(m[0, 0], m[1, 0])
    if not (0.8 * scale <= new_scale <= 1.25 * scale) or abs(math.atan2(m[1, 0], m[0, 0])) > math.radians(6):
        return init, chosen
    return m, chosen


def _homography(version: LayoutVersion, m: np.ndarray, hits_by_label: dict[str, list[LabelHit]],
                chosen: dict[str, LabelHit]) -> tuple[np.ndarray, dict[str, LabelHit]]:
    """The similarity ``m`` as a 3×3 matrix, or a homography fitted (MAGSAC) to the anchors when the form is
    bent: enough anchors, spread over the form, sit off the similarity's places, the homography brings them
    closer, and it moves no corner further than a photographed sheet's. Fitted twice: anchors the similarity
    placed too far off are found again where the first homography puts them. On a flat scan the similarity
    stays: a homography there fits the noise of where label characters were read (measured: worse boxes).

    Not plain RANSAC: most anchor points are the characters of the labels in the form's top half, and RANSAC
    stops sampling once one homography explains that many. On a sheet photographed at an angle it kept one
    fitting the top rows and 25 px off at the bottom, which the spread test then refused (measured on a stress
    set of 60 forms: MAGSAC's fit read 31 fewer fields wrong; on 160 forms of the benchmark, the same values)."""
    scale = math.hypot(m[0, 0], m[1, 0])
    similarity = np.vstack([m, [0.0, 0.0, 1.0]])
    found, pairs = _choose(version, similarity, hits_by_label, REFINE_RADIUS_MM * 2, scale)
    if len(found) < PERSPECTIVE_ANCHORS or _median_error(similarity, pairs) < BENT_MM * scale:
        return similarity, chosen
    w, h = version.size_mm
    corners = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)]
    best, first = similarity, pairs
    for _ in range(2):
        src = np.array([p[0] for p in pairs], dtype=np.float64)
        dst = np.array([p[1] for p in pairs], dtype=np.float64)
        hm, inliers = cv2.findHomography(src, dst, cv2.USAC_MAGSAC, RANSAC_THRESHOLD_MM * scale)
        if hm is None or inliers is None:
            break
        kept = src[inliers.ravel() > 0]
        if (np.ptp(kept[:, 0]) < PERSPECTIVE_SPREAD * w or np.ptp(kept[:, 1]) < PERSPECTIVE_SPREAD * h
                or max(math.dist(_map(hm, *c), _map(m, *c)) for c in corners) > MAX_BEND_MM * scale):
            break
        best = hm / hm[2, 2]
        found, pairs = _choose(version, best, hits_by_label, REFINE_RADIUS_MM * 2, scale)
    if best is similarity or _median_error(best, first) > BEND_GAIN * _median_error(similarity, first):
        return similarity, chosen
    return best, found


def _median_error(m: np.ndarray, pairs: list) -> float:
    """Median distance (px) between where ``m`` puts the template points of ``pairs`` and where they were read."""
    return float(np.median([math.dist(_map(m, *t), p) for t, p in pairs]))


def year_in_box(text: str) -> int | None:
    """The tax year from the box where 令和X年分 is printed, read on its own: as :func:`year_from_text`, or,
    with the era lost to a fax's noise (人ム和5年), a number before 年 is 令和's (the layouts begin with 2019,
    平成31年分 is 2019 as well), four digits the year itself."""
    year = year_from_text(text)
    if year is not None:
        return year
    m = _BARE_YEAR.search(canon(text).replace("O", "0").replace("o", "0"))
    if m is None:
        return None
    n = 1 if m.group(1) == "元" else int(m.group(1))
    if n >= 2019:
        return n
    if n == 31:
        return ERA_BASE["平成"] + n
    return ERA_BASE["令和"] + n if 1 <= n <= 30 else None


def locate_forms(lines: list[Line], layout: Layout, dpi: float, year_hint: int | None = None,
                 read_text: Callable[[BBox], str] | None = None, fit_frame: FrameFit | None = None,
                 ) -> list[LocatedForm]:
    """Every salary-report form on a page whose words were grouped into ``lines``. A form whose title line
    gave no year has the box where the year is printed read again with ``read_text`` (page box → text). A title
    read whole over labels read too poorly even to match loosely is a form when ``fit_frame`` (version, the title's
    2×3 guess → the fit of the version's ruled frame to the page's rules, the share of them found) finds its frame."""
    # Titles: each version's title text (they share the core 「給与支払報告書」).
    titles = {v.title_text for v in layout.versions.values()}
    title_hits: list[LabelHit] = []
    for t in titles:
        title_hits += [h for h in find_label(t, lines, MIN_TITLE_SHARE)]
    if not title_hits:
        core = "給与支払報告書"
        title_hits = find_label(core, lines, 0.7)
        core_only = True
    else:
        core_only = False
    any_version = layout.for_year(year_hint)
    px_per_mm = dpi / 25.4
    title_hits = _dedupe_titles(title_hits, 30 * px_per_mm * 0.4)
    anchor_texts = {lab.text for v in layout.versions.values() for lab in v.anchors}
    hits_by_label = {t: find_label(t, lines) for t in anchor_texts}
    loose: dict[str, list[LabelHit]] = {}

    forms: list[LocatedForm] = []
    for th in title_hits:
        year = _title_year(th, lines)
        year_read = year is not None
        if year is None:
            year = year_hint
        version = layout.for_year(year) if year is not None else any_version
        tpts = label_points(version.title_rect, version.title_text, version.title_pt)
        if core_only:  # only the core 「給与支払報告書」 was found: its characters sit inside the full title
            i = max(0, canon(version.title_text).find("給与支払報告書"))
            tpts = tpts[i:i + 7]
        tpairs = _pairs(th, tpts)
        init = _init_from_title(tpairs, px_per_mm)
        if init is None:
            continue
        hits = hits_by_label
        framed = False
        m, chosen = _fit_from_title(version, init, hits)
        if len(chosen) < MIN_ANCHORS and th.score == 1.0:
            # a title read whole over labels read too poorly to match (a blurred 200 dpi JPEG in pale drop-out
            # ink: 社会保険料等の金額 read 革信人際料等の稀): labels matched loosely, and more of them where the
            # title puts them
            loose = loose or {t: find_label(t, lines, LOOSE_MATCH_SHARE) for t in anchor_texts}
            m_loose, chosen_loose = _fit_from_title(version, init, loose)
            if len(chosen_loose) >= LOOSE_MIN_ANCHORS:
                hits, m, chosen = loose, m_loose, chosen_loose
            elif fit_frame is not None:
                # no label to go by: the form's ruled frame, where the title puts it (a cover letter has none)
                m_frame, cover = fit_frame(version, init)
                if cover >= MIN_FRAME_COVER:  # kept as fitted: refitted to the title's characters alone, its scale
                    # is the title's (~4 % off), and the boxes at the foot of the form a row off
                    m, framed = m_frame, True
                    chosen = _choose(version, m, hits, REFINE_RADIUS_MM * 2, float(m[0, 0]))[0]
        if year is None:  # no year anywhere: the 令和2年分 layout has 基礎控除の額; guess by the anchors found
            version = _guess_version(layout, m, hits) or version
        if len(chosen) < MIN_ANCHORS and not framed:  # a title alone (a cover letter naming the form) is no form
            continue
        if not year_read and read_text is not None and version.year_rect is not None:
            boxed = year_in_box(read_text(map_rect(m, version.year_rect)))
            if boxed is not None:  # refitted when that year has another layout version; a year whose version's
                other = layout.for_year(boxed)  # labels do not fit was misread, not the layout
                m_year, chosen_year = (m, chosen) if other is version else _fit(other, m, hits, REFINE_RADIUS_MM * 2)
                if len(chosen_year) >= MIN_ANCHORS:
                    version, year, year_read, m, chosen = other, boxed, True, m_year, chosen_year
        m, chosen = _homography(version, m, hits, chosen)
        forms.append(LocatedForm(version, year, year_read, m, len(chosen), chosen, th))
    return order_forms(forms)


def _fit_from_title(version: LayoutVersion, init: np.ndarray, hits_by_label: dict[str, list[LabelHit]]):
    """:func:`_fit` from the title's guess, far, then again from that fit, near."""
    m, chosen = _fit(version, init, hits_by_label, SEARCH_RADIUS_MM)
    return _fit(version, m, hits_by_label, REFINE_RADIUS_MM * 2)


def _init_from_title(tpairs, px_per_mm: float) -> np.ndarray | None:
    if not tpairs:
        return None
    src = np.array([p[0] for p in tpairs])
    dst = np.array([p[1] for p in tpairs])
    span_src = src[:, 0].max() - src[:, 0].min()
    span_dst = dst[:, 0].max() - dst[:, 0].min()
    s = span_dst / span_src if span_src > 5 else px_per_mm
    if not (SCALE_RANGE[0] * px_per_mm <= s <= SCALE_RANGE[1] * px_per_mm):
        s = px_per_mm
    t = dst.mean(axis=0) - s * src.mean(axis=0)
    return np.array([[s, 0.0, t[0]], [0.0, s, t[1]]])


def _guess_version(layout: Layout, m: np.ndarray, hits_by_label) -> LayoutVersion | None:
    best, best_n = None, -1
    for v in layout.versions.values():
        _, chosen = _fit(v, m, hits_by_label, REFINE_RADIUS_MM * 2)
        if len(chosen) > best_n:
            best, best_n = v, len(chosen)
    return best


def order_forms(forms: list[LocatedForm]) -> list[LocatedForm]:
    """Reading order: rows top to bottom, left to right within a row."""
    if not forms:
        return forms
    forms = sorted(forms, key=lambda f: f.bbox.y0)
    rows: list[list[LocatedForm]] = []
    for f in forms:
        if rows and abs(f.bbox.y0 - rows[-1][0].bbox.y0) < 0.4 * f.bbox.height:
            rows[-1].append(f)
        else:
            rows.append([f])
    return [f for row in rows for f in sorted(row, key=lambda f: f.bbox.x0)]
