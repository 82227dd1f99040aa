"""Plain domain classes: no ORM, no web, no I/O."""
