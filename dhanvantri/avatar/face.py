"""Drawing for the avatar: anti-aliased shapes in numpy, the static face, eyes and mouth.

Shapes are signed distance fields turned into coverage (0..1 per pixel), which gives smooth
edges without supersampling. The parts that never change (background, body, head, hair, brows)
are drawn once per size and shared by every session; each frame only redraws the eyes and the
mouth inside their small boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

Color = tuple[float, float, float]

SKIN: Color = (196, 141, 108)
SKIN_SHADE: Color = (170, 116, 88)
HAIR: Color = (38, 30, 30)
LIP: Color = (160, 88, 82)
MOUTH_INSIDE: Color = (72, 30, 36)
TEETH: Color = (244, 240, 232)
TONGUE: Color = (196, 92, 98)
SCLERA: Color = (246, 244, 240)
IRIS: Color = (84, 54, 36)
PUPIL: Color = (24, 16, 14)
LASH: Color = (40, 28, 26)
COAT: Color = (246, 248, 249)
COAT_SHADE: Color = (214, 222, 226)
SCRUBS: Color = (38, 122, 128)
BG_TOP: Color = (232, 240, 241)
BG_BOTTOM: Color = (203, 222, 226)


def grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (x, y) of a height x width box, as float32."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return x + 0.5, y + 0.5


def coverage(distance: np.ndarray) -> np.ndarray:
    """Signed distance in pixels (negative inside) to coverage 0..1 with a one-pixel edge."""
    return np.clip(0.5 - distance, 0.0, 1.0)


def ellipse(x: np.ndarray, y: np.ndarray, cx: float, cy: float, rx: float, ry: float,
            power: float = 2.0) -> np.ndarray:
    """Coverage of a (super)ellipse; ``power`` 2 is an ellipse, larger is boxier."""
    rx, ry = max(rx, 1e-3), max(ry, 1e-3)
    if power == 2.0:
        r = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)
    else:
        r = (np.abs((x - cx) / rx) ** power + np.abs((y - cy) / ry) ** power) ** (1.0 / power)
    # (r - 1) * radius is the distance near the edge, which is all anti-aliasing needs.
    return coverage((r - 1.0) * min(rx, ry))


def arc(x: np.ndarray, y: np.ndarray, cx: float, cy: float, half_length: float, bend: float,
        thickness: float) -> np.ndarray:
    """Coverage of a thick parabolic stroke; ``bend`` > 0 lifts the middle (a brow, a lash)."""
    u = (x - cx) / max(half_length, 1e-3)
    curve = cy - bend * (1.0 - u * u)
    along = coverage(np.abs(x - cx) - half_length)
    return np.minimum(coverage(np.abs(y - curve) - thickness / 2), along)


def paint(image: np.ndarray, cover: np.ndarray, color: Color, opacity: float = 1.0) -> None:
    """Blend ``color`` into a float32 RGB image where ``cover`` says, in place."""
    alpha = cover[..., None] * opacity
    image += (np.asarray(color, dtype=np.float32) - image) * alpha


@dataclass(frozen=True)
class Layout:
    """Where the face's parts sit for one image size (unshifted head)."""

    width: int
    height: int

    @property
    def s(self) -> float:
        return min(self.width, self.height) / 256.0

    @property
    def cx(self) -> float:
        return self.width / 2

    @property
    def head(self) -> tuple[float, float, float, float]:
        s = self.s
        return self.cx, self.height / 2 - 14 * s, 54 * s, 66 * s

    @property
    def eyes(self) -> tuple[tuple[float, float], tuple[float, float]]:
        s, (cx, cy, _, _) = self.s, self.head
        return (cx - 22 * s, cy - 2 * s), (cx + 22 * s, cy - 2 * s)

    @property
    def mouth(self) -> tuple[float, float]:
        s, (cx, cy, _, _) = self.s, self.head
        return cx, cy + 38 * s


def _background(layout: Layout) -> np.ndarray:
    h, w, s = layout.height, layout.width, layout.s
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    image = np.asarray(BG_TOP, np.float32) * (1 - t) + np.asarray(BG_BOTTOM, np.float32) * t
    image = np.repeat(image, w, axis=1).copy()
    x, y = grid(h, w)
    paint(image, ellipse(x, y, layout.cx, h * 0.42, 120 * s, 120 * s), (244, 249, 249), 0.35)
    return image


def _person(layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """The body, neck, head, hair and brows as a premultiplied RGB layer and its alpha."""
    h, w, s = layout.height, layout.width, layout.s
    x, y = grid(h, w)
    rgb = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)

    def draw(cover: np.ndarray, color: Color, opacity: float = 1.0) -> None:
        a = cover * opacity
        rgb[:] = rgb * (1 - a[..., None]) + np.asarray(color, np.float32) * a[..., None]
        alpha[:] = alpha * (1 - a) + a

    cx, hy, hrx, hry = layout.head
    body = ellipse(x, y, cx, h + 52 * s, 150 * s, 114 * s)
    draw(body, COAT)
    draw(ellipse(x, y, cx, h + 70 * s, 150 * s, 114 * s), COAT_SHADE, 0.4)
    # Scrubs in the V between the lapels, then the neck above them.
    collar = hy + 76 * s
    v_half = np.clip((y - collar) * 0.42 + 12 * s, 0, None)
    draw(np.minimum(coverage(np.abs(x - cx) - v_half), body), SCRUBS)
    for side in (-1, 1):  # lapel edges
        draw(np.minimum(coverage(np.abs(x - cx - side * (v_half + 1.5 * s)) - 1.0 * s), body),
             COAT_SHADE)
    neck = np.minimum(coverage(np.abs(x - cx) - 19 * s), coverage(y - (collar + 14 * s)))
    draw(np.minimum(neck, coverage(hy + 40 * s - y)), SKIN_SHADE)
    draw(ellipse(x, y, cx, collar + 6 * s, 12 * s, 8 * s), SKIN_SHADE)  # neck in the V
    draw(arc(x, y, cx, collar + 20 * s, 26 * s, -20 * s, 3.0 * s), (60, 68, 74))  # stethoscope
    # Hair behind the head, ears, the head (narrower at the jaw), then the hair on top.
    draw(ellipse(x, y, cx, hy - 10 * s, hrx + 7 * s, hry - 4 * s), HAIR)
    for side in (-1, 1):
        draw(ellipse(x, y, cx + side * (hrx - 1 * s), hy + 4 * s, 8 * s, 13 * s), SKIN_SHADE)
    jaw = 1.0 - 0.2 * np.clip((y - hy) / hry, 0, 1) ** 2
    head = coverage((np.sqrt(((x - cx) / (hrx * jaw)) ** 2 + ((y - hy) / hry) ** 2) - 1) * hrx)
    draw(head, SKIN)
    draw(np.minimum(head, ellipse(x, y, cx, hy + hry * 1.02, hrx * 0.7, 10 * s)), SKIN_SHADE, 0.5)
    hairline = hy - 30 * s + 0.010 / s * (x - cx - 8 * s) ** 2
    cap = np.minimum(ellipse(x, y, cx, hy - 12 * s, hrx + 3 * s, hry - 4 * s),
                     coverage(y - hairline))
    draw(cap, HAIR)
    draw(np.minimum(ellipse(x, y, cx - 20 * s, hy - 32 * s, 30 * s, 11 * s), head), HAIR)  # fringe
    draw(arc(x, y, cx - 14 * s, hy - 50 * s, 20 * s, 4 * s, 3 * s), (72, 60, 58), 0.35)  # sheen
    # Soft cheeks, the nose, and the brows.
    for side in (-1, 1):
        draw(ellipse(x, y, cx + side * 30 * s, hy + 20 * s, 11 * s, 7 * s), (214, 120, 110), 0.14)
        draw(arc(x, y, cx + side * 22 * s, hy - 15 * s, 11 * s, 3 * s, 3.2 * s), HAIR, 0.92)
    draw(ellipse(x, y, cx, hy + 20 * s, 6.5 * s, 4 * s), SKIN_SHADE, 0.5)
    draw(arc(x, y, cx, hy + 23 * s, 6 * s, -2 * s, 1.3 * s), (138, 90, 70), 0.5)
    return rgb * alpha[..., None], alpha


@lru_cache(maxsize=4)
def _layers(width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    layout = Layout(width, height)
    background = _background(layout)
    person, alpha = _person(layout)
    return background, person, alpha


@lru_cache(maxsize=256)
def base_frame(width: int, height: int, dx: int, dy: int) -> np.ndarray:
    """The static face shifted by whole pixels over the background (uint8 RGB, read-only).

    Shared by every session; the head moves only by whole pixels, so a handful of shifts cover
    all the idle motion.
    """
    background, person, alpha = _layers(width, height)
    person = np.roll(person, (dy, dx), axis=(0, 1))
    alpha = np.roll(alpha, (dy, dx), axis=(0, 1))
    if dy > 0:  # the body continues below the frame: fill the rolled-in top with nothing
        person[:dy], alpha[:dy] = 0, 0
    elif dy < 0:
        person[dy:], alpha[dy:] = person[dy - 1], alpha[dy - 1]
    frame = np.clip(background * (1 - alpha[..., None]) + person + 0.5, 0, 255).astype(np.uint8)
    frame.setflags(write=False)
    return frame


@dataclass(frozen=True)
class MouthShape:
    """One mouth pose in pixels at size 256 (scaled with the image).

    Attributes:
        half_width: half the mouth's width.
        open: gap between the lips; the jaw takes two thirds of it below the centre line.
        round: superellipse power of the opening (2 round, larger is wider at the corners).
        smile: how far the corners sit above the centre.
        teeth_top: how much of the upper teeth shows (0..1).
        teeth_bottom: how much of the lower teeth shows (0..1).
        tongue: how much of the tongue shows (0..1).
    """

    half_width: float
    open: float
    round: float = 2.4
    smile: float = 1.5
    teeth_top: float = 0.0
    teeth_bottom: float = 0.0
    tongue: float = 0.0

    def blend(self, other: MouthShape, weight: float) -> MouthShape:
        """This shape moved ``weight`` (0..1) of the way towards ``other``."""
        values = [a + (b - a) * weight for a, b in zip(_fields(self), _fields(other), strict=True)]
        return MouthShape(*values)


def _fields(shape: MouthShape) -> tuple[float, ...]:
    return (shape.half_width, shape.open, shape.round, shape.smile, shape.teeth_top,
            shape.teeth_bottom, shape.tongue)


def draw_mouth(image: np.ndarray, x: np.ndarray, y: np.ndarray, cx: float, cy: float,
               shape: MouthShape, s: float) -> None:
    """Draw lips, the opening, teeth and tongue into a float32 box whose grid is (x, y)."""
    a = shape.half_width * s
    u = x - cx
    # Lift the corners: evaluate every part in coordinates that follow the smile curve.
    v = y - cy + shape.smile * s * np.clip(u / a, -1, 1) ** 2
    top, bottom = shape.open * s / 3, shape.open * s * 2 / 3
    lips = ellipse(u, v, 0, 0.6 * s + (bottom - top) / 2, a + 2.5 * s,
                   (top + bottom) / 2 + 3.4 * s, shape.round)
    paint(image, lips, LIP, 0.85)
    if shape.open * s < 0.6:
        paint(image, arc(u, v, 0, 0, a, 0, 1.3 * s), (96, 46, 44), 0.9)
        return
    inside = ellipse(u, v, 0, (bottom - top) / 2, a, (top + bottom) / 2, shape.round)
    paint(image, inside, MOUTH_INSIDE)
    if shape.teeth_top > 0:
        teeth = np.minimum(inside, coverage(v - (-top + min(3.6 * s, top + bottom) * 0.9)))
        paint(image, teeth, TEETH, shape.teeth_top)
    if shape.teeth_bottom > 0:
        teeth = np.minimum(inside, coverage((bottom - min(2.6 * s, bottom * 0.5)) - v))
        paint(image, teeth, TEETH, shape.teeth_bottom)
    if shape.tongue > 0:
        tongue = np.minimum(inside, ellipse(u, v, 0, bottom, a * 0.6, bottom * 0.7 + 1))
        paint(image, tongue, TONGUE, shape.tongue)


def draw_eye(image: np.ndarray, x: np.ndarray, y: np.ndarray, cx: float, cy: float,
             openness: float, gaze: tuple[float, float], s: float) -> None:
    """Draw one eye into a float32 box: sclera, iris, pupil, glint, lid and lashes.

    ``openness`` is 1 for open and 0 for shut (a blink); ``gaze`` shifts the iris in pixels.
    """
    rx, ry = 10.5 * s, 7.0 * s
    eye = ellipse(x, y, cx, cy, rx, ry)
    lid_edge = cy - ry + 2 * ry * (1 - openness)
    visible = np.minimum(eye, coverage(lid_edge - y))
    if openness > 0.05:
        paint(image, visible, SCLERA)
        ix, iy = cx + gaze[0] * s, cy + gaze[1] * s
        paint(image, np.minimum(visible, ellipse(x, y, ix, iy, 5.6 * s, 5.6 * s)), IRIS)
        paint(image, np.minimum(visible, ellipse(x, y, ix, iy, 2.6 * s, 2.6 * s)), PUPIL)
        glint = ellipse(x, y, ix - 1.8 * s, iy - 1.8 * s, 1.3 * s, 1.3 * s)
        paint(image, np.minimum(visible, glint), (255, 255, 255), 0.9)
    # The upper lid line follows the lid as it closes.
    bend = ry * (0.8 * openness - 0.15)
    paint(image, arc(x, y, cx, lid_edge + bend, rx + 0.8 * s, bend, 1.6 * s), LASH)
