"""The avatar video track: pacing, lip sync from the output, stopping, WebRTC delivery."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import VIDEO_CLOCK_RATE, MediaStreamError

from dhanvantri.avatar.renderer import SHAPES, AvatarRenderer
from dhanvantri.pipeline.frames import OutputAudioFrame, VisemeFrame
from dhanvantri.pipeline.output import ClientOutput
from dhanvantri.realtime.transport.avatar_track import AvatarVideoTrack


def client_output() -> ClientOutput:
    return ClientOutput(48000, lambda event: None)


async def test_frames_are_paced_at_the_frame_rate_with_rising_pts() -> None:
    track = AvatarVideoTrack(client_output(), AvatarRenderer(fps=15, seed=1))
    assert track.kind == "video"
    started = time.monotonic()
    frames = [await track.recv() for _ in range(6)]
    elapsed = time.monotonic() - started
    step = VIDEO_CLOCK_RATE // 15
    assert [f.pts for f in frames] == [i * step for i in range(6)]
    assert all(f.time_base.denominator == VIDEO_CLOCK_RATE for f in frames)
    assert (frames[0].width, frames[0].height) == (256, 256)
    # Five frame intervals must have passed: the track waits for its clock, never runs ahead.
    assert elapsed >= 5 / 15 - 0.01
    track.stop()


async def test_reply_audio_starting_to_play_starts_the_mouth() -> None:
    output = client_output()
    track = AvatarVideoTrack(output, AvatarRenderer(seed=1))
    renderer = track.renderer
    assert renderer is not None and not renderer.speaking
    audio = OutputAudioFrame(audio=np.full(4800, 1000, np.int16), sample_rate=48000)
    output(VisemeFrame(audio_id=audio.id, visemes=(("AI", 0, 100),)))
    output(audio)
    assert not renderer.speaking  # queued, not yet playing
    before = time.monotonic()
    output.next_audio(960)  # the audio track pulls the first 20 ms: playback starts
    assert renderer.speaking
    assert renderer.mouth_at(before + 0.08).open == SHAPES["AI"].open
    output.next_audio(4800)
    output.next_audio(960)  # ran dry: the mouth goes back to rest
    assert not renderer.speaking
    track.stop()


async def test_stop_ends_recv_and_lets_go() -> None:
    output = client_output()
    track = AvatarVideoTrack(output)
    await track.recv()
    pending = asyncio.ensure_future(track.recv())  # waiting for its frame time
    await asyncio.sleep(0)
    track.stop()
    with pytest.raises(MediaStreamError):
        await pending
    with pytest.raises(MediaStreamError):
        await track.recv()
    assert track.readyState == "ended"
    assert track.renderer is None
    assert output.viseme_listeners == ()
    track.stop()  # stopping twice is harmless


async def test_frames_arrive_over_a_peer_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    import aioice.ice

    # aioice leaves loopback out of its host candidates; both peers live in this process.
    monkeypatch.setattr(aioice.ice, "get_host_addresses",
                        lambda use_ipv4, use_ipv6: ["127.0.0.1"] if use_ipv4 else [])
    output = client_output()
    sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    track = AvatarVideoTrack(output, AvatarRenderer(seed=1))
    sender.addTrack(track)
    received: asyncio.Future = asyncio.get_running_loop().create_future()
    receiver.on("track", lambda remote: received.set_result(remote))
    try:
        await sender.setLocalDescription(await sender.createOffer())
        await receiver.setRemoteDescription(sender.localDescription)
        await receiver.setLocalDescription(await receiver.createAnswer())
        await sender.setRemoteDescription(receiver.localDescription)
        remote = await asyncio.wait_for(received, 10)
        assert remote.kind == "video"
        first = await asyncio.wait_for(remote.recv(), 10)
        track.renderer.speak([("AI", 0, 3000)])  # type: ignore[union-attr]
        frames = [await asyncio.wait_for(remote.recv(), 10) for _ in range(8)]
        assert (first.width, first.height) == (256, 256)
        pictures = [f.to_ndarray(format="rgb24").astype(np.int16) for f in (first, frames[-1])]
        # The mouth opened (and the head may have moved): the decoded pictures differ.
        assert np.abs(pictures[0] - pictures[1]).max() > 40
        assert frames[-1].pts > first.pts
    finally:
        await sender.close()
        await receiver.close()
    assert track.readyState == "ended"


def test_default_size_and_rate_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from dhanvantri.settings import get_settings

    monkeypatch.setenv("DHANVANTRI_AVATAR_SIZE", "128")
    monkeypatch.setenv("DHANVANTRI_AVATAR_FPS", "10")
    get_settings.cache_clear()
    try:
        track = AvatarVideoTrack(client_output())
        renderer = track.renderer
        assert renderer is not None
        assert (renderer.width, renderer.height, renderer.fps) == (128, 128, 10)
        assert renderer.frame().shape == (128, 128, 3)
        track.stop()
    finally:
        get_settings.cache_clear()
