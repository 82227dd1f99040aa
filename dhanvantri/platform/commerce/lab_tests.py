"""The lab test catalogue and result flags, both from the knowledge base.

Tests, preparation and reference ranges come from ``dhanvantri.knowledge.lab_tests``; prices
from the shipped sample price list.
"""

from __future__ import annotations

import json
import re
import uuid
from importlib import resources
from typing import Any

from ...http.errors import ValidationFailed
from ...knowledge.lab_tests import load_lab_tests
from ..domain.audit import SYSTEM, Actor
from ..domain.labs import LabTest, flag
from ..domain.money import money, text
from ..uow import UnitOfWork
from .pharmacy import released_prescription


def code_for(name: str) -> str:
    """A test's catalogue code: ``"Complete blood count"`` -> ``"complete-blood-count"``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


async def seed_lab_catalog(uow: UnitOfWork, actor: Actor = SYSTEM) -> int:
    """Load every knowledge-base test with its sample price (idempotent)."""
    prices = json.loads(resources.files("dhanvantri.platform").joinpath(
        "data/lab_prices.json").read_text(encoding="utf-8"))
    tests = load_lab_tests().tests
    async with uow:
        for known in tests:
            price = money(prices["prices"].get(known.name, prices["default_price"]))
            fresh = LabTest(code=code_for(known.name), name=known.name,
                            specimen=known.specimen, preparation=known.preparation, price=price)
            test = await uow.labs.test(fresh.code)
            if test is None:
                uow.labs.add(fresh)
            else:
                test.name, test.specimen = fresh.name, fresh.specimen
                test.preparation, test.price = fresh.preparation, fresh.price
        uow.record(actor, "lab_catalog_seeded", "lab_catalog", "sample",
                   new={"tests": len(tests)})
        await uow.commit()
    return len(tests)


async def catalog(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every test with specimen, preparation and price."""
    async with uow:
        return [_entry(t) for t in await uow.labs.tests()]


def flag_results(tests: list[str], values: list[dict[str, Any]], sex: str | None
                 ) -> list[dict[str, Any]]:
    """Each value with its reference range and ``low``/``high``/``normal`` flag.

    The range is the analyte's row for the patient's sex when the table has one (``adult
    men``/``adult non-pregnant women``; see ``_fits``), else a row for everyone, else the first.
    """
    table = load_lab_tests()
    known = {code_for(t.name): t for t in table.tests}
    out = []
    for value in values:
        ranges = [r for code in tests if code in known for r in known[code].ranges
                  if r.analyte.lower() == value["analyte"].lower()]
        if not ranges:
            raise ValidationFailed.field("results.analyte",
                                         f"{value['analyte']} is not measured by these tests")
        chosen = next((r for r in ranges if _fits(r.population, sex)), ranges[0])
        out.append({"analyte": chosen.analyte, "value": value["value"], "unit": chosen.unit,
                    "low": chosen.low, "high": chosen.high, "population": chosen.population,
                    "flag": flag(float(value["value"]), chosen.low, chosen.high)})
    return out


def _fits(population: str, sex: str | None) -> bool:
    """Whether a range's population is this adult's: by whole words, since "women" contains
    "men"; rows for pregnancy or children are never chosen for a profile that cannot say so."""
    words = set(re.findall(r"[a-z]+(?:-[a-z]+)*", population.lower()))
    if words & {"pregnant", "children", "child"}:
        return False
    wanted = {"male": "men", "female": "women"}.get(sex or "")
    if wanted is None:
        return not words & {"men", "women"}
    return wanted in words


def ordered(names: list[str]) -> tuple[list[str], list[str]]:
    """Catalogue codes for the tests a prescription names (``"CBC"``, ``"Lipid profile"``),
    and the names that match no test on sale (the patient books those elsewhere)."""
    table = load_lab_tests()
    codes: list[str] = []
    unmatched: list[str] = []
    for name in names:
        known = table.lookup(name)
        if known is None:
            unmatched.append(name)
        elif code_for(known.name) not in codes:
            codes.append(code_for(known.name))
    return codes, unmatched


async def prescribed(uow: UnitOfWork, patient_id: uuid.UUID, prescription_id: uuid.UUID
                     ) -> dict[str, Any]:
    """The tests a released prescription orders, as catalogue entries with prices."""
    async with uow:
        rx = await released_prescription(uow, patient_id, prescription_id)
        codes, unmatched = ordered([str(n) for n in rx.content.get("lab_tests", [])])
        found = {t.code: t for t in await uow.labs.tests(codes)}
        unmatched += [n for n in codes if n not in found]  # not seeded into the catalogue
        return {"prescription_id": str(rx.id),
                "items": [_entry(found[c]) for c in codes if c in found],
                "unmatched": unmatched}


def _entry(test: LabTest) -> dict[str, Any]:
    return {"code": test.code, "name": test.name, "specimen": test.specimen,
            "preparation": test.preparation, "price": text(test.price)}
