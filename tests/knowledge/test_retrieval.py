"""Retrieval over the persistent index: API, quality floors on the query sets, persistence."""

from __future__ import annotations

import json
import re

import pytest

from tests.knowledge.conftest import load_queries

pytestmark = pytest.mark.models


def hits(kb, queries: list[dict], k: int) -> float:
    good = 0
    for item in queries:
        ids = [p.id for p in kb.search(item["q"], k=k)]
        good += any(i in item["expect"] for i in ids)
    return good / len(queries)


def test_search_returns_passages_best_first(kb) -> None:
    from dhanvantri.knowledge import Passage

    passages = kb.search("burning while passing urine", k=3)
    assert [type(p) for p in passages] == [Passage] * 3
    assert passages[0].id == "uti"
    assert passages[0].source and passages[0].title and passages[0].text
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True) and -1 <= scores[-1] <= scores[0] <= 1
    assert set(passages[0].to_dict()) == {"id", "title", "score", "text", "source"}


def test_k_and_empty_queries(kb) -> None:
    assert len(kb.search("fever", k=5)) == 5
    assert kb.search("   ") == []
    with pytest.raises(ValueError):
        kb.search("fever", k=0)


def test_passages_carry_no_medicine_or_dose(kb) -> None:
    generics = {m.generic.split()[0] for c in kb.conditions for m in c.medicines}
    for passage in kb.search("fever with cough and body ache", k=10):
        text = passage.text.lower()
        assert not re.search(r"\d+\s*(mg|mcg|ml)\b", text)
        assert not any(re.search(rf"\b{re.escape(g)}\b", text) for g in generics
                       if g not in {"oral"}), passage.id


def test_hit_at_3_on_patient_queries(kb) -> None:
    queries = load_queries("kb_queries.json")
    assert len(queries) >= 40
    assert hits(kb, queries, 3) >= 0.95  # measured 0.983 (60 queries)
    assert hits(kb, queries, 1) >= 0.85  # measured 0.917


def test_hit_at_3_on_held_out_queries(kb) -> None:
    # Written after the lexicon was tuned and never tuned against.
    queries = load_queries("kb_queries_holdout.json")
    assert hits(kb, queries, 3) >= 0.9  # measured 1.0 (30 queries)


def test_hinglish_words_are_understood(kb) -> None:
    assert "tuberculosis" in [p.id for p in kb.search("khansi teen hafte se, balgam mein khoon")]
    assert "gastroenteritis" in [p.id for p in kb.search("dast aur ulti ho rahi hai")]


def test_reopening_reuses_the_index(kb_settings, embedder, monkeypatch) -> None:
    from dhanvantri.knowledge import KnowledgeBase, index

    def no_build(*args, **kwargs):
        raise AssertionError("index rebuilt although it is current")

    monkeypatch.setattr(index, "build", no_build)
    again = KnowledgeBase.open(kb_settings, embedder=embedder)
    assert again.search("itching at night", k=1)[0].id == "scabies"


def test_changed_data_rebuilds_the_index(kb, kb_settings, embedder, monkeypatch) -> None:
    from dhanvantri.knowledge import KnowledgeBase, index

    path = index.kb_dir(kb_settings)
    assert index.is_current(path, embedder)
    monkeypatch.setattr(index, "data_digest", lambda: "0" * 64)
    assert not index.is_current(path, embedder)
    calls = []
    monkeypatch.setattr(index, "build", lambda *a, **k: calls.append(1) or
                        index.chroma_client(path).get_collection(index.COLLECTION))
    KnowledgeBase.open(kb_settings, embedder=embedder)
    assert calls == [1]


def test_chroma_telemetry_is_off(kb_settings) -> None:
    from dhanvantri.knowledge import index

    client = index.chroma_client(index.kb_dir(kb_settings))
    assert client.get_settings().anonymized_telemetry is False


def test_cli_query_json(kb, kb_settings, monkeypatch, capsys) -> None:
    from dhanvantri import settings as settings_module
    from dhanvantri.cli import main

    monkeypatch.setattr(settings_module, "get_settings", lambda: kb_settings)
    assert main(["kb", "query", "red sticky eyes", "--k", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [set(p) for p in out] == [{"id", "title", "score", "text", "source"}] * 2
    assert out[0]["id"] == "conjunctivitis"


def test_cli_rejects_bad_input(kb_settings, monkeypatch, capsys) -> None:
    from dhanvantri import settings as settings_module
    from dhanvantri.cli import main

    monkeypatch.setattr(settings_module, "get_settings", lambda: kb_settings)
    assert main(["kb", "query", "  "]) == 2
    assert main(["kb", "query", "fever", "--k", "0"]) == 2
    assert "must" in capsys.readouterr().err


def test_setup_step_is_registered_and_done_once_built(kb, kb_settings, monkeypatch) -> None:
    from dhanvantri import models
    from dhanvantri import settings as settings_module
    from dhanvantri.knowledge import setup

    assert setup.STEP in models._STEPS
    monkeypatch.setattr(settings_module, "get_settings", lambda: kb_settings)
    assert setup.STEP.is_done()
