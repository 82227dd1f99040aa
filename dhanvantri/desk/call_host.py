"""How the desk reaches the calls its own process holds, knowing nothing of their transport.

The realtime server implements :class:`CallHost` and registers it as ``app[CALL_HOST]`` before
the desk is installed; the desk then joins physicians to the calls held here through it, both
those who asked this process and those whose request another process relayed over the bus. A
process that holds no calls (the desk alone) registers none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web


@dataclass(frozen=True)
class PhysicianJoin:
    """A physician's request to join a call: who they are and their browser's SDP offer."""

    physician_id: str
    name: str  # how the patient is told who joined ("" when unknown)
    sdp: str

    def message(self) -> dict[str, Any]:
        """The request as it travels over the bus to the process holding the call."""
        return {"type": "join", "physician_id": self.physician_id, "name": self.name,
                "sdp": self.sdp}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> PhysicianJoin:
        """The request :meth:`message` sent."""
        return cls(physician_id=str(message["physician_id"]), name=str(message.get("name") or ""),
                   sdp=str(message["sdp"]))


class CallHost(Protocol):
    """The live calls of this process, as the desk sees them."""

    def holds(self, consultation_id: str) -> bool:
        """Whether this process holds the live consultation."""
        ...

    async def join(self, consultation_id: str, join: PhysicianJoin) -> dict[str, str]:
        """Join the physician to the call; returns the SDP answer (``sdp`` and ``type``).

        Raises:
            ApiError: the call ended (``NOT_FOUND``), the patient has not connected yet
                (``NOT_CONNECTED``), a physician is already on it (``PHYSICIAN_JOINED``), the
                offer cannot be negotiated (``VALIDATION_ERROR``) or the models are loading
                (``NOT_READY``).
        """
        ...


CALL_HOST: web.AppKey[CallHost] = web.AppKey("dhanvantri.desk.call_host")
