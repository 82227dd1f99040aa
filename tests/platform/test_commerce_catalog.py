"""Catalogue: search on SQLite and PostgreSQL, generic alternatives, schedules from the knowledge
base, and how many packs a prescription line needs."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from dhanvantri.knowledge.medicines import load_medicines
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.commerce.catalog import _seed_rows, seed_catalog
from dhanvantri.platform.domain.catalog import packs_needed

from .commerce_setup import call


def test_seed_generics_are_in_the_knowledge_base() -> None:
    table = load_medicines()
    assert all(table.get(row["generic"]) for row in _seed_rows())
    assert packs_needed("TDS", "5 days", "strip of 15 tablets") == 1
    assert packs_needed("BD", "30 days", "strip of 10 tablets") == 6
    assert packs_needed("1-0-1 after food", "2 weeks", "strip of 10 tablets") == 1  # unread
    assert packs_needed("OD", "3 days", "bottle of 60 ml") == 1


async def test_search_and_alternatives(client: TestClient, services: Services) -> None:
    assert await seed_catalog(services.uow()) == len(_seed_rows())
    assert await seed_catalog(services.uow()) == len(_seed_rows())  # idempotent

    async def skus(q: str) -> list[str]:
        return [m["sku"] for m in (await call(client, "GET", "/medicines",
                                              params={"q": q}))["items"]]

    # A brand the knowledge base knows finds itself first, then its generic's other brands.
    dolo = await skus("dolo")
    assert dolo[0] == "DOLO-650" and set(dolo) == {
        "DOLO-650", "PARA-500-GEN", "CALPOL-500", "CROCIN-500", "CALPOL-SUSP"}
    assert await skus("Pan 40") == ["PAN-40", "PANTOCID-40"]
    by_strength = await skus("paracetamol 500")
    assert set(by_strength[:3]) == {"PARA-500-GEN", "CALPOL-500", "CROCIN-500"}
    assert set(by_strength[3:]) == {"DOLO-650", "CALPOL-SUSP"}
    assert await skus("acetaminophen") == await skus("paracetamol")  # synonym
    assert await skus("metfor") == ["GLYCIPHAGE-500", "GLYCOMET-500"]  # prefix, cheapest first
    assert await skus("zzzz") == []
    bad = await call(client, "GET", "/medicines", None, 422)
    assert bad["error"]["details"][0]["field"] == "q"

    crocin = (await call(client, "GET", "/medicines", params={"q": "crocin"}))["items"]
    item = next(m for m in crocin if m["sku"] == "CROCIN-500")
    assert (item["schedule"], item["rx_required"], item["price"]) == ("OTC", False, "22.50")
    view = await call(client, "GET", f"/medicines/{item['id']}")
    alternatives = [m["sku"] for m in view["alternatives"]]
    # Same strength first (cheapest first), then other strengths and forms.
    assert alternatives[:2] == ["PARA-500-GEN", "CALPOL-500"]
    assert set(alternatives[2:]) == {"DOLO-650", "CALPOL-SUSP"}
    azee = (await call(client, "GET", "/medicines", params={"q": "azee"}))["items"][0]
    assert (azee["schedule"], azee["rx_required"]) == ("H", True)
