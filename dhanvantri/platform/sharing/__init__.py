"""What makes the record the patient's to show: an emergency card a bystander can scan, family
members who act for one another with consent, and time-limited shares opened with a code.

``domain`` holds the records and the rules (no ORM, no I/O); ``access`` is the permission layer
every family read or action goes through; the use cases are ``emergency_card``, ``family`` and
``shares``.
"""
