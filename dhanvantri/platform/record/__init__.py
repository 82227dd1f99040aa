"""The patient's health record: one timeline over everything the clinic holds for them, the
documents they bring, and the same record as a FHIR R4 bundle for hospitals and ABDM.

Nothing is imported here: the tables import :mod:`.domain`, and the use cases import the unit
of work, which imports the tables.
"""
