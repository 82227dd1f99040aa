"""Back office: accounts and roles, prescriptions from AI draft to signed release, commerce
(pharmacy orders, lab tests at home, payments, wallet, merchant settlement), audit trail.

Layout (Cosmic Python): ``domain/`` holds plain classes with no ORM import; ``tables/`` declares
the tables and maps the domain onto them; ``repositories/`` and ``uow.py`` own persistence
(explicit ``commit()``, audit events sealed into a hash chain in the same transaction); use cases
are functions in ``accounts.py`` (logins, tokens), ``users.py`` (staff, profiles, TOTP),
``prescriptions.py`` (draft intake, queue, review), ``signing.py`` (e-sign, verify, PDF,
acknowledgement, release), ``audit.py`` and ``commerce/`` (catalogue, pharmacy, orders,
delivery, labs, payments, wallet, settlement, idempotency); ``bootstrap.py`` wires the real parts;
``web/`` serves them under ``/api/v1/``.
Nothing touches a database at import time.

Wiring into a server::

    from dhanvantri.platform.web import install
    install(app, settings)  # routes, error middleware, OpenAPI, DB engine + migrations at start

Other areas declare their routes as ``dhanvantri.http.endpoint.Endpoint`` lists (tokens,
permissions and the OpenAPI document come with them), and call
``prescriptions.create_from_draft(app[SERVICES].uow(), ...)`` when a consultation produces a draft.

Commands: ``dhanvantri users create-staff`` (password from ``$DHANVANTRI_STAFF_PASSWORD`` or
stdin), ``dhanvantri audit verify`` (exit 1 naming the first broken link), ``dhanvantri db
upgrade``.
"""
