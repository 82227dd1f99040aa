"""Slots from weekly hours: IST (no daylight saving) and a physician in London (with it), across
a month boundary and both clock changes; slots never overlap and leave removes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from dhanvantri.http.errors import ValidationFailed
from dhanvantri.platform.domain.appointments import (
    Availability,
    CancellationPolicy,
    Leave,
    Window,
    free_slots,
)

NOW = datetime(2026, 10, 1, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def hours(zone: str, start: str, end: str, minutes: int = 30) -> Availability:
    item = Availability(id=uuid.uuid4())
    item.change(time_zone=zone, slot_minutes=minutes, fee=Decimal("300.00"),
                windows=[Window(day, time.fromisoformat(start), time.fromisoformat(end))
                         for day in range(7)], now=NOW)
    return item


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_ist_slots_over_a_month_boundary_are_five_and_a_half_hours_behind_in_utc() -> None:
    physician = hours("Asia/Kolkata", "09:00", "10:00")
    found = list(physician.slots(utc(2026, 10, 30), utc(2026, 11, 3)))
    # Four local days (30, 31 Oct; 1, 2 Nov), two half-hour slots each, the same UTC time daily.
    starts = [(s.starts_at.month, s.starts_at.day, s.starts_at.hour, s.starts_at.minute)
              for s in found]
    assert starts == [(10, 30, 3, 30), (10, 30, 4, 0), (10, 31, 3, 30), (10, 31, 4, 0),
                      (11, 1, 3, 30), (11, 1, 4, 0), (11, 2, 3, 30), (11, 2, 4, 0)]
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in found)


def test_ist_evening_hours_fall_on_the_previous_utc_day() -> None:
    # 02:00-03:00 IST on 1 November is 20:30-21:30 UTC on 31 October: the range in UTC decides.
    physician = hours("Asia/Kolkata", "02:00", "03:00")
    found = list(physician.slots(utc(2026, 10, 31, 20), utc(2026, 10, 31, 22)))
    assert [s.starts_at for s in found] == [utc(2026, 10, 31, 20, 30), utc(2026, 10, 31, 21)]


def test_london_physician_keeps_local_hours_across_the_autumn_change_and_month_end() -> None:
    physician = hours("Europe/London", "09:00", "10:00", minutes=60)
    found = list(physician.slots(utc(2026, 10, 24), utc(2026, 11, 2)))
    by_day = {(s.starts_at.month, s.starts_at.day): s.starts_at.hour for s in found}
    # British Summer Time (UTC+1) ends on Sunday 25 October 2026: 09:00 local is 08:00 UTC
    # before it and 09:00 UTC after, into November.
    assert by_day[(10, 24)] == 8 and by_day[(10, 25)] == 9
    assert by_day[(10, 31)] == 9 and by_day[(11, 1)] == 9
    assert len(found) == 9


def test_a_physician_in_utc_has_slots_at_the_same_clock_time() -> None:
    physician = hours("UTC", "18:00", "19:00", minutes=20)
    found = list(physician.slots(utc(2026, 10, 31), utc(2026, 11, 2)))
    assert [s.starts_at for s in found] == [
        utc(2026, 10, 31, 18), utc(2026, 10, 31, 18, 20), utc(2026, 10, 31, 18, 40),
        utc(2026, 11, 1, 18), utc(2026, 11, 1, 18, 20), utc(2026, 11, 1, 18, 40)]


@pytest.mark.parametrize("day", [utc(2026, 10, 24, 12), utc(2027, 3, 27, 12)])
def test_clock_changes_never_make_overlapping_or_unreal_slots(day: datetime) -> None:
    # Night hours across the change: 01:00-02:00 happens twice in autumn, never in spring.
    physician = hours("Europe/London", "00:00", "03:00")
    found = list(physician.slots(day, day + timedelta(days=2)))
    for earlier, later in pairwise(found):
        assert earlier.ends_at <= later.starts_at
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in found)
    local = [s.starts_at.astimezone(LONDON).strftime("%d %H:%M") for s in found]
    assert len(local) == len(set(local))  # no wall time offered twice
    if day.month == 3:  # 28 March 2027: 01:00-02:00 does not exist
        assert not any(t.startswith("28 01:") for t in local)
        assert "28 00:30" in local and "28 02:00" in local


def test_leave_and_bookings_take_slots_away() -> None:
    physician = hours("Asia/Kolkata", "09:00", "11:00")
    slots = list(physician.slots(utc(2026, 11, 2), utc(2026, 11, 3)))
    assert len(slots) == 4
    leave = Leave(physician_id=physician.id, starts_at=utc(2026, 11, 2, 3, 45),
                  ends_at=utc(2026, 11, 2, 4, 15))
    taken = [(utc(2026, 11, 2, 5), utc(2026, 11, 2, 5, 30))]
    free = free_slots(slots, [leave], taken)
    # 03:30 and 04:00 touch the leave, 05:00 is booked: 04:30 alone is left.
    assert [s.starts_at for s in free] == [utc(2026, 11, 2, 4, 30)]


@pytest.mark.parametrize(("field", "weekly", "minutes", "zone_name"), [
    ("time_zone", [(0, "09:00", "10:00")], 15, "Mars/Olympus"),
    ("slot_minutes", [(0, "09:00", "10:00")], 3, "Asia/Kolkata"),
    ("weekly[0].end", [(0, "10:00", "09:00")], 15, "Asia/Kolkata"),
    ("weekly[1].start", [(0, "09:00", "11:00"), (0, "10:30", "12:00")], 15, "Asia/Kolkata"),
])
def test_bad_hours_are_refused_naming_the_field(field: str, weekly: list[tuple[int, str, str]],
                                                minutes: int, zone_name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Availability(id=uuid.uuid4()).change(
            time_zone=zone_name, slot_minutes=minutes, fee=Decimal("1.00"),
            windows=[Window(d, time.fromisoformat(s), time.fromisoformat(e))
                     for d, s, e in weekly], now=NOW)
    assert caught.value.details[0]["field"] == field


def test_cancellation_policy() -> None:
    policy = CancellationPolicy(24, Decimal("50"))
    starts = utc(2026, 11, 2, 10)
    fee = Decimal("333.33")
    assert policy.refund(fee, starts, starts - timedelta(hours=24), by_physician=False) == fee
    assert policy.refund(fee, starts, starts - timedelta(hours=23, minutes=59),
                         by_physician=False) == Decimal("166.66")  # down to the paisa
    assert policy.refund(fee, starts, starts - timedelta(minutes=5), by_physician=True) == fee
