"""Alembic migrations for the back office (shipped inside the package)."""
