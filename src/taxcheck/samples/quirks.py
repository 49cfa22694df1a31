"""Scanner and paper quirks that ``degrade`` does not imitate (stress tests only).

Each quirk is a function ``(rgb page, dpi, rng) -> (rgb page, details)`` on an upright uint8 page, seeded
by a ``random.Random`` (OpenCV's RNG is seeded from it too), so the same seed gives the same pixels.
They are ordered as a sheet lives: the paper and its toner first, then the clerk's punch and staple,
then the scanner or camera (slipping feed, skew, a sheet laid by hand, a photograph at an angle, binding
shadow, halftone moiré, a scanner set to low contrast).
"""

from __future__ import annotations

import random

import cv2
import numpy as np

MM = 1 / 25.4


def _px(mm: float, dpi: int) -> int:
    return max(1, int(round(mm * MM * dpi)))


def _field(rng: random.Random, shape: tuple[int, int], cells: int, lo: float, hi: float) -> np.ndarray:
    """A smooth random float32 field in [lo, hi] (low-frequency: ``cells`` control points across)."""
    h, w = shape
    small = np.array([[rng.random() for _ in range(cells)] for _ in range(cells)], np.float32)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(lo + (hi - lo) * big, min(lo, hi), max(lo, hi))


def faded_toner(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """A printer low on toner: ink keeps 35-60 % of its darkness, unevenly across the sheet."""
    k = rng.uniform(0.38, 0.6)
    field = _field(rng, img.shape[:2], 4, k * 0.8, min(1.0, k * 1.2))[..., None]
    ink = 255.0 - img.astype(np.float32)
    return (255.0 - ink * field).astype(np.uint8), {"contrast": round(k, 2)}


def recycled_paper(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """Grey-beige recycled paper with dark fibres and specks."""
    tint = np.array([rng.uniform(222, 238), rng.uniform(216, 232), rng.uniform(196, 218)], np.float32)
    out = img.astype(np.float32) * (tint / 255.0) * _field(rng, img.shape[:2], 6, 0.96, 1.0)[..., None]
    out = out.astype(np.uint8)
    h, w = img.shape[:2]
    for _ in range(int(h * w / 40000)):  # fibres: short wavy strokes
        x, y = rng.randrange(w), rng.randrange(h)
        pts = [(x, y)]
        for _ in range(3):
            x, y = x + rng.randint(-_px(0.8, dpi), _px(0.8, dpi)), y + rng.randint(-_px(0.8, dpi), _px(0.8, dpi))
            pts.append((x, y))
        g = rng.randint(150, 200)
        cv2.polylines(out, [np.array(pts, np.int32)], False, (g, g - 4, g - 12), 1, cv2.LINE_AA)
    return out, {"tint": [int(v) for v in tint]}


def crumple(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """Creases from a crumpled and flattened sheet: thin dark/light line pairs plus faint uneven shading."""
    h, w = img.shape[:2]
    shade = np.ones((h, w), np.float32)
    n = rng.randint(4, 8)
    for _ in range(n):
        x0, y0 = rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.2, 1.2) * h
        ang = rng.uniform(0, np.pi)
        length = rng.uniform(0.4, 1.2) * max(h, w)
        pts = []
        for t in np.linspace(0, 1, 6):
            jit = rng.uniform(-0.02, 0.02) * max(h, w)
            pts.append((x0 + np.cos(ang) * length * t + jit, y0 + np.sin(ang) * length * t + jit))
        pts = np.array(pts, np.int32)
        d = rng.uniform(0.2, 0.32)
        off = np.array([_px(0.35, dpi), 0], np.int32)
        cv2.polylines(shade, [pts + off], False, 1.0 + d * 0.3, _px(0.3, dpi), cv2.LINE_AA)
        cv2.polylines(shade, [pts], False, 1.0 - d, _px(0.35, dpi), cv2.LINE_AA)
    shade = cv2.GaussianBlur(shade, (0, 0), _px(0.2, dpi)) * _field(rng, (h, w), 5, 0.93, 1.0)
    return np.clip(img.astype(np.float32) * shade[..., None], 0, 255).astype(np.uint8), {"creases": n}


def punch_staple(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """Two 6 mm binder holes along the left edge (80 mm apart, seen as the dark scanner lid) and a staple."""
    out = img.copy()
    h, w = img.shape[:2]
    cx = _px(rng.uniform(9, 13), dpi)
    cy = h // 2 + _px(rng.uniform(-10, 10), dpi)
    lid = rng.randint(40, 90)
    for dy in (-40, 40):
        cv2.circle(out, (cx, cy + _px(dy, dpi)), _px(3.0, dpi), (lid, lid, lid), -1, cv2.LINE_AA)
        cv2.circle(out, (cx, cy + _px(dy, dpi)), _px(3.0, dpi), (lid + 60,) * 3, _px(0.2, dpi), cv2.LINE_AA)
    sx, sy = _px(rng.uniform(5, 12), dpi), _px(rng.uniform(5, 12), dpi)
    ang = np.radians(rng.uniform(30, 60))
    ex, ey = sx + int(_px(12, dpi) * np.cos(ang)), sy + int(_px(12, dpi) * np.sin(ang))
    cv2.line(out, (sx, sy), (ex, ey), (70, 70, 75), _px(0.7, dpi), cv2.LINE_AA)
    cv2.line(out, (sx, sy), (ex, ey), (190, 190, 195), max(1, _px(0.2, dpi)), cv2.LINE_AA)
    for x, y in ((sx, sy), (ex, ey)):
        cv2.circle(out, (x, y), _px(0.5, dpi), (40, 40, 40), -1, cv2.LINE_AA)
    return out, {"holes_x_mm": round(cx / dpi / MM, 1), "staple_mm": [round(sx / dpi / MM, 1), round(sy / dpi / MM, 1)]}


def xy_scale(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """A sheet-fed scanner whose feed slipped or raced: the page is 1.5-4 % longer or shorter along y than x."""
    h, w = img.shape[:2]
    sy = 1 + rng.choice([-1, 1]) * rng.uniform(0.015, 0.04)
    sx = 1 + rng.uniform(-0.005, 0.005)
    m = np.array([[sx, 0, 0], [0, sy, 0]], np.float32)
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    return out, {"sx": round(sx, 4), "sy": round(sy, 4)}


def _turned(img: np.ndarray, rng: random.Random, lo: float, hi: float, scale: float) -> tuple[np.ndarray, dict]:
    """The page turned ``lo``-``hi`` degrees either way about its centre and scaled by ``scale``, on white."""
    a = rng.choice([-1, 1]) * rng.uniform(lo, hi)
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), a, scale)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255)), {"degrees": round(a, 2)}


def skew(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """A sheet fed at an angle: 2-4 degrees either way (the page grows so no corner is cut)."""
    return _turned(img, rng, 2.0, 4.0, 1.0)


def lean(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """A sheet laid on a flatbed by hand: 5-8 degrees either way, shrunk a little so that no corner is cut."""
    return _turned(img, rng, 5.0, 8.0, 0.9)


def photo(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """A sheet photographed on a desk instead of scanned: seen at an angle (each corner moved inwards by up to 4 %
    of the page, so the far edge is narrower), the desk around it, lamp light falling off across the sheet, and
    held upside down half the time."""
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    inward = np.float32([[1, 1], [-1, 1], [-1, -1], [1, -1]])
    moves = np.float32([[rng.uniform(0, 0.04) * w, rng.uniform(0, 0.04) * h] for _ in range(4)])
    m = cv2.getPerspectiveTransform(src, src + inward * moves)
    desk = tuple(int(v) for v in np.random.default_rng(rng.randrange(2**31)).integers(50, 120, 3))
    out = cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=desk)
    light = _field(rng, (h, w), 2, rng.uniform(0.6, 0.75), 1.0)
    out = np.clip(out.astype(np.float32) * light[..., None], 0, 255).astype(np.uint8)
    turned = rng.random() < 0.5
    if turned:
        out = np.ascontiguousarray(out[::-1, ::-1])
    return out, {"corners_px": [[round(float(v), 1) for v in c] for c in moves], "upside_down": turned}


def binding_shadow(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """A page lifted off the glass along its binding edge: a soft dark band fading inwards, plus uneven lamp light."""
    h, w = img.shape[:2]
    edge = rng.choice(["left", "top", "right"])
    depth, width = rng.uniform(0.35, 0.6), _px(rng.uniform(12, 28), dpi)
    n = w if edge in ("left", "right") else h
    d = np.arange(n, dtype=np.float32)
    if edge == "right":
        d = d[::-1]
    ramp = 1.0 - depth * np.exp(-d / width)
    light = _field(rng, (h, w), 3, rng.uniform(0.86, 0.93), 1.0)
    light *= ramp[None, :] if edge in ("left", "right") else ramp[:, None]
    out = np.clip(img.astype(np.float32) * light[..., None], 0, 255).astype(np.uint8)
    return out, {"edge": edge, "depth": round(depth, 2)}


def moire(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """A photocopy of a photocopy: a halftone dot screen (rotated) over the page, beating against the scan grid."""
    h, w = img.shape[:2]
    period = rng.uniform(2.6, 4.2) * dpi / 300
    ang = np.radians(rng.uniform(10, 40))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = (xx * np.cos(ang) + yy * np.sin(ang)) * (2 * np.pi / period)
    v = (-xx * np.sin(ang) + yy * np.cos(ang)) * (2 * np.pi / period)
    dots = (np.cos(u) * np.cos(v) + 1) * 0.5  # 0..1
    amp = rng.uniform(18, 30)
    out = img.astype(np.float32) - amp * dots[..., None]
    return np.clip(out, 0, 255).astype(np.uint8), {"period_px": round(period, 2), "amplitude": round(amp, 1)}


def low_contrast(img: np.ndarray, dpi: int, rng: random.Random) -> tuple[np.ndarray, dict]:
    """A scanner set to low contrast: black print comes out a mid grey (105-135), white paper a light grey."""
    ink, paper = rng.uniform(105, 135), rng.uniform(195, 215)
    out = ink + img.astype(np.float32) * (paper - ink) / 255.0
    return out.astype(np.uint8), {"ink": round(ink), "paper": round(paper)}


# the order a sheet meets them in; ``apply`` keeps it whatever order the quirks were chosen in
RASTER_QUIRKS = {
    "faded_toner": faded_toner, "recycled_paper": recycled_paper, "crumple": crumple, "punch_staple": punch_staple,
    "xy_scale": xy_scale, "skew": skew, "lean": lean, "photo": photo, "binding_shadow": binding_shadow,
    "moire": moire, "low_contrast": low_contrast,
}


def apply(img: np.ndarray, dpi: int, names: list[str], rng: random.Random) -> tuple[np.ndarray, dict]:
    """Apply the named raster quirks in sheet order, then the scanner's own noise; returns (page, details)."""
    details = {}
    for name, fn in RASTER_QUIRKS.items():
        if name in names:
            img, details[name] = fn(img, dpi, rng)
    img = cv2.GaussianBlur(img, (0, 0), 0.5 * dpi / 300)
    cv2.setRNGSeed(rng.randrange(2**31))
    noise = np.empty(img.shape[:2], np.uint8)
    cv2.randn(noise, 128, 3.0)
    img = cv2.addWeighted(img, 1.0, cv2.merge([noise] * 3), 1.0, -128.0)
    return img, details
