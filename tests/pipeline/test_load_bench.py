"""benchmarks/load_ws.py's stand-in for a hosted LLM: it streams over the OpenAI protocol what it
says it will, its words pass the reply checks (so the load test measures spoken replies, not
templates), and bad usage exits 2."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from dhanvantri.pipeline.llm_openai import OpenAIChat
from dhanvantri.pipeline.responder import Responder
from dhanvantri.pipeline.services import ChatMessage
from tests.support.scripts import assert_usage_error, load_benchmark

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
QUESTION = "Since when have you had this? For example, how many days?"
REQUEST = (
    "I have had a fever and a dry cough for three days."
    "\n(Understood from this turn: fever and dry cough for three days)"
    f"\n(Reply in at most two short spoken sentences: first show you understood, then ask "
    f"exactly this: {QUESTION})"
)


@pytest.fixture(scope="module")
def stand_in() -> Iterator[ModuleType]:
    yield load_benchmark("stand_in_llm")
    sys.modules.pop("stand_in_llm", None)


async def test_it_streams_its_reply_over_the_openai_protocol(stand_in: ModuleType) -> None:
    llm = stand_in.StandInLLM(ttft_ms=10, tokens_per_s=500)
    await llm.start()
    chat = OpenAIChat(base_url=llm.base_url, model="stand-in", max_tokens=60)
    try:
        messages = [ChatMessage("system", "You are kind."), ChatMessage("user", REQUEST)]
        pieces = [piece async for piece in chat.stream(messages)]
    finally:
        await chat.close()
        await llm.stop()
    expected = stand_in.reply_for([{"role": "user", "content": REQUEST}])
    assert "".join(pieces) == expected and len(pieces) == len(expected.split(" "))
    assert llm.requests == 1
    assert expected.startswith("Thank you, I have noted fever and dry cough for three days.")
    assert "how many days?" in expected and QUESTION not in expected  # its own words


def test_its_sentences_pass_the_reply_checks(stand_in: ModuleType) -> None:
    reply = stand_in.reply_for([{"role": "user", "content": REQUEST}])
    opening, question = reply.split(". ", 1)
    heard = "I have had a fever and a dry cough for three days."
    assert Responder._check(opening + ".", heard, QUESTION, first=True) == "speak"
    assert Responder._check(question, heard, QUESTION, first=False) == "speak"


def test_it_only_asks_when_the_assistant_already_acknowledged(stand_in: ModuleType) -> None:
    from dhanvantri.pipeline.frames import GuidanceFrame

    responder = Responder(None, style="converse")  # type: ignore[arg-type]
    responder._user_text = "I have had a fever and a dry cough for three days."
    responder._guidance = GuidanceFrame(instruction=QUESTION, topic="duration",
                                        acknowledgement="Fever and dry cough, noted.")
    request = responder.messages()[-1].content
    reply = stand_in.reply_for([{"role": "user", "content": request}])
    assert reply == "Could you tell me, since when have you had this? For example, how many days?"


@pytest.mark.parametrize("args", [("--llm", "hosted"), ("--llm-tokens-per-s", "x")])
def test_bad_usage_exits_2(args: tuple[str, ...]) -> None:
    assert_usage_error(BENCHMARKS / "load_ws.py", *args)
