"""Back office: accounts and roles, prescriptions from AI draft to signed release, audit trail.

Layout (Cosmic Python): ``domain/`` holds plain classes with no ORM import; ``orm.py`` maps them;
``repositories.py`` and ``uow.py`` own persistence; use cases live in ``accounts.py``,
``prescriptions.py`` and ``audit.py``; ``bootstrap.py`` wires the real parts; ``web/`` exposes
them under ``/api/v1/``. Nothing touches a database at import time.
"""
