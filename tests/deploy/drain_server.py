"""``dhanvantri serve``'s loop with stand-in models, for the drain tests and the proxy test.

Run as ``python -m tests.deploy.drain_server --port N --folder DIR [--drain-seconds S]``:
the real serve loop (signals, drain, shutdown), guests allowed, SQLite in DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from dhanvantri.realtime.serve import serve
from tests.realtime.conftest import make_settings, stand_in_models


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--drain-seconds", type=float, default=600.0)
    args = parser.parse_args()
    settings = make_settings(args.folder, drain_seconds=args.drain_seconds)
    sys.exit(asyncio.run(serve(settings, "127.0.0.1", args.port,
                               models=stand_in_models(settings))))


if __name__ == "__main__":
    main()
