"""The narrow interface every chat backend implements, and its errors.

A backend does three things: answer a conversation, stream the answer, and
return a validated pydantic object. Everything else (prompts, retries around
grading, fallbacks) lives above this layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

T = TypeVar("T", bound=BaseModel)

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


def system(content: str) -> Message:
    return Message(role="system", content=content)


def user(content: str) -> Message:
    return Message(role="user", content=content)


class LLMError(Exception):
    """Base class: the LLM could not produce a usable answer."""

    reason = "error"


class LLMNotConfigured(LLMError):
    reason = "not-configured"


class LLMUnavailable(LLMError):
    """The endpoint refused the connection, or the model could not be loaded."""

    reason = "unavailable"


class LLMTimeout(LLMError):
    reason = "timeout"


class LLMRefused(LLMError):
    """The endpoint answered with an error status (bad model name, bad request, ...)."""

    reason = "refused"


class LLMInvalidOutput(LLMError):
    """Structured output did not validate after the allowed retries."""

    reason = "invalid-output"

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw


@runtime_checkable
class ChatModel(Protocol):
    """What the interviewer and the judge need from a language model."""

    @property
    def name(self) -> str: ...

    def chat(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str: ...

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int | None = None
    ) -> Iterator[str]: ...

    def structured(
        self, messages: Sequence[Message], schema: type[T], *, max_tokens: int | None = None
    ) -> T: ...


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_json_reply(raw: str, schema: type[T]) -> T:
    """Validate a model's JSON reply, tolerating code fences and prose around the object."""
    text = _FENCE.sub("", raw.strip())
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end <= start:
        raise LLMInvalidOutput(f"reply holds no JSON object for {schema.__name__}", raw)
    try:
        return schema.model_validate(json.loads(text[start : end + 1]))
    except (json.JSONDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise LLMInvalidOutput(f"reply is not a valid {schema.__name__}: {first}", raw) from exc


def schema_instruction(schema: type[BaseModel]) -> str:
    """Tell a model that only supports JSON mode which object to return."""
    return (
        "Reply with one JSON object and nothing else. It must validate against this JSON schema:\n"
        + json.dumps(schema.model_json_schema(), separators=(",", ":"))
    )


ReplyFn = Callable[[Sequence[Message]], str]


def structured_with_retries(
    ask: ReplyFn, messages: Sequence[Message], schema: type[T], retries: int
) -> T:
    """Ask for JSON, validate, and re-ask with the validation error up to `retries` times."""
    convo = [*messages, system(schema_instruction(schema))]
    last: LLMInvalidOutput | None = None
    for _ in range(retries + 1):
        raw = ask(convo)
        try:
            return parse_json_reply(raw, schema)
        except LLMInvalidOutput as exc:
            last = exc
            convo = [
                *convo,
                Message(role="assistant", content=raw[:2000]),
                user(f"That was not valid: {exc}. Reply with the corrected JSON object only."),
            ]
    assert last is not None
    raise last
