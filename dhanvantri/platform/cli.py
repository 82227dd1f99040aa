"""``dhanvantri audit verify|anchor``, ``dhanvantri users create-staff``, ``dhanvantri db upgrade``.

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
    verify = audit_sub.add_parser("verify", help="check the audit HMAC chain; exit 1 if broken")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.add_argument("--anchor", metavar="FILE",
                        help="anchor file (from `audit anchor`): the chain must still hold"
                             " each exported head")
    verify.set_defaults(handler=_audit_verify)
    anchor = audit_sub.add_parser("anchor", help="print the chain's head (sequence, seal, time)"
                                  " to keep off this machine")
    anchor.add_argument("--json", action="store_true", help="print the anchor as JSON")
    anchor.add_argument("--out", metavar="FILE", help="append the anchor to FILE as a JSON line")
    anchor.set_defaults(handler=_audit_anchor)

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
    rotate = db_sub.add_parser(
        "rotate-keys", help="re-seal every PHI value under DHANVANTRI_DATA_KEY (after rotation, "
                            "the old keys in DHANVANTRI_DATA_KEYS_OLD can then be dropped)")
    rotate.add_argument("--json", action="store_true", help="print the result as JSON")
    rotate.set_defaults(handler=_db_rotate_keys)


def _services() -> Any:
    from ..settings import Settings
    from .bootstrap import bootstrap

    return bootstrap(Settings())


def _audit_verify(args: argparse.Namespace) -> int:
    from .audit import verify_trail

    anchors = _read_anchor_file(args.anchor) if args.anchor is not None else []

    async def run() -> tuple[int, Any]:
        services = _services()
        try:
            return await verify_trail(services.uow(), anchors)
        finally:
            await services.close()

    outcome = _run_on_trail(run)
    if outcome is None:
        return 1
    count, broken = outcome
    result: dict[str, Any] = {"intact": broken is None, "checked": count}
    if args.anchor is not None:
        result["anchors_checked"] = len(anchors)
    if broken is not None:
        result["broken_at"] = {"seq": broken.seq, "reason": broken.reason}
        print(f"audit trail BROKEN at event {broken.seq}: {broken.reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    elif broken is None:
        print(f"audit trail intact: {count} events")
    return 0 if broken is None else 1


def _audit_anchor(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..cli import UsageError
    from .audit import append_anchor, head_anchor

    async def run() -> Any:
        services = _services()
        try:
            return await head_anchor(services.uow())
        finally:
            await services.close()

    anchor = _run_on_trail(run)
    if anchor is None:
        return 1
    if args.out is not None:
        try:
            append_anchor(Path(args.out), anchor)
        except OSError as exc:
            raise UsageError(f"cannot write the anchor file {args.out}: {exc.strerror}") from exc
        print(f"audit anchor of event {anchor.seq} appended to {args.out}", file=sys.stderr)
    if args.json:
        print(json.dumps(anchor.as_json()))
    elif args.out is None:
        fields = anchor.as_json()
        print(f"audit head: event {fields['seq']} seal {fields['seal']} at {fields['at']}")
    return 0


def _read_anchor_file(name: str) -> list[Any]:
    from pathlib import Path

    from ..cli import UsageError
    from .audit import read_anchors

    try:
        anchors = read_anchors(Path(name))
    except OSError as exc:
        raise UsageError(f"cannot read the anchor file {name}: {exc.strerror}") from exc
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not anchors:
        raise UsageError(f"{name}: no anchor in the file")
    return anchors


def _run_on_trail(run: Any) -> Any:
    """Run ``run()`` on the trail; ``None`` (after saying why) when the database fails."""
    from sqlalchemy.exc import DBAPIError

    try:
        return asyncio.run(run())
    except DBAPIError as exc:
        print(f"dhanvantri: cannot read the audit trail: {exc.orig}", file=sys.stderr)
        return None


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


def _db_rotate_keys(args: argparse.Namespace) -> int:
    from .db import reseal

    async def run() -> int:
        services = _services()
        try:
            await services.start()
            return await reseal(services.engine)
        finally:
            await services.close()

    count = asyncio.run(run())
    if args.json:
        print(json.dumps({"resealed": count}))
    else:
        print(f"re-sealed {count} values under the current data key", file=sys.stderr)
    return 0
