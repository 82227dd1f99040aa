"""``dhanvantri audit verify``, ``dhanvantri users create-staff``, ``dhanvantri db upgrade``.

Nothing heavy is imported at module level; handlers import what they need.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

PASSWORD_ENV = "DHANVANTRI_STAFF_PASSWORD"
STAFF_ROLES = ("physician", "pharmacy", "lab", "admin", "support")


def register(subparsers: Any) -> None:
    """Add the back office's subcommands."""
    audit = subparsers.add_parser("audit", help="audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the audit hash chain; exit 1 if broken")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(handler=_audit_verify)

    users = subparsers.add_parser("users", help="accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    staff = users_sub.add_parser(
        "create-staff",
        help=f"create a staff account; password from ${PASSWORD_ENV} or the first line of stdin")
    staff.add_argument("--email", required=True)
    staff.add_argument("--role", required=True, choices=STAFF_ROLES)
    staff.add_argument("--full-name", required=True)
    staff.add_argument("--phone")
    staff.add_argument("--registration-number", help="physicians: council registration number")
    staff.add_argument("--council", help="physicians: e.g. 'Karnataka Medical Council'")
    staff.add_argument("--qualification", default="")
    staff.add_argument("--json", action="store_true", help="print the result as JSON")
    staff.set_defaults(handler=_create_staff)

    database = subparsers.add_parser("db", help="database")
    db_sub = database.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="run migrations up to head")
    upgrade.set_defaults(handler=_db_upgrade)


def _services() -> Any:
    from ..settings import Settings
    from .bootstrap import bootstrap

    return bootstrap(Settings())


def _audit_verify(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import DBAPIError

    from .audit import verify_trail

    async def run() -> tuple[int, Any]:
        services = _services()
        try:
            return await verify_trail(services.uow())
        finally:
            await services.close()

    try:
        count, broken = asyncio.run(run())
    except DBAPIError as exc:
        print(f"dhanvantri: cannot read the audit trail: {exc.orig}", file=sys.stderr)
        return 1
    result: dict[str, Any] = {"intact": broken is None, "checked": count}
    if broken is not None:
        result["broken_at"] = {"seq": broken.seq, "reason": broken.reason}
        print(f"audit trail BROKEN at event {broken.seq}: {broken.reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    elif broken is None:
        print(f"audit trail intact: {count} events")
    return 0 if broken is None else 1


def _read_password() -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if sys.stdin.isatty():
            import getpass

            password = getpass.getpass("password: ")
        else:
            password = sys.stdin.readline().rstrip("\n")
    return password


def _create_staff(args: argparse.Namespace) -> int:
    from ..cli import UsageError
    from ..http.errors import ApiError
    from ..http.principal import Role
    from .domain.audit import Actor
    from .users import NewStaff, create_staff

    new = NewStaff(email=args.email, password=_read_password(), role=Role(args.role),
                   full_name=args.full_name, phone=args.phone,
                   registration_number=args.registration_number, council=args.council,
                   qualification=args.qualification)

    async def run() -> dict[str, Any]:
        services = _services()
        try:
            await services.start()
            return await create_staff(services.uow(), Actor(None, "cli"), new)
        finally:
            await services.close()

    try:
        result = asyncio.run(run())
    except ApiError as exc:
        raise UsageError(f"{exc.message} ({exc.code})") from exc
    if args.json:
        print(json.dumps(result))
    else:
        print(f"created {result['user']['role']} {result['user']['id']}")
        if result["totp_uri"]:
            print(f"TOTP (scan once into an authenticator app): {result['totp_uri']}")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    async def run() -> None:
        services = _services()
        try:
            await services.start()
        finally:
            await services.close()

    asyncio.run(run())
    print("database at head", file=sys.stderr)
    return 0
