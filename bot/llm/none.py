"""The `none` backend: Panelist runs without any language model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from bot.llm.base import LLMNotConfigured, Message, T

_HOW = (
    "no LLM is configured (PANELIST_LLM=none); the deterministic interviewer and the "
    "embedded grader are used. Set OPENAI_BASE_URL / OPENAI_API_KEY or PANELIST_LLM=local "
    "to use one."
)


class NoModel:
    """A ChatModel that refuses every call, so callers fall back explicitly."""

    name = "none"

    def chat(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        raise LLMNotConfigured(_HOW)

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int | None = None
    ) -> Iterator[str]:
        raise LLMNotConfigured(_HOW)

    def structured(
        self, messages: Sequence[Message], schema: type[T], *, max_tokens: int | None = None
    ) -> T:
        raise LLMNotConfigured(_HOW)
