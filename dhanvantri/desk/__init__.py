"""The physician desk: escalations from live consultations, the physicians' queue, joining a call.

``escalations`` and ``store`` hold the escalation state machine (exactly one physician accepts);
``desk`` ties them to the cluster (``cluster/``: the event bus and the directory of which process
holds which consultation); ``physician_link`` and ``physician_media`` join a physician to a live
call; ``routes`` serves the dashboard page, its WebSocket and the escalation endpoints.
"""
