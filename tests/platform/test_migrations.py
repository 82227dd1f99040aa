"""Migrations go up and down on SQLite and PostgreSQL and match the declared tables exactly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from dhanvantri.platform import db
from dhanvantri.platform.tables import metadata
from dhanvantri.settings import Settings

TABLES = {"users", "patients", "physicians", "otp_challenges", "refresh_tokens", "prescriptions",
          "prescription_documents", "acknowledgements", "audit_events", "audit_head",
          # commerce (0002)
          "medicines", "merchants", "stock", "orders", "order_items", "lab_catalog", "lab_slots",
          "lab_bookings", "payments", "refunds", "idempotency_keys", "webhook_events",
          "ledger_accounts", "ledger_transactions", "ledger_entries", "payouts", "family_links",
          # consultations (0003)
          "consultations", "consultation_turns",
          # login lockouts (0004_lockouts)
          "login_lockouts",
          # the health record (0008_health_record)
          "record_documents",
          # appointments (0010_appointments)
          "physician_availability", "physician_leave", "appointments",
          # family access, emergency cards, shares (0009_family_shares)
          "emergency_cards", "family_members", "record_shares"}


def _tables(sync_conn) -> set[str]:
    return set(inspect(sync_conn).get_table_names()) - {"alembic_version"}


async def test_up_down_up(settings: Settings) -> None:
    engine = db.make_engine(settings)
    await db.create_schema_if_needed(engine, settings)
    await db.migrate(engine)
    head = ScriptDirectory.from_config(db.alembic_config()).get_current_head()
    assert await db.current_revision(engine) == head
    async with engine.connect() as conn:
        assert await conn.run_sync(_tables) == TABLES
        # The migration creates exactly the declared tables: autogenerate finds nothing to do.
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), metadata))
        assert diff == []
    await db.migrate(engine, "base", down=True)
    assert await db.current_revision(engine) is None
    async with engine.connect() as conn:
        assert await conn.run_sync(_tables) == set()
    await db.migrate(engine)
    async with engine.connect() as conn:
        assert await conn.run_sync(_tables) == TABLES
    await engine.dispose()


def test_alembic_command_api_with_url(tmp_path: Path) -> None:
    # The path the `alembic` tooling takes: no connection handed in, the URL from the config.
    url = f"sqlite+aiosqlite:///{tmp_path / 'cmd.sqlite3'}"
    config = db.alembic_config(url=url)
    command.upgrade(config, "head")
    sync = create_engine(f"sqlite:///{tmp_path / 'cmd.sqlite3'}")
    with sync.connect() as conn:
        assert _tables(conn) == TABLES
    command.downgrade(config, "base")
    with sync.connect() as conn:
        assert _tables(conn) == set()
    sync.dispose()


def test_default_database_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert db.database_url(settings) == f"sqlite+aiosqlite:///{tmp_path / 'dhanvantri.sqlite3'}"
