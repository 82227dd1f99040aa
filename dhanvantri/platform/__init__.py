"""Back office: accounts and roles, prescriptions from AI draft to signed release, audit trail.

Layout (Cosmic Python): ``domain/`` holds plain classes with no ORM import; ``orm.py`` maps them
onto tables; ``repositories.py`` and ``uow.py`` own persistence (explicit ``commit()``, audit
events sealed into a hash chain in the same transaction); use cases are functions in
``accounts.py`` (logins, tokens), ``users.py`` (staff, profiles, TOTP), ``prescriptions.py``
(draft intake, queue, review), ``signing.py`` (e-sign, verify, PDF, acknowledgement, release) and
``audit.py``; ``bootstrap.py`` wires the real parts; ``web/`` serves them under ``/api/v1/``.
Nothing touches a database at import time.

Wiring into a server::

    from dhanvantri.platform.web import install
    install(app, settings)  # routes, error middleware, OpenAPI, DB engine + migrations at start

Other areas use ``auth.authenticate_request(request)`` for tokens, ``openapi.add_paths`` for
their routes' documentation, and ``prescriptions.create_from_draft(app[SERVICES].uow(), ...)``
when a consultation produces a draft.

Commands: ``dhanvantri users create-staff`` (password from ``$DHANVANTRI_STAFF_PASSWORD`` or
stdin), ``dhanvantri audit verify`` (exit 1 naming the first broken link), ``dhanvantri db
upgrade``.
"""
