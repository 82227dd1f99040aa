"""The avatar renderer: mouth shapes follow visemes, eyes blink, the head moves, the badge shows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dhanvantri.avatar.renderer import SHAPES, AvatarRenderer
from dhanvantri.pipeline.visemes import VISEMES

T0 = 1000.0  # a fixed monotonic origin keeps every test deterministic


def renderer(**kwargs: object) -> AvatarRenderer:
    r = AvatarRenderer(seed=7, **kwargs)  # type: ignore[arg-type]
    r._epoch = T0  # idle motion and blinks count from here
    r._next_blink = T0 + 2.0
    r._next_glance = T0 + 1e9  # no glances: they would move the irises between frames
    return r


def mouth_box(r: AvatarRenderer, frame: np.ndarray) -> np.ndarray:
    top, left, h, w = r._mouth_box
    return frame[top - 3:top + h + 3, left - 3:left + w + 3]


def dark_pixels(region: np.ndarray) -> int:
    """Pixels as dark as the inside of the mouth."""
    return int((region.astype(np.int32).sum(axis=2) < 3 * 60).sum())


def test_every_viseme_has_a_shape() -> None:
    assert set(VISEMES) <= set(SHAPES)


def test_frame_is_rgb_uint8_of_the_requested_size() -> None:
    frame = renderer(width=320, height=240).frame(at=T0)
    assert frame.shape == (240, 320, 3)
    assert frame.dtype == np.uint8
    assert frame.flags["C_CONTIGUOUS"]
    # A face, not a flat fill: skin, hair and background colours are all there.
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 500


def test_too_small_or_no_frame_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        AvatarRenderer(width=32, height=32)
    with pytest.raises(ValueError):
        AvatarRenderer(fps=0)


def test_open_vowel_opens_the_mouth_more_than_closed_lips() -> None:
    r = renderer()
    r.speak([("AI", 0, 400)], started_at=T0)
    open_frame = r.frame(at=T0 + 0.2)
    r.speak([("MBP", 0, 400)], started_at=T0)
    closed_frame = r.frame(at=T0 + 0.2)
    assert r.mouth_at(T0 + 0.2).open == 0
    open_dark = dark_pixels(mouth_box(r, open_frame))
    closed_dark = dark_pixels(mouth_box(r, closed_frame))
    assert open_dark > 80
    assert open_dark > 4 * max(closed_dark, 1)
    # Only the mouth differs: the rest of the face is the same picture.
    top, _, _h, _ = r._mouth_box
    assert np.array_equal(open_frame[: top - 3], closed_frame[: top - 3])


def test_rounded_lips_are_narrower_than_a_smile() -> None:
    r = renderer()
    r.speak([("WQ", 0, 300), ("EE", 300, 300)], started_at=T0)
    assert r.mouth_at(T0 + 0.2).half_width < r.mouth_at(T0 + 0.5).half_width


def test_mouth_follows_the_timeline_and_eases_between_shapes() -> None:
    r = renderer()
    r.speak([("MBP", 0, 100), ("AI", 100, 200), ("MBP", 300, 100)], started_at=T0)
    opens = [r.mouth_at(T0 + ms / 1000).open for ms in (50, 110, 130, 250, 380)]
    assert opens[0] == 0  # lips together
    assert 0 < opens[1] < opens[2] < SHAPES["AI"].open  # opening, not jumping
    assert opens[3] == SHAPES["AI"].open
    assert opens[4] < 1  # closed again
    frames = [r.frame(at=T0 + ms / 1000) for ms in (50, 250)]
    assert not np.array_equal(mouth_box(r, frames[0]), mouth_box(r, frames[1]))


def test_mouth_rests_after_the_timeline_and_when_audio_stops() -> None:
    r = renderer()
    r.speak([("O", 0, 200)], started_at=T0)
    assert r.speaking
    assert r.mouth_at(T0 + 0.5) == SHAPES["rest"]
    r.speak([("O", 0, 2000)], started_at=T0)
    assert r.mouth_at(T0 + 0.5).open == SHAPES["O"].open
    r.speak(())  # barge-in: the audio stopped
    assert not r.speaking
    assert r.mouth_at(T0 + 0.5) == SHAPES["rest"]


def test_unknown_viseme_is_drawn_as_rest() -> None:
    r = renderer()
    r.speak([("??", 0, 500)], started_at=T0)
    assert r.mouth_at(T0 + 0.3) == SHAPES["rest"]


def test_eyes_blink_over_time() -> None:
    r = renderer()
    top, left, h, w = r._eye_box
    whites: list[int] = []
    openness: list[float] = []
    for i in range(15 * 12):  # twelve seconds at 15 fps
        at = T0 + i / 15
        frame = r.frame(at=at)
        openness.append(r.eye_openness(at))
        eyes = frame[top - 3:top + h + 3, left - 3:left + w + 3].astype(np.int32)
        whites.append(int((eyes.min(axis=2) > 225).sum()))
    shut = [i for i, value in enumerate(openness) if value < 0.3]
    assert len(shut) >= 2  # more than one blink in twelve seconds
    assert shut[0] > 15  # not from the very first frame
    assert len(shut) < len(openness) / 10  # and the eyes are mostly open
    assert max(whites) > 60
    assert min(whites[i] for i in shut) < max(whites) / 4  # the whites disappear


def test_idle_head_motion_moves_the_picture() -> None:
    r = renderer()
    frames = [r.frame(at=T0 + i / 15) for i in range(45)]
    changed = sum(not np.array_equal(a, b) for a, b in itertools.pairwise(frames))
    assert changed >= 3
    # Subtle: never more than a few pixels of movement.
    assert all(abs(dx) <= 3 and abs(dy) <= 3 for dx, dy in
               (r._motion_at(T0 + i / 15) for i in range(150)))


def test_badge_draws_a_banner_and_can_be_removed() -> None:
    r = renderer()
    plain = r.frame(at=T0)
    r.set_badge("Doctor has joined")
    with_badge = r.frame(at=T0)
    band = r._badge.shape[0]  # type: ignore[union-attr]
    assert not np.array_equal(plain[:band], with_badge[:band])
    assert np.array_equal(plain[band:], with_badge[band:])
    r.set_badge(None)
    assert np.array_equal(r.frame(at=T0), plain)
