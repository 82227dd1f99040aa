"""Data shipped with the knowledge package: medicines, interactions, lab tests, conditions."""
