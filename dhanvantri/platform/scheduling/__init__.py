"""Appointments with physicians: hours and leave, open slots, bookings, reminders, calendars.

Use cases take a ``UnitOfWork``; the HTTP routes are in ``web/appointment_routes.py``.
"""
