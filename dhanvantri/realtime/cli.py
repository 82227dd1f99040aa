"""``dhanvantri serve``: run the realtime server (imports nothing heavy until it runs)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``dhanvantri serve``."""
    serve = subparsers.add_parser(
        "serve", help="run the consultation server (patient page, API, health, metrics)")
    serve.add_argument("--host", help="address to listen on (default: settings host, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (default: settings port, 8080)")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    import asyncio

    from dhanvantri.cli import UsageError
    from dhanvantri.log import configure
    from dhanvantri.realtime.serve import serve
    from dhanvantri.settings import get_settings

    settings = get_settings()
    configure(settings.log_level)
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {port}")
    return asyncio.run(serve(settings, host, port))
