"""The security tests run against the back office's fixtures (a real app on SQLite or
PostgreSQL, cheap password hashing, a clock the test moves, the outbox notifier)."""

from tests.platform.conftest import (  # noqa: F401  (fixtures, found by name)
    _cheap_password_hashing,
    app_services,
    client,
    clock,
    database,
    outbox,
    services,
    settings,
    sqlite_template,
)
