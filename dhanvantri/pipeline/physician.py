"""What a stage knows of a physician on the call: whether they have it, and their notes."""

from __future__ import annotations

from dhanvantri.pipeline.frames import Frame, HandBackFrame, HandOverFrame, PhysicianNoteFrame

PHYSICIAN_FRAMES = (HandOverFrame, HandBackFrame, PhysicianNoteFrame)


class PhysicianPresence:
    """Follows the hand-over frames; the guide and the responder each keep one."""

    def __init__(self) -> None:
        self.has_call = False  # a physician took over: the assistant says nothing
        self._notes: list[str] = []  # tokenised (the Redactor saw them first)

    @property
    def notes(self) -> tuple[str, ...]:
        """The physician's notes and words so far, tokenised."""
        return tuple(self._notes)

    def follow(self, frame: Frame) -> bool:
        """Take a hand-over, hand-back or note frame; True when it added a note."""
        if isinstance(frame, HandOverFrame):
            self.has_call = True
            return False
        if isinstance(frame, HandBackFrame):
            self.has_call = False
            note = frame.notes
        elif isinstance(frame, PhysicianNoteFrame):
            note = frame.text
        else:
            return False
        if not note.strip():
            return False
        self._notes.append(note)
        return True
