"""``dhanvantri commerce seed``: load the sample medicine catalogue and lab tests into the database.

Nothing heavy is imported at module level (the command line loads every area's parser).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add ``commerce seed``."""
    commerce = subparsers.add_parser("commerce", help="pharmacy catalogue and lab tests")
    sub = commerce.add_subparsers(dest="commerce_command", required=True)
    seed = sub.add_parser("seed", help="migrate, then load the sample medicine catalogue and "
                                       "lab tests (safe to run again)")
    seed.add_argument("--json", action="store_true", help="print the counts as JSON")
    seed.set_defaults(handler=_seed)


def _seed(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import DBAPIError

    from ..settings import Settings
    from .bootstrap import bootstrap
    from .commerce.catalog import seed_catalog
    from .commerce.lab_tests import seed_lab_catalog

    async def run() -> dict[str, int]:
        services = bootstrap(Settings())
        try:
            await services.start()
            return {"medicines": await seed_catalog(services.uow()),
                    "lab_tests": await seed_lab_catalog(services.uow())}
        finally:
            await services.close()

    try:
        counts = asyncio.run(run())
    except DBAPIError as exc:
        print(f"dhanvantri: cannot seed the catalogue: {exc.orig}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"catalogue loaded: {counts['medicines']} medicines, {counts['lab_tests']} lab tests")
    return 0
