"""Repositories: load and add domain objects; they never commit (the unit of work does).

One module per context; ``UnitOfWork`` opens one of each on its session.
"""
