"""Image clean-up before OCR.

* Red/orange ink drop-out: the printed frame of the official form is often red or orange; in the
  red channel such ink is as light as the paper, while black print stays dark. A seal (印) is stamped over the
  payer's name and address in a paste that hides much of the print under it: there the print is a dark red,
  as light in the red channel as a mid grey, and a slashed 0 under a seal's ring read 9 on every form of a
  payer. Within each seal the red channel is stretched from that print (its darkest pixels) to the ink over
  paper, so the print stays black and the seal still goes.
* Ruled-line removal: long horizontal/vertical runs found by morphological opening are painted
  white, so that frames are not read as ``|``, ``l`` or ``一``. A run that glyph strokes cross along
  much of its length is print, not a rule: the touching slashed zeros of a blurred 200 dpi JPEG make
  one long run of their middle row, and painted white, "20,000" read as "2". An upright run the whole page
  high is a scanner's streak (a speck on a feeder's glass) and goes even where print crosses it, bar the crossing
  strokes: through a row of digits it counted as print, stayed, and read as a 1.
* Uneven paper: a binding shadow, recycled (tinted) paper or a crumpled sheet leaves the paper grey in
  places; global thresholds (Tesseract's Otsu, rule finding, deskew) then take whole regions of paper for
  ink. The page is divided by an estimate of its paper (``flatten_paper``), which makes the paper white again.
* Dithered scans: a scanner's photo mode prints grey paper as a field of single black dots, which
  Tesseract reads as text and every empty box as ticked. Such a bilevel page is blurred back into greys
  (``descreen``) before anything else.
* Blank pages (a duplex scan's backs) are told by their share of print and not read at all.
* Light scans: a page whose darkest print is a mid grey (drop-out labels on a pale 200 dpi JPEG) has
  its greys stretched, or Tesseract's own thresholding loses the labels the forms are found by.
"""

from __future__ import annotations

import cv2
import numpy as np

LINE_MIN_FRACTION = 0.025  # a rule is at least this share of the page width/height long
MIN_LINE_PX = 25
CROSS_REACH = 8  # a run's band (rule + 1 px each side) at most this thick can be crossed by a stroke…
STROKE_PX = 3  # …that runs this many pixels beyond it on both sides
TEXT_CROSS_SHARE = 0.3  # a run crossed by strokes on this share of its length is print, not a rule
STREAK_SHARE = 0.95  # an upright run this share of the page's height long is a scanner's streak: a form's upright
# rules stop well short of the page's edges (at most ~55 % of an A4 page). Level runs are left alone: a fax scaled to
# the page's width has rules 95 % of it long, and a feeder draws its streaks down a sheet, which is fed upright.
LIGHT_PAGE_LEVEL = 140  # a page whose darkest 1 % of pixels is lighter than this was scanned light
LIGHT_PAGE_MARGIN = 40  # …its stretched greys run from this much below that darkest 1 % (black)…
PAPER_MARGIN = 10  # …to this much below the paper's grey (white)
PAPER_SCALE_PX = 250  # the paper is estimated on the page shrunk to this many pixels across (print vanishes)…
PAPER_KERNEL_PX = 7  # …as the lightest value within this many of those pixels (a glyph is 2–3 of them)
DOT_SHARE = 0.01  # a bilevel page with this share of its pixels lone ink dots was dithered…
DESCREEN_SIGMA_PX = 1.5  # …and is blurred this much (dots spaced 2–4 px merge into a grey)
BLANK_INK_LEVEL = 170  # on a page whose paper was made white (even_page), print is darker than this…
BLANK_INK_SHARE = 0.001  # …and a page with less of it is blank (the faintest form page seen, faded toner, has 0.9 %)
EVEN_PAPER_LEVEL = 215  # a page whose paper is lighter than this everywhere (2nd percentile) is left alone
RED_INK = 60  # a pixel whose red channel exceeds its green and blue by this much holds red ink
SEAL_MM = (5.0, 40.0)  # a seal's blob of red ink is this wide and high (millimetres of an A4 page's short side)…
SEAL_ASPECT = (0.6, 1.6)  # …and about as wide as high (a drop-out form's red frame is neither)
SEAL_BLOB_SHRINK = 4  # seals are looked for on the page shrunk this many times
SEAL_PRINT_PCT = 1  # within a seal, the red pixels' red channel at this percentile is print under the ink…
SEAL_INK_PCT = 50  # …and at this one the ink over paper
SEAL_MIN_SPREAD = 40  # a seal whose two levels are closer than this has no print under it: left as it is


def dropout_red(image: np.ndarray) -> np.ndarray:
    """Grey image in which red/orange ink is light: the max of R and the luminance.

    Black stays black (R is low), red/orange goes near white (R is high), blue ink stays dark. Print under a
    seal is recovered (:func:`_print_under_seals`)."""
    if image.ndim == 2:
        return image
    rgb = image[:, :, :3]
    out = _red_dropped(rgb)
    _print_under_seals(rgb, out)
    return out


def darkest_and_dropout(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each pixel's darkest channel, :func:`dropout_red`) of a page, the seals found once for both.

    In the darkest channel print in red or orange drop-out ink is as dark as black print (what the page pass reads,
    for a drop-out form's labels); a seal's paste is as dark as the print it covers, so there, too, the print under a
    seal is recovered."""
    if image.ndim == 2:
        return image, image
    rgb = image[:, :, :3]
    darkest = cv2.min(cv2.min(rgb[:, :, 0], rgb[:, :, 1]), rgb[:, :, 2])
    dropped = _red_dropped(rgb)
    _print_under_seals(rgb, darkest, dropped)
    return darkest, dropped


def _red_dropped(rgb: np.ndarray) -> np.ndarray:
    """The max of R and the luminance (see :func:`dropout_red`), before seals."""
    return np.maximum(to_grey(rgb), rgb[:, :, 0])


def _print_under_seals(rgb: np.ndarray, *outs: np.ndarray) -> None:
    """Within each seal on the page (a compact blob of red ink, :data:`SEAL_MM`), the red pixels of each of ``outs``
    take their red channel stretched from the print under the ink (black) to the ink over paper (white).

    The seal's paste covers the print: black under it scans as a dark red (R ~170 against ~225 for the ink on
    paper), which the plain drop-out turns into a light grey that Tesseract misreads (a slashed 0 read 9, 蓮 read
    連). A red frame of a drop-out form is no seal (too long, or joined to it) and is left alone. Seals are looked
    for on the page shrunk :data:`SEAL_BLOB_SHRINK` times (under a millisecond), the stretch is done at full size."""
    k = SEAL_BLOB_SHRINK
    small = cv2.resize(rgb, (max(1, rgb.shape[1] // k), max(1, rgb.shape[0] // k)), interpolation=cv2.INTER_LINEAR)
    red = cv2.compare(_redness(small), RED_INK // 2, cv2.CMP_GT)  # a thin stroke shrunk is paler: a lower bar
    if cv2.countNonZero(red) < 4:
        return
    blobs = cv2.morphologyEx(red, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    mm = min(small.shape[:2]) / 210.0  # shrunk pixels a millimetre, taking the short side for an A4 page's
    _, _, stats, _ = cv2.connectedComponentsWithStats(blobs)
    for x, y, w, h, _ in stats[1:]:
        if not (SEAL_MM[0] * mm <= min(w, h) and max(w, h) <= SEAL_MM[1] * mm and SEAL_ASPECT[0] <= w / h <= SEAL_ASPECT[1]):
            continue
        region = (slice(max(0, (y - 1) * k), (y + h + 1) * k), slice(max(0, (x - 1) * k), (x + w + 1) * k))
        part = rgb[region]
        ink = _redness(part) > RED_INK
        levels = part[:, :, 0][ink]
        if levels.size == 0:
            continue
        low, high = np.percentile(levels, [SEAL_PRINT_PCT, SEAL_INK_PCT])
        if high - low < SEAL_MIN_SPREAD:
            continue
        lut = np.clip((np.arange(256) - low) * 255.0 / (high - low), 0, 255).astype(np.uint8)
        for out in outs:
            out[region][ink] = lut[levels]


def _redness(rgb: np.ndarray) -> np.ndarray:
    """How far each pixel's red channel exceeds its green and blue (0 for grey, black and white)."""
    r, g, b = cv2.split(np.ascontiguousarray(rgb))
    return cv2.subtract(r, cv2.max(g, b))


def descreen(image: np.ndarray) -> np.ndarray:
    """A dithered bilevel page blurred back into greys; any other page as it is."""
    grey = image if image.ndim == 2 else image[:, :, 0]
    sample = grey[::7, ::7]
    if np.count_nonzero((sample > 0) & (sample < 255)) > sample.size // 100:
        return image  # greys: a real grey scan, not a bilevel one
    ink = (grey < 128).astype(np.uint8)
    neighbours = cv2.filter2D(ink, -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT)
    lone = np.count_nonzero((ink == 1) & (neighbours == 1))
    if lone < DOT_SHARE * grey.size:
        return image
    return cv2.GaussianBlur(image, (0, 0), DESCREEN_SIGMA_PX)


def flatten_paper(image: np.ndarray) -> np.ndarray:
    """``image`` divided by its paper, so that shadows, tints and creases turn white and print stays dark.

    The paper is the lightest value around each point of the shrunk page (print is narrower than the
    window), smoothed and enlarged again; each colour channel has its own, so red drop-out ink stays red on
    tinted paper. A page whose paper is white everywhere is returned as it is."""
    h, w = image.shape[:2]
    f = PAPER_SCALE_PX / max(w, 1)
    if f >= 1:
        return image
    small = cv2.resize(image, (PAPER_SCALE_PX, max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    kernel = np.ones((PAPER_KERNEL_PX, PAPER_KERNEL_PX), np.uint8)
    paper = cv2.blur(cv2.dilate(small, kernel), (PAPER_KERNEL_PX, PAPER_KERNEL_PX))
    if np.percentile(paper, 2) >= EVEN_PAPER_LEVEL:
        return image
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(image, np.maximum(paper, 1), scale=255)


def even_page(image: np.ndarray) -> np.ndarray:
    """A scanned page as every later step expects it: dots of a dithered scan merged, paper made white."""
    return flatten_paper(descreen(image))


def to_grey(image: np.ndarray) -> np.ndarray:
    """The luminance of an RGB page; a grey page as it is."""
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image


def is_blank(page: np.ndarray) -> bool:
    """Whether a page made even (:func:`even_page`) holds no print: a duplex scan's empty back, a separator sheet.
    Bleed-through of the other side is lighter than print. Such a page cost ~7 s of OCR (every turn and OSD tried)
    for nothing."""
    grey = to_grey(page)
    return cv2.countNonZero(cv2.compare(grey, BLANK_INK_LEVEL, cv2.CMP_LT)) < BLANK_INK_SHARE * grey.size


def stretch_greys(grey: np.ndarray, black: float, white: float) -> np.ndarray:
    """``grey`` mapped linearly so that ``black`` becomes 0 and ``white`` 255 (clipped)."""
    scale = 255.0 / max(1.0, white - black)
    return np.clip((grey.astype(np.float32) - black) * scale, 0, 255).astype(np.uint8)


def light_page_levels(grey: np.ndarray) -> tuple[float, float] | None:
    """(black, white) to stretch a page scanned light to, or None when its print is dark enough."""
    darkest, paper = np.percentile(grey[::4, ::4], [1, 50])
    if darkest <= LIGHT_PAGE_LEVEL:
        return None
    return darkest - LIGHT_PAGE_MARGIN, paper - PAPER_MARGIN


def binarize(grey: np.ndarray) -> np.ndarray:
    """Ink = 255, paper = 0 (Otsu)."""
    _, bw = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return bw


def rule_mask(bw: np.ndarray, min_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(horizontal, vertical) masks of ruled lines in an ink=255 binary image."""
    h, w = bw.shape
    lh = min_len or max(MIN_LINE_PX, int(w * LINE_MIN_FRACTION))
    lv = min_len or max(MIN_LINE_PX, int(h * LINE_MIN_FRACTION))
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (lh, 1)))
    vert = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, lv)))
    return horiz, vert


def _crossed(ink: np.ndarray, band: np.ndarray, across: int) -> np.ndarray:
    """Pixels of ``band`` with a stroke of ``ink`` ending within ``CROSS_REACH`` before them along axis
    ``across`` (0: from above, for a horizontal rule) and one beginning within it after them (a stroke:
    ``STROKE_PX`` ink pixels in a line, not a fax speck)."""
    def kernel(n: int) -> np.ndarray:
        return np.ones((n, 1) if across == 0 else (1, n), np.uint8)

    def at(i: int) -> tuple[int, int]:
        return (0, i) if across == 0 else (i, 0)

    ends = cv2.erode(ink, kernel(STROKE_PX), anchor=at(STROKE_PX - 1))  # ink with STROKE_PX - 1 more before it
    starts = cv2.erode(ink, kernel(STROKE_PX), anchor=at(0))  # …after it
    before = cv2.dilate(ends, kernel(CROSS_REACH + 1), anchor=at(CROSS_REACH))  # spread over the band
    after = cv2.dilate(starts, kernel(CROSS_REACH + 1), anchor=at(0))
    return cv2.bitwise_and(band, cv2.bitwise_and(before, after))


def rule_bands(bw: np.ndarray, horiz: np.ndarray, vert: np.ndarray, span: int) -> np.ndarray:
    """The rules' mask (255 on each rule with 1 px around it) less what is glyph ink: where strokes cross a
    run (ink right above and right below a horizontal run, left and right of a vertical one) along
    much of the ``span`` px around a pixel, the run lies inside a line of print. A true rule is
    crossed only at its junctions. OpenCV calls only: with numpy temporaries, rule removal took 0.31 s of a
    300 dpi page against 0.18 s."""
    kernel = np.ones((3, 3), np.uint8)
    bands = [cv2.dilate(rules, kernel) for rules in (horiz, vert)]  # 255 on the band
    glyphs = cv2.bitwise_and(bw, cv2.bitwise_not(cv2.bitwise_or(*bands)))
    out = np.zeros(bw.shape, np.uint8)
    share = round(TEXT_CROSS_SHARE * 10)
    streaks = _page_long(vert)  # upright runs only (see STREAK_SHARE)
    for band, across in zip(bands, (0, 1)):
        window = (span, 1) if across == 0 else (1, span)
        crossed = cv2.blur(_crossed(glyphs, band, across), window)  # means of 0/255 masks, as uint8
        ruled = cv2.blur(band, window)
        # crossed < TEXT_CROSS_SHARE · ruled in integers: 10·crossed ≤ 3·ruled (the float 0.3 is a hair above 0.3,
        # so "≤" gives the same pixels as the float test did)
        ink = cv2.compare(cv2.multiply(crossed, 10, dtype=cv2.CV_16U), cv2.multiply(ruled, share, dtype=cv2.CV_16U),
                          cv2.CMP_LE)
        rules_here = cv2.bitwise_and(band, ink)
        if across == 1 and streaks is not None:
            # a dirty scanner glass draws a line down the whole page, through the print: it goes however much strokes
            # cross it, but where one does, the glyph keeps its ink
            streak = cv2.bitwise_and(band, cv2.dilate(streaks, kernel))
            rules_here = cv2.bitwise_or(cv2.bitwise_and(rules_here, cv2.bitwise_not(streak)),
                                        cv2.bitwise_and(streak, cv2.bitwise_not(_crossed(glyphs, streak, across))))
        out = cv2.bitwise_or(out, rules_here)
    return out


def _page_long(vert: np.ndarray) -> np.ndarray | None:
    """The runs of an upright rule mask that are at least :data:`STREAK_SHARE` of the page high; None when there
    is none. A run has ink in every row it spans, so a page with fewer rows inked has none: the component search
    (~15 ms a page) is skipped on most pages, where the rules span a form's height, not the page's."""
    if np.count_nonzero(cv2.reduce(vert, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)) < STREAK_SHARE * vert.shape[0]:
        return None
    _, labels, stats, _ = cv2.connectedComponentsWithStats(vert, connectivity=8)
    lut = np.where(stats[:, cv2.CC_STAT_HEIGHT] >= STREAK_SHARE * vert.shape[0], 255, 0).astype(np.uint8)
    lut[0] = 0  # the background
    return lut[labels] if lut.any() else None


def remove_rules(grey: np.ndarray) -> np.ndarray:
    """Grey image with ruled lines painted white."""
    bw = binarize(grey)
    horiz, vert = rule_mask(bw)
    return cv2.bitwise_or(grey, rule_bands(bw, horiz, vert, max(MIN_LINE_PX, int(grey.shape[1] * LINE_MIN_FRACTION))))


def clean_for_ocr(image: np.ndarray) -> np.ndarray:
    """Red drop-out, then rule removal: the image OCR reads."""
    return remove_rules(dropout_red(image))
