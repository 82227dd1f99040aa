"""Word lists shipped with the privacy layer (names, places, clinical vocabulary)."""
