"""The privacy layer: find PHI, swap it for tokens, put it back for the patient.

A pure library (no imports from ``pipeline`` or ``realtime``)::

    from dhanvantri.privacy import PhiDetector, TokenVault, vault_key_from_settings

    detector = PhiDetector()                      # once per process
    vault = TokenVault(consultation_id, vault_key_from_settings(settings), detector=detector)
    redaction = vault.tokenize("this is rajesh kumar calling")   # "this is <PERSON_1> calling"
    reply = vault.reidentify("Namaste <PERSON_1>, ...")          # "Namaste Rajesh Kumar, ..."

Names resolve lazily so that importing the CLI module stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dhanvantri.privacy.detector import PhiDetector
    from dhanvantri.privacy.entities import Entity
    from dhanvantri.privacy.keys import vault_key_from_settings
    from dhanvantri.privacy.logfilter import PhiLogFilter, install_log_filter, mask_phi
    from dhanvantri.privacy.sensitive import PhiText
    from dhanvantri.privacy.vault import Redaction, TokenizedEntity, TokenVault, VaultError

_EXPORTS = {
    "PhiDetector": "detector",
    "Entity": "entities",
    "vault_key_from_settings": "keys",
    "PhiLogFilter": "logfilter",
    "install_log_filter": "logfilter",
    "mask_phi": "logfilter",
    "PhiText": "sensitive",
    "Redaction": "vault",
    "TokenizedEntity": "vault",
    "TokenVault": "vault",
    "VaultError": "vault",
}
__all__ = [
    "Entity",
    "PhiDetector",
    "PhiLogFilter",
    "PhiText",
    "Redaction",
    "TokenVault",
    "TokenizedEntity",
    "VaultError",
    "install_log_filter",
    "mask_phi",
    "vault_key_from_settings",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dhanvantri.privacy' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dhanvantri.privacy.{module}"), name)
