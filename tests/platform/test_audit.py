"""The audit trail is an HMAC chain: altering or removing any row is found and named."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from dhanvantri.cli import main
from dhanvantri.http.principal import Role
from dhanvantri.platform.audit import verify_trail
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.domain.audit import Actor
from dhanvantri.platform.users import NewStaff, create_staff
from dhanvantri.settings import Settings

from .helpers import PASSWORD, run_sql, staff_events


async def _cli_verify(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    monkeypatch.setenv("DHANVANTRI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DHANVANTRI_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DHANVANTRI_DATABASE_SCHEMA", settings.database_schema)
    code = await asyncio.to_thread(main, ["audit", "verify", "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


async def test_intact_chain(services: Services, settings: Settings,
                            monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    await staff_events(services, 4)
    count, broken = await verify_trail(services.uow())
    assert (count, broken) == (4, None)
    code, result, _ = await _cli_verify(settings, monkeypatch, capsys)
    assert code == 0 and result == {"intact": True, "checked": 4}
    await services.close()


async def test_altered_row_is_named(services: Services, settings: Settings,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    await staff_events(services, 5)
    await run_sql(services, "UPDATE audit_events SET actor_role = 'admin' WHERE seq = 3")
    _, broken = await verify_trail(services.uow())
    assert broken is not None and broken.seq == 3 and "altered" in broken.reason
    code, result, err = await _cli_verify(settings, monkeypatch, capsys)
    assert code == 1 and result["broken_at"]["seq"] == 3
    assert "event 3" in err
    await services.close()


async def test_rehashed_row_is_caught_without_the_key(services: Services) -> None:
    # A forger without the audit key can recompute only a plain hash: the seal itself fails.
    await staff_events(services, 4)
    async with services.uow() as uow:
        event = (await uow.audit.events(after_seq=1, limit=1))[0]
        event.new_values = {"role": "admin"}
        event.hash = event.legacy_hash()
        await uow.commit()  # no event queued: the forger bypasses the trail
    _, broken = await verify_trail(services.uow())
    assert broken is not None and broken.seq == 2 and "re-sealed" in broken.reason
    await services.close()


async def test_removed_rows_are_found(services: Services) -> None:
    await staff_events(services, 5)
    await run_sql(services, "DELETE FROM audit_events WHERE seq = 5")
    _, broken = await verify_trail(services.uow())
    assert broken is not None and broken.seq == 5 and "removed" in broken.reason
    await run_sql(services, "DELETE FROM audit_events WHERE seq = 2")
    _, broken = await verify_trail(services.uow())
    assert broken is not None and broken.seq == 2 and "missing" in broken.reason
    await services.close()


async def test_every_state_change_lands_with_its_event(services: Services) -> None:
    await services.start()
    await staff_events(services, 1)
    async with services.uow() as uow:
        events = await uow.audit.events(entity_type="user")
    assert [e.action for e in events] == ["user_created"]
    # The role stays readable; the e-mail is only a keyed hash (README, Security).
    assert events[0].new_values["role"] == "support"
    assert events[0].new_values["email"]["changed"] is True
    assert "staff0" not in str(events[0].new_values)
    # A failed use case leaves neither the change nor an event behind.
    with pytest.raises(Exception, match="already registered"):
        await create_staff(services.uow(), Actor(uuid.uuid4(), "admin"), NewStaff(
            email="staff0@clinic.example", password=PASSWORD, role=Role.SUPPORT,
            full_name="Dup"))
    count, broken = await verify_trail(services.uow())
    assert (count, broken) == (1, None)
    await services.close()


async def test_concurrent_writers_do_not_fork_the_chain(services: Services) -> None:
    await services.start()
    await asyncio.gather(*(create_staff(services.uow(), Actor(None, "cli"), NewStaff(
        email=f"parallel{i}@clinic.example", password=PASSWORD, role=Role.LAB,
        full_name=f"Lab {i}")) for i in range(8)))
    count, broken = await verify_trail(services.uow())
    assert (count, broken) == (8, None)
    await services.close()
