"""Dhanvantri: a self-hostable voice consultation server for medicine."""

__version__ = "0.1.0"
