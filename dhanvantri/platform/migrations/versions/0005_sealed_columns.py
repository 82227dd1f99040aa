"""PHI sealed at rest: text columns of ciphertext, blind indexes for e-mail and phone

Revision ID: 0005_sealed
Revises: 0004_lockouts
Create Date: 2026-11-30 06:30:00

Each listed column becomes TEXT holding ``data_cipher`` ciphertext; existing rows are read plain
and written sealed (downgrade: the reverse). On SQLite a table is rebuilt by hand rather than by
Alembic's batch mode: batch renames the copy over a dropped table, and with foreign keys on, the
drop of a referenced table (users, prescriptions, orders) fails; dropping first and refilling a
new table under ``defer_foreign_keys`` leaves every reference satisfied at commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0005_sealed'
down_revision = '0004_lockouts'
branch_labels = None
depends_on = None

# table -> (column, kind, type before): kind "text", "json" or "bytes" (frozen here on purpose).
SEALED: dict[str, list[tuple[str, str, sa.types.TypeEngine[Any]]]] = {
    "users": [("full_name", "text", sa.String(200)), ("email", "text", sa.String(320)),
              ("phone", "text", sa.String(20)), ("mfa_secret", "text", sa.String(64))],
    "patients": [("abha_number", "text", sa.String(14)), ("date_of_birth", "text", sa.String(10)),
                 ("sex", "text", sa.String(16)), ("allergies", "json", sa.JSON()),
                 ("conditions", "json", sa.JSON()), ("medicines", "json", sa.JSON())],
    "otp_challenges": [("destination", "text", sa.String(320))],
    "prescriptions": [("content", "json", sa.JSON()), ("ai_draft", "json", sa.JSON()),
                      ("ai_reasoning", "text", sa.Text()), ("transcript", "json", sa.JSON()),
                      ("safety", "json", sa.JSON()), ("rejection_reason", "text", sa.Text())],
    "prescription_documents": [("content", "bytes", sa.LargeBinary())],
    "acknowledgements": [("signature_png", "bytes", sa.LargeBinary()),
                         ("ip_address", "text", sa.String(64)),
                         ("device_info", "text", sa.String(500))],
    "orders": [("address", "text", sa.Text())],
    "lab_bookings": [("address", "text", sa.Text()), ("results", "json", sa.JSON()),
                     ("report_pdf", "bytes", sa.LargeBinary())],
    "idempotency_keys": [("response", "json", sa.JSON())],
}
INDEXED = {"email": "email_index", "phone": "phone_index"}


def _cipher() -> Any:
    from dhanvantri.platform import data_cipher

    try:
        return data_cipher.for_dialect(op.get_bind().dialect)
    except LookupError:  # the alembic tool's own engine: the keys from the environment
        from dhanvantri.settings import Settings

        return data_cipher.DataCipher.from_settings(Settings())


def _plain_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return json.dumps(value).encode("utf-8")  # a JSON value the driver decoded


def _read(name: str) -> list[Any]:
    columns = [sa.column("id")] + [sa.column(col) for col, _, _ in SEALED[name]]
    return list(op.get_bind().execute(sa.select(*columns).select_from(sa.table(name))))


def _write(name: str, rows: list[dict[str, Any]], types: dict[str, Any]) -> None:
    if not rows:
        return
    table = sa.table(name, sa.column("id"), *[sa.column(col, t) for col, t in types.items()])
    statement = table.update().where(table.c.id == sa.bindparam("_id"))
    op.get_bind().execute(statement, [{"_id": row.pop("id"), **row} for row in rows])


def upgrade() -> None:
    plain = {name: _read(name) for name in SEALED}
    _restructure(up=True)
    cipher = _cipher() if any(plain.values()) else None
    for name, columns in SEALED.items():
        types = {col: sa.Text() for col, _, _ in columns}
        if name == "users":
            types.update({index: sa.String(64) for index in INDEXED.values()})
        rows = []
        for row in plain[name]:
            values: dict[str, Any] = {"id": row.id}
            for col, _, _ in columns:
                value = getattr(row, col)
                values[col] = None if value is None else cipher.seal(
                    _plain_bytes(value), f"{name}.{col}")
                if name == "users" and col in INDEXED:
                    values[INDEXED[col]] = None if value is None else cipher.blind_index(
                        value, col)
            rows.append(values)
        _write(name, rows, types)


def downgrade() -> None:
    sealed = {name: _read(name) for name in SEALED}
    _restructure(up=False)
    cipher = _cipher() if any(sealed.values()) else None
    for name, columns in SEALED.items():
        types = {col: (sa.JSON() if kind == "json" else before) for col, kind, before in columns}
        rows = []
        for row in sealed[name]:
            values: dict[str, Any] = {"id": row.id}
            for col, kind, _ in columns:
                value = getattr(row, col)
                if value is not None:
                    opened = cipher.open(value, f"{name}.{col}")
                    value = (opened if kind == "bytes" else json.loads(opened) if kind == "json"
                             else opened.decode("utf-8"))
                values[col] = value
            rows.append(values)
        _write(name, rows, types)


def _restructure(*, up: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Python's sqlite3 opens its transaction at the first write only: open it with a no-op
        # write, so that the pragma (reset at each commit) lasts until the revision commits.
        op.execute("UPDATE alembic_version SET version_num = version_num")
        op.execute("PRAGMA defer_foreign_keys=ON")
        for name in SEALED:
            _sqlite_rebuild(name, lambda table, name=name: _change(table, name, up))
        return
    if up:
        op.drop_constraint("uq_users_email", "users", type_="unique")
        op.drop_constraint("uq_users_phone", "users", type_="unique")
    else:
        op.drop_constraint("uq_users_email_index", "users", type_="unique")
        op.drop_constraint("uq_users_phone_index", "users", type_="unique")
        for index in INDEXED.values():
            op.drop_column("users", index)
    for name, columns in SEALED.items():
        for col, kind, before in columns:
            if type(before) is sa.Text:
                continue  # TEXT already
            # Every value is rewritten next, so the conversion only has to succeed.
            target = sa.Text() if up else before
            using = "''" if up or kind == "text" else (
                "'null'::json" if kind == "json" else "''::bytea")
            op.alter_column(name, col, type_=target, existing_type=sa.Text() if not up else before,
                            postgresql_using=using)
    if up:
        for index in INDEXED.values():
            op.add_column("users", sa.Column(index, sa.String(64), nullable=True))
            op.create_unique_constraint(f"uq_users_{index}", "users", [index])
    else:
        op.create_unique_constraint("uq_users_email", "users", ["email"])
        op.create_unique_constraint("uq_users_phone", "users", ["phone"])


def _change(table: sa.Table, name: str, up: bool) -> None:
    """The SQLite table ``name`` as it is after (``up``) or before this revision."""
    for col, _, before in SEALED[name]:
        table.c[col].type = sa.Text() if up else before
    if name != "users":
        return
    olds, news = ("email", "phone"), tuple(INDEXED.values())
    drop = olds if up else news
    for constraint in list(table.constraints):
        if isinstance(constraint, sa.UniqueConstraint) and [
                c.name for c in constraint.columns] in [[d] for d in drop]:
            table.constraints.discard(constraint)
    if up:
        for index in news:
            table.append_column(sa.Column(index, sa.String(64), nullable=True))
    else:
        for index in news:
            table._columns.remove(table.c[index])  # a reflected copy of ours
    for col in (news if up else olds):
        table.append_constraint(sa.UniqueConstraint(col, name=f"uq_users_{col}"))


def _sqlite_rebuild(name: str, change: Callable[[sa.Table], None]) -> None:
    bind = op.get_bind()
    table = sa.Table(name, sa.MetaData(), autoload_with=bind)
    change(table)
    kept = [c.name for c in sa.Table(name, sa.MetaData(), autoload_with=bind).c
            if c.name in table.c]
    names = ", ".join(f'"{c}"' for c in kept)
    bind.exec_driver_sql(f'CREATE TABLE "_old_{name}" AS SELECT * FROM "{name}"')
    bind.exec_driver_sql(f'DROP TABLE "{name}"')
    table.create(bind)
    bind.exec_driver_sql(f'INSERT INTO "{name}" ({names}) SELECT {names} FROM "_old_{name}"')
    bind.exec_driver_sql(f'DROP TABLE "_old_{name}"')

