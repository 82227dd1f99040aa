"""One server process for the two-process test: the full app, stand-in models, a Redis bus.

Run as ``python -m tests.realtime.desk_server --port N --folder DIR --prefix P --redis URL``.
Both processes share the folder (database and token key), as servers behind one load balancer
share a database and secrets.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from aiohttp import web

from dhanvantri.realtime.app import create_app
from tests.realtime.conftest import make_settings
from tests.realtime.physician_app import emergency_models
from tests.support.ice import offer_loopback


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    offer_loopback()  # the physician's peer in the test runs on this machine
    settings = make_settings(args.folder, bus="redis", redis_url=args.redis,
                             bus_prefix=args.prefix, escalation_timeout_s=args.timeout)
    web.run_app(create_app(settings, models=emergency_models(settings)), host="127.0.0.1",
                port=args.port, print=None, shutdown_timeout=2)


if __name__ == "__main__":
    main()
