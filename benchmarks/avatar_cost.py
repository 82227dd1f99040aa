"""What one avatar video stream costs: ms per frame (p50/p95) and CPU % of one core at its fps.

Usage: python benchmarks/avatar_cost.py [--frames N] [--size 256] [--fps 15] [--codec vp8|h264|none]
       [--json]

Renders ``--frames`` frames on the renderer's clock (half of them speaking a repeating viseme
timeline, half idle, so blinks, glances and head motion are all in the mix), converts each to an
``av.VideoFrame`` as the track does, and encodes it with aiortc's own encoder, as a peer
connection would. Costs are CPU time (``time.process_time``) per frame; the CPU share is the mean
cost per frame times the frame rate. Wall-clock times per frame are reported beside them.
"""

from __future__ import annotations

import argparse
import fractions
import json
import statistics
import sys
import time

SPEECH = [("MBP", 80), ("AI", 140), ("L", 70), ("O", 120), ("CDG", 60), ("EE", 110),
          ("FV", 70), ("WQ", 90), ("E", 100), ("TH", 60), ("rest", 120)]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def _timeline(seconds: float) -> list[tuple[str, int, int]]:
    out, start = [], 0
    while start < seconds * 1000:
        for viseme, duration in SPEECH:
            out.append((viseme, start, duration))
            start += duration
    return out


def _encoder(codec: str):  # type: ignore[no-untyped-def]
    if codec == "vp8":
        from aiortc.codecs.vpx import Vp8Encoder

        return Vp8Encoder()
    if codec == "h264":
        from aiortc.codecs.h264 import H264Encoder

        return H264Encoder()
    return None


def measure(frames: int, size: int, fps: int, codec: str) -> dict[str, object]:
    """Time rendering, conversion and encoding of ``frames`` frames; the summary as a dict."""
    import av

    from dhanvantri.avatar.renderer import AvatarRenderer

    renderer = AvatarRenderer(width=size, height=size, fps=fps, seed=1)
    encoder = _encoder(codec)
    t0 = time.monotonic()
    half = frames // 2 / fps
    renderer.speak(_timeline(half), started_at=t0)
    for i in range(30):  # warm-up: fills the shared cache of shifted faces
        renderer.frame(at=t0 + i / fps)
    # CPU time, not wall time: on a shared machine the wall clock also counts other processes.
    clock = time.process_time
    render_ms: list[float] = []
    encode_ms: list[float] = []
    wall_ms: list[float] = []
    cpu_started = clock()
    wall_started = time.perf_counter()
    for i in range(frames):
        at = t0 + i / fps
        wall, started = time.perf_counter(), clock()
        rgb = renderer.frame(at=at)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.pts, frame.time_base = i * (90000 // fps), fractions.Fraction(1, 90000)
        rendered = clock()
        if encoder is not None:
            encoder.encode(frame, force_keyframe=(i == 0))
        done = clock()
        render_ms.append((rendered - started) * 1000)
        encode_ms.append((done - rendered) * 1000)
        wall_ms.append((time.perf_counter() - wall) * 1000)
    cpu_s = clock() - cpu_started
    wall_s = time.perf_counter() - wall_started
    total_ms = [a + b for a, b in zip(render_ms, encode_ms, strict=True)]
    cpu_pct = statistics.fmean(total_ms) * fps / 10
    return {
        "size": f"{size}x{size}", "fps": fps, "frames": frames, "codec": codec,
        "render_ms": {"p50": round(_percentile(render_ms, 50), 3),
                      "p95": round(_percentile(render_ms, 95), 3),
                      "mean": round(statistics.fmean(render_ms), 3)},
        "encode_ms": {"p50": round(_percentile(encode_ms, 50), 3),
                      "p95": round(_percentile(encode_ms, 95), 3),
                      "mean": round(statistics.fmean(encode_ms), 3)},
        "total_ms": {"p50": round(_percentile(total_ms, 50), 3),
                     "p95": round(_percentile(total_ms, 95), 3)},
        "wall_ms": {"p50": round(_percentile(wall_ms, 50), 3),
                    "p95": round(_percentile(wall_ms, 95), 3)},
        "cpu_pct_of_one_core": round(cpu_pct, 2),
        "render_only_cpu_pct": round(statistics.fmean(render_ms) * fps / 10, 2),
        "process_cpu_pct": round(cpu_s / (frames / fps) * 100, 2),  # whole loop, as a check
        "streams_per_core": round(100 / cpu_pct, 1) if cpu_pct else None,
        "wall_s": round(wall_s, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=450)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--codec", choices=("vp8", "h264", "none"), default="vp8")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.frames < 1 or args.size < 64 or args.fps < 1:
        print("error: --frames >= 1, --size >= 64 and --fps >= 1 are required", file=sys.stderr)
        return 2
    result = measure(args.frames, args.size, args.fps, args.codec)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"avatar {result['size']} at {result['fps']} fps, {result['frames']} frames, "
          f"codec {result['codec']}")
    for key in ("render_ms", "encode_ms", "total_ms", "wall_ms"):
        row = result[key]
        print(f"  {key:10s} p50 {row['p50']:7.3f}  p95 {row['p95']:7.3f}")  # type: ignore[index]
    print(f"  CPU per stream: {result['cpu_pct_of_one_core']}% of one core "
          f"(render only {result['render_only_cpu_pct']}%, process {result['process_cpu_pct']}%),"
          f" ~{result['streams_per_core']} streams per core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
