"""The streaming voice pipeline: typed frames flowing through small processors."""
