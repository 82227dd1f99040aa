"""The realtime server: the patient page, consultations over WebRTC or WebSocket, health, metrics.

``create_app(settings)`` builds the aiohttp application; ``dhanvantri serve`` runs it. aiortc is
imported only in this package, and only when the first WebRTC offer arrives.
"""
