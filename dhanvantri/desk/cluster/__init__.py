"""What several server processes share: an event bus (in-process or Redis) and a directory."""
