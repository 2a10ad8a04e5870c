from __future__ import annotations

import pytest
from pydantic import BaseModel

from bot.llm import LLMInvalidOutput, LLMTimeout, NoModel, user
from bot.llm.base import LLMNotConfigured, parse_json_reply
from bot.testing import FunctionChatModel, HashEmbedder, QueueChatModel


class Verdict(BaseModel):
    point: str
    covered: bool


def test_queue_model_replies_in_order_and_records() -> None:
    model = QueueChatModel(["first", "second"])
    assert model.chat([user("a")]) == "first"
    assert "".join(model.stream([user("b")])) == "second"
    assert [r.messages[-1].content for r in model.requests] == ["a", "b"]


def test_queue_model_raises_queued_errors() -> None:
    model = QueueChatModel([LLMTimeout("slow")])
    with pytest.raises(LLMTimeout):
        model.chat([user("x")])


def test_structured_retries_with_the_error_then_succeeds() -> None:
    model = QueueChatModel(["not json at all", '{"point": "p1", "covered": true}'], retries=1)
    assert model.structured([user("grade")], Verdict) == Verdict(point="p1", covered=True)
    assert len(model.requests) == 2
    assert "not valid" in model.requests[1].messages[-1].content


def test_structured_gives_up_with_typed_error_and_raw_text() -> None:
    model = QueueChatModel(['{"point": 3}', '{"covered": "maybe"}'], retries=1)
    with pytest.raises(LLMInvalidOutput) as info:
        model.structured([user("grade")], Verdict)
    assert info.value.raw == '{"covered": "maybe"}'


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param('```json\n{"point": "p", "covered": false}\n```', id="fenced"),
        pytest.param('Sure! {"point": "p", "covered": false} Hope it helps.', id="prose"),
    ],
)
def test_parse_json_reply_tolerates_wrapping(raw: str) -> None:
    assert parse_json_reply(raw, Verdict).covered is False


def test_function_model_sees_messages() -> None:
    model = FunctionChatModel(lambda msgs: msgs[-1].content.upper())
    assert model.chat([user("hey")]) == "HEY"


def test_no_model_refuses_with_how_to_fix() -> None:
    with pytest.raises(LLMNotConfigured, match="OPENAI_BASE_URL"):
        NoModel().chat([user("x")])


def test_hash_embedder_is_deterministic_and_word_sensitive() -> None:
    emb = HashEmbedder(dim=32)
    a, b, c = emb.embed(["concept drift", "concept drift", "pizza oven"])
    assert a == b
    assert sum(x * y for x, y in zip(a, c, strict=True)) < 0.99
