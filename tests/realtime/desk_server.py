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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    _loopback_ice()
    settings = make_settings(args.folder, bus="redis", redis_url=args.redis,
                             bus_prefix=args.prefix, escalation_timeout_s=args.timeout)
    web.run_app(create_app(settings, models=emergency_models(settings)), host="127.0.0.1",
                port=args.port, print=None, shutdown_timeout=2)


def _loopback_ice() -> None:
    """Offer 127.0.0.1 too: the physician's peer in the test runs on this machine."""
    import aioice.ice

    original = aioice.ice.get_host_addresses
    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        addresses = original(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
        return ["127.0.0.1", *addresses] if use_ipv4 else addresses

    aioice.ice.get_host_addresses = with_loopback


if __name__ == "__main__":
    main()
