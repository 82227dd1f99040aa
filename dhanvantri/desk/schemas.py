"""Request and response bodies of the desk's endpoints (validation and the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from dhanvantri.desk.desk import COMMANDS
from dhanvantri.desk.store import Status

ESCALATION_ID = {"id": {"type": "string", "minLength": 1, "maxLength": 64}}  # uuid4().hex
COMMAND_SCHEMA = {"type": "string", "enum": sorted(COMMANDS)}
COMMAND = {"command": COMMAND_SCHEMA}
# Inline: the prescriptions' Status would take the same component name.
EscalationStatus = Annotated[Status, WithJsonSchema({"type": "string",
                                                     "enum": [s.value for s in Status]})]


class CommandBody(BaseModel):
    """Optional notes for the assistant (hand back)."""

    model_config = ConfigDict(extra="forbid")
    notes: str = Field(default="", max_length=4000)


class Escalation(BaseModel):
    """A redacted escalation: identifiers only, no patient text. Times: seconds since the epoch."""

    id: str
    consultation_id: str
    reason: str = Field(examples=["red_flag", "patient_request", "uncertain"])
    red_flags: list[str]
    topics: list[str]
    emergency: bool
    status: EscalationStatus
    raised_at: float
    deadline: float
    offered_to: int = Field(description="physicians it was offered to")
    accepted_by: str | None
    accepted_at: float | None
    timed_out_at: float | None
    held_by: str | None = Field(None, description="accept only: the server process holding "
                                                  "the live consultation")


class EscalationQueue(BaseModel):
    """Open escalations, emergencies first."""

    items: list[Escalation]


class CommandSent(BaseModel):
    """A mode command on its way to the process holding the call."""

    id: str
    command: Annotated[str, WithJsonSchema(COMMAND_SCHEMA)]
    held_by: str
