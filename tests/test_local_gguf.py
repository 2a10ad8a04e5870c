"""The in-process llama-cpp-python backend with the bundled SmolLM2 GGUF."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.llm import LLMInvalidOutput, LLMUnavailable, LocalGGUF, build_chat_model, user
from bot.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_model() -> LocalGGUF:
    pytest.importorskip("llama_cpp", reason="the `local` extra is not installed")
    model = build_chat_model(Settings(llm="local", max_tokens=32))  # type: ignore[call-arg]
    assert isinstance(model, LocalGGUF)
    return model


def test_chat_and_stream(local_model: LocalGGUF) -> None:
    assert local_model.chat([user("Say hi.")]).strip()
    assert "".join(local_model.stream([user("Say hi.")])).strip()


class Pair(BaseModel):
    word: str
    number: int


def test_structured_is_schema_shaped_or_typed_error(local_model: LocalGGUF) -> None:
    try:
        result = local_model.structured([user("Give a word and a number.")], Pair)
    except LLMInvalidOutput as exc:
        assert exc.raw
    else:
        assert isinstance(result, Pair)


def test_missing_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(LLMUnavailable, match="PANELIST_GGUF_PATH"):
        LocalGGUF(tmp_path / "nope.gguf").chat([user("x")])
