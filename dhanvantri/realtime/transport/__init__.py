"""How a patient's browser connects: WebRTC (aiortc) or the WebSocket fallback, and the tracks.

aiortc is imported only here, and only when the first WebRTC offer arrives.
"""
