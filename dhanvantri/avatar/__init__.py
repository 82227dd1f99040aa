"""The avatar: a face drawn with numpy whose mouth follows the reply's visemes (no aiortc here)."""
