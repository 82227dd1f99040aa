"""One server process of the three-process cluster test (tests/deploy/test_cluster.py).

Run as ``python -m tests.deploy.cluster_server --port N --folder DIR``: the real ``serve`` loop
(signals, drain, shutdown) with stand-in models that hear an emergency in any speech. Everything
else comes from ``DHANVANTRI_*`` in the environment, as a deployed server's does: the shared
secret, the PostgreSQL database, the Redis bus, the trusted proxy, the limits. The folder is
this process's own data directory, as each container keeps its own volume.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from dhanvantri.realtime.serve import serve
from dhanvantri.settings import Settings
from tests.realtime.physician_app import emergency_models
from tests.support.ice import offer_loopback


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args()
    offer_loopback()  # the physician's peer in the test runs on this machine
    settings = Settings(data_dir=args.folder / "data")
    sys.exit(asyncio.run(serve(settings, "127.0.0.1", args.port,
                               models=emergency_models(settings))))


if __name__ == "__main__":
    main()
