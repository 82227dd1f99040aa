"""The realtime server: the patient page, consultations, live sessions, health, metrics.

``create_app(settings)`` builds the aiohttp application; ``dhanvantri serve`` runs it. How the
browser connects (WebRTC, WebSocket) is in ``transport/``.
"""
