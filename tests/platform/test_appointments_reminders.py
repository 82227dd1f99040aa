"""Reminders: the latest one due is sent once (a day, then an hour before), even with two
sweeps at once; a failed message is retried; cancelled appointments get none."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.clock import ManualClock
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.scheduling import reminders, sweep
from dhanvantri.settings import Settings

from .appointments_setup import at, iso, physician, refresh
from .commerce_setup import call
from .helpers import login_patient

SLOT = datetime(2026, 10, 30, 3, 30, tzinfo=UTC)  # 09:00 IST on Friday 30 October
AHEAD = reminders.leads("1440,60")
LINK = "https://rx.example.test/care"


@pytest.fixture
def settings(database: dict[str, str], tmp_path: Path) -> Settings:
    # The server's own sweep is off: each test sweeps when its clock says so.
    return Settings(data_dir=tmp_path / "data", public_base_url="https://rx.example.test",
                    appointment_reminder_interval_s=0, **database)


async def remind(services: Services, outbox: OutboxNotifier) -> int:
    return await reminders.send_due(services.uow, outbox, AHEAD, LINK)


async def test_the_day_and_hour_reminders_go_out_once_each(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock)
    doctor = await physician(client, services)
    patient = await login_patient(client, outbox)
    booked = await call(client, "POST", "/appointments", patient, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT)})
    assert await remind(services, outbox) == 0  # two days ahead: nothing due

    clock.now = SLOT - timedelta(hours=23)
    counts = await asyncio.gather(remind(services, outbox), remind(services, outbox))
    assert sorted(counts) == [0, 1]  # two sweeps at once: one message
    [message] = outbox.messages
    assert message.destination == patient.phone and message.purpose == "appointment_reminder"
    assert message.text == ("Reminder: your video consultation with Test Physician is at "
                            f"09:00 IST on Fri 30 Oct. Details: {LINK}")
    assert await remind(services, outbox) == 0

    clock.now = SLOT - timedelta(minutes=30)
    assert await remind(services, outbox) == 1
    assert len(outbox.messages) == 2
    assert await remind(services, outbox) == 0

    # Moved to the next day: its reminders start again.
    clock.now = SLOT - timedelta(hours=2)
    refresh(services, patient)
    await call(client, "POST", f"/appointments/{booked['id']}/reschedule", patient,
               json={"starts_at": iso(SLOT + timedelta(days=1))})
    clock.now = SLOT + timedelta(hours=1)
    assert await remind(services, outbox) == 1
    assert "on Sat 31 Oct" in outbox.messages[-1].text


class Flaky(OutboxNotifier):
    """A provider that fails its first message."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def send_message(self, destination: str, text: str, purpose: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("provider down")
        await super().send_message(destination, text, purpose)


async def test_a_failed_reminder_is_retried_and_a_cancelled_one_never_sent(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock)
    doctor = await physician(client, services)
    patient = await login_patient(client, outbox)
    other = await login_patient(client, outbox, phone="9988776655")
    await call(client, "POST", "/appointments", patient, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT)})
    cancelled = await call(client, "POST", "/appointments", other, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT + timedelta(minutes=30))})
    await call(client, "POST", f"/appointments/{cancelled['id']}/cancel", other)

    flaky = Flaky()
    clock.now = SLOT - timedelta(hours=3)
    assert await reminders.send_due(services.uow, flaky, AHEAD, LINK) == 0
    assert await reminders.send_due(services.uow, flaky, AHEAD, LINK) == 1
    assert [m.destination for m in flaky.messages] == [patient.phone]
    async with services.engine.connect() as conn:
        actions = (await conn.exec_driver_sql(
            "SELECT action FROM audit_events WHERE action LIKE 'appointment_reminder%' "
            "ORDER BY seq")).scalars().all()
    assert actions == ["appointment_reminder_sent", "appointment_reminder_failed",
                       "appointment_reminder_sent"]


async def test_the_background_sweep_expires_and_reminds_until_cancelled(
        client: TestClient, services: Services, clock: ManualClock,
        outbox: OutboxNotifier) -> None:
    at(clock)
    doctor = await physician(client, services, fee="0.00")
    patient = await login_patient(client, outbox)
    await call(client, "POST", "/appointments", patient, 201, json={
        "physician_id": str(doctor.user_id), "starts_at": iso(SLOT)})
    clock.now = SLOT - timedelta(minutes=45)
    messenger = Signalling()
    task = asyncio.create_task(sweep.run(services.uow, messenger, AHEAD, LINK,
                                         timedelta(minutes=15), interval_s=0))
    try:
        async with asyncio.timeout(30):  # an event awaited, not a duration measured
            await messenger.arrived.wait()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert [m.destination for m in messenger.messages] == [patient.phone]


class Signalling(OutboxNotifier):
    """An outbox that says when a message arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    async def send_message(self, destination: str, text: str, purpose: str) -> None:
        await super().send_message(destination, text, purpose)
        self.arrived.set()
