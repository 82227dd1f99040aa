"""The avatar: a friendly 2D clinician's face drawn on the server, lip-synced to reply audio.

The mouth follows the viseme timeline of the audio that is playing (``speak``), easing from one
shape to the next; the eyes blink every few seconds and glance about; the head sways and the
shoulders breathe. The static face is drawn once per size and shared, so a frame costs only
the two eyes and the mouth (see ``benchmarks/avatar_cost.py``).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from dhanvantri.avatar.face import Layout, MouthShape, base_frame, draw_eye, draw_mouth, grid

Timeline = Sequence[tuple[str, int, int]]

# Mouth poses per viseme (see dhanvantri.pipeline.visemes.VISEMES).
SHAPES: dict[str, MouthShape] = {
    "rest": MouthShape(15, 0, smile=2.6),
    "MBP": MouthShape(13.5, 0, smile=1.0),
    "FV": MouthShape(15, 2.2, 3.0, 1.0, teeth_top=1.0),
    "TH": MouthShape(15, 4.0, 3.0, 1.0, teeth_top=1.0, tongue=0.9),
    "L": MouthShape(15, 6.5, 2.6, 1.0, teeth_top=0.9, tongue=0.8),
    "WQ": MouthShape(8, 4.5, 2.0, 0.0),
    "O": MouthShape(10.5, 9.0, 2.0, 0.0),
    "E": MouthShape(17, 6.0, 3.0, 1.5, teeth_top=0.9),
    "AI": MouthShape(16, 12.0, 2.4, 1.0, teeth_top=0.7, tongue=0.6),
    "EE": MouthShape(19, 3.6, 3.4, 2.0, teeth_top=1.0, teeth_bottom=0.8),
    "CDG": MouthShape(16, 4.8, 3.0, 1.2, teeth_top=1.0, teeth_bottom=0.6),
}
TRANSITION_MS = 70.0  # time to ease into a new mouth shape (capped by the shape's length)
BLINK_SECONDS = (0.06, 0.04, 0.09)  # closing, shut, opening


def _ease(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


class AvatarRenderer:
    """Draws avatar frames on demand at any time.

    Args:
        width: frame width in pixels.
        height: frame height in pixels.
        fps: the frame rate the caller will ask for (used by tracks and benchmarks).
        seed: seed for blink and glance timing (tests fix it).

    Example:
        >>> renderer = AvatarRenderer()
        >>> renderer.speak([("AI", 0, 120), ("MBP", 120, 80)], started_at=time.monotonic())
        >>> rgb = renderer.frame()  # uint8 array, shape (256, 256, 3)
    """

    def __init__(self, width: int = 256, height: int = 256, fps: int = 15,
                 seed: int | None = None) -> None:
        if width < 64 or height < 64 or fps <= 0:
            raise ValueError("avatar needs at least 64x64 pixels and a positive frame rate")
        self.width, self.height, self.fps = width, height, fps
        self.layout = Layout(width, height)
        self._random = random.Random(seed)
        self._timeline: tuple[tuple[str, float, float], ...] = ()
        self._started_at = 0.0
        self._epoch = time.monotonic()
        self._next_blink = self._epoch + self._random.uniform(1.0, 2.5)
        self._next_glance = self._epoch + self._random.uniform(1.5, 3.0)
        self._gaze = (0.0, 0.0)
        self._badge: np.ndarray | None = None
        self._badge_alpha: np.ndarray | None = None
        self._badge_text: str | None = None
        s = self.layout.s
        # Boxes redrawn every frame, in unshifted coordinates: (top, left, height, width).
        (lx, ly), (rx, _ry) = self.layout.eyes
        mx, my = self.layout.mouth
        self._eye_box = self._box(lx - 14 * s, ly - 11 * s, rx + 14 * s, ly + 10 * s)
        self._mouth_box = self._box(mx - 26 * s, my - 12 * s, mx + 26 * s, my + 20 * s)
        self._eye_grid = grid(self._eye_box[2], self._eye_box[3])
        self._mouth_grid = grid(self._mouth_box[2], self._mouth_box[3])

    def _box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        top, left = int(y0), int(x0)
        return top, left, math.ceil(y1) - top, math.ceil(x1) - left

    # --- inputs ---

    def speak(self, timeline: Timeline, started_at: float | None = None) -> None:
        """Follow a viseme timeline whose audio started at ``started_at`` (monotonic seconds).

        An empty timeline returns the mouth to rest (the audio stopped or was interrupted).
        """
        self._timeline = tuple((str(v), float(s), float(d)) for v, s, d in timeline)
        self._started_at = time.monotonic() if started_at is None else started_at

    def set_badge(self, text: str | None) -> None:
        """Show a small banner across the top (e.g. "Doctor has joined"), or hide it with None."""
        if text == self._badge_text:
            return
        self._badge_text = text
        self._badge, self._badge_alpha = (None, None) if not text else _banner(text, self.width,
                                                                                 self.layout.s)

    @property
    def speaking(self) -> bool:
        """True while a timeline is being followed."""
        return bool(self._timeline)

    # --- state at a time ---

    def mouth_at(self, at: float) -> MouthShape:
        """The mouth pose at monotonic time ``at``, eased between visemes."""
        if not self._timeline:
            return SHAPES["rest"]
        t_ms = (at - self._started_at) * 1000.0
        previous, current, start, duration = "rest", "rest", 0.0, 0.0
        for viseme, seg_start, seg_duration in self._timeline:
            if seg_start > t_ms:
                break
            previous, current, start, duration = current, viseme, seg_start, seg_duration
        last_viseme, last_start, last_duration = self._timeline[-1]
        end = last_start + last_duration
        if t_ms >= end:  # after the last shape: ease back to rest
            previous, current, start, duration = last_viseme, "rest", end, TRANSITION_MS
        ease = min(TRANSITION_MS, max(duration * 0.6, 1.0))
        weight = _ease((t_ms - start) / ease)
        return SHAPES.get(previous, SHAPES["rest"]).blend(SHAPES.get(current, SHAPES["rest"]),
                                                          weight)

    def eye_openness(self, at: float) -> float:
        """1 when the eyes are open, 0 when shut mid-blink."""
        while at > self._next_blink + sum(BLINK_SECONDS):
            # Blinks come every 2.5-6 s; an occasional double blink looks natural.
            gap = 0.25 if self._random.random() < 0.15 else self._random.uniform(2.5, 6.0)
            self._next_blink += sum(BLINK_SECONDS) + gap
        closing, shut, opening = BLINK_SECONDS
        t = at - self._next_blink
        if t < 0:
            return 1.0
        if t < closing:
            return 1.0 - _ease(t / closing)
        if t < closing + shut:
            return 0.0
        return _ease((t - closing - shut) / opening)

    def _gaze_at(self, at: float) -> tuple[float, float]:
        if at >= self._next_glance:
            look = self._random.random() < 0.35 and not self.speaking
            self._gaze = ((self._random.uniform(-1.6, 1.6), self._random.uniform(-0.8, 0.6))
                          if look else (0.0, 0.0))
            self._next_glance = at + self._random.uniform(1.2, 3.5)
        return self._gaze

    def _motion_at(self, at: float) -> tuple[int, int]:
        t = at - self._epoch
        sway = 1.4 * math.sin(2 * math.pi * t / 7.3)
        bob = 1.2 * math.sin(2 * math.pi * t / 4.6 + 1.0)  # breathing
        if self.speaking:
            bob += 0.8 * math.sin(2 * math.pi * t / 1.3)
        s = self.layout.s
        return round(sway * s), round(bob * s)

    # --- drawing ---

    def frame(self, at: float | None = None) -> np.ndarray:
        """The frame at monotonic time ``at`` (default now): uint8 RGB, shape (height, width, 3)."""
        at = time.monotonic() if at is None else at
        dx, dy = self._motion_at(at)
        image = base_frame(self.width, self.height, dx, dy).copy()
        s = self.layout.s
        openness, gaze = self.eye_openness(at), self._gaze_at(at)
        with _drawing(image, self._eye_box, dx, dy) as box:
            x, y = self._eye_grid
            top, left = self._eye_box[:2]
            for ex, ey in self.layout.eyes:
                draw_eye(box, x, y, ex - left, ey - top, openness, gaze, s)
        with _drawing(image, self._mouth_box, dx, dy) as box:
            (mx, my), (top, left) = self.layout.mouth, self._mouth_box[:2]
            draw_mouth(box, *self._mouth_grid, mx - left, my - top, self.mouth_at(at), s)
        if self._badge is not None and self._badge_alpha is not None:
            band = (0, 0, self._badge.shape[0], self.width)
            with _drawing(image, band, 0, 0) as box:
                box *= 1 - self._badge_alpha
                box += self._badge
        return image


@contextmanager
def _drawing(image: np.ndarray, box: tuple[int, int, int, int], dx: int,
             dy: int) -> Iterator[np.ndarray]:
    """A float32 copy of one box of a uint8 image, written back when the block ends."""
    top, left, h, w = box
    view = image[top + dy:top + dy + h, left + dx:left + dx + w]
    region = view.astype(np.float32)
    yield region
    np.clip(region + 0.5, 0, 255, out=region)
    view[:] = region


def _banner(text: str, width: int, s: float) -> tuple[np.ndarray, np.ndarray]:
    """A rounded teal banner with white text, premultiplied float32 RGB and its alpha."""
    from PIL import Image, ImageDraw, ImageFont

    height = max(18, round(26 * s))
    font = ImageFont.load_default(size=max(9, round(13 * s)))
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    margin = round(8 * s)
    draw.rounded_rectangle((margin, round(4 * s), width - margin, height - 1),
                           radius=round(9 * s), fill=(22, 102, 108, 235))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((width - (right - left)) / 2 - left, (height + round(4 * s) - (bottom - top)) / 2
               - top), text, font=font, fill=(255, 255, 255, 255))
    rgba = np.asarray(image, dtype=np.float32)
    alpha = rgba[..., 3:4] / 255.0
    return rgba[..., :3] * alpha, alpha
