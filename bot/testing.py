"""Fakes that ship with Panelist, for its own tests, the eval harness and users' tests.

- `QueueChatModel`: replies from a queue, in order; an exception in the queue
  is raised instead, so timeouts and refusals can be scripted.
- `FunctionChatModel`: replies with whatever a function of the messages returns.
- `HashEmbedder`: a deterministic bag-of-words embedder for code where the
  embedding model is not what is under test.

All fakes record the requests they received in `.requests`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from bot.llm.base import LLMError, Message, T, structured_with_retries

Reply = str | BaseException


@dataclass
class Request:
    messages: list[Message]
    max_tokens: int | None
    schema: str | None = None


class _RecordingModel:
    name = "fake"

    def __init__(self, *, retries: int = 1) -> None:
        self.retries = retries
        self.requests: list[Request] = []

    def _reply(self, messages: Sequence[Message]) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def chat(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        self.requests.append(Request(list(messages), max_tokens))
        return self._reply(messages)

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int | None = None
    ) -> Iterator[str]:
        text = self.chat(messages, max_tokens=max_tokens)
        # Word-sized pieces, like a real stream.
        yield from re.findall(r"\S+\s*|\s+", text)

    def structured(
        self, messages: Sequence[Message], schema: type[T], *, max_tokens: int | None = None
    ) -> T:
        def ask(convo: Sequence[Message]) -> str:
            self.requests.append(Request(list(convo), max_tokens, schema.__name__))
            return self._reply(convo)

        return structured_with_retries(ask, messages, schema, self.retries)


class QueueChatModel(_RecordingModel):
    """Replies with the queued strings in order; queued exceptions are raised."""

    name = "fake:queue"

    def __init__(self, replies: Iterable[Reply] = (), *, retries: int = 1) -> None:
        super().__init__(retries=retries)
        self.replies: deque[Reply] = deque(replies)

    def add(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def _reply(self, messages: Sequence[Message]) -> str:
        if not self.replies:
            raise LLMError("QueueChatModel has no replies left")
        reply = self.replies.popleft()
        if isinstance(reply, BaseException):
            raise reply
        return reply


class FunctionChatModel(_RecordingModel):
    """Replies with `function(messages)`; the function may raise to simulate failures."""

    name = "fake:function"

    def __init__(self, function: Callable[[Sequence[Message]], str], *, retries: int = 1) -> None:
        super().__init__(retries=retries)
        self.function = function

    def _reply(self, messages: Sequence[Message]) -> str:
        return self.function(messages)


class HashEmbedder:
    """Deterministic embeddings from hashed word counts (no model, no network).

    Texts that share words get similar vectors, which is enough to exercise
    storage and retrieval code paths; it is not a semantic model.
    """

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.requests: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.requests.append(list(texts))
        return [self._one(t) for t in texts]

    def _one(self, text: str) -> list[float]:
        vec = [0.0] * self.dim
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vec[int.from_bytes(digest[:4], "little") % self.dim] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]
