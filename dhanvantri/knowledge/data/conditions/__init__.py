"""Condition entries of the knowledge base, one JSON file per body system."""
