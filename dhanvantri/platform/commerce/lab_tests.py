"""The lab test catalogue and result flags, both from the knowledge base.

Tests, preparation and reference ranges come from ``dhanvantri.knowledge.lab_tests``; prices
from the shipped sample price list.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from ...http.errors import ValidationFailed
from ...knowledge.lab_tests import load_lab_tests
from ..domain.audit import SYSTEM, Actor
from ..domain.labs import LabTest, flag
from ..domain.money import money, text
from ..uow import UnitOfWork


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
        return [{"code": t.code, "name": t.name, "specimen": t.specimen,
                 "preparation": t.preparation, "price": text(t.price)}
                for t in await uow.labs.tests()]


def flag_results(tests: list[str], values: list[dict[str, Any]], sex: str | None
                 ) -> list[dict[str, Any]]:
    """Each value with its reference range and ``low``/``high``/``normal`` flag.

    The range is the analyte's row for the patient's sex when the table has one
    (``adult men``/``adult non-pregnant women``), else the first adult row.
    """
    table = load_lab_tests()
    known = {code_for(t.name): t for t in table.tests}
    out = []
    for value in values:
        ranges = [r for code in tests if code in known for r in known[code].ranges
                  if r.analyte == value["analyte"].lower()]
        if not ranges:
            raise ValidationFailed.field("results.analyte",
                                         f"{value['analyte']} is not measured by these tests")
        word = {"male": "men", "female": "women"}.get(sex or "", "adult")
        chosen = next((r for r in ranges if word in r.population), ranges[0])
        out.append({"analyte": chosen.analyte, "value": value["value"], "unit": chosen.unit,
                    "low": chosen.low, "high": chosen.high, "population": chosen.population,
                    "flag": flag(float(value["value"]), chosen.low, chosen.high)})
    return out
