"""The consent text a patient accepts before a prescription is released."""

from __future__ import annotations

import hashlib

CONSENT_VERSION = "2026-11-1"

CONSENT_TEXT = """PATIENT CONSENT AND ACKNOWLEDGMENT

I acknowledge that:
1. I have received medical consultation via AI-assisted platform
2. The prescription has been reviewed and approved by a licensed physician
3. I have read and understood the prescribed medications, dosages, and instructions
4. I have disclosed all relevant medical history, allergies, and current medications
5. I will follow the prescription as directed
6. I will seek immediate medical attention if symptoms worsen
7. This is not a substitute for emergency medical care

By signing below, I consent to the above and confirm receipt of my prescription.
"""

CONSENT_SHA256 = hashlib.sha256(CONSENT_TEXT.encode()).hexdigest()
