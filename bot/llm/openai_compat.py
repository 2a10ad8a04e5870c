"""Any OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp server) via langchain-openai."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import openai

from bot.llm.base import (
    LLMError,
    LLMInvalidOutput,
    LLMRefused,
    LLMTimeout,
    LLMUnavailable,
    Message,
    T,
    parse_json_reply,
    structured_with_retries,
)

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

log = logging.getLogger(__name__)

# Local servers ignore the key but the client insists on one.
_PLACEHOLDER_KEY = "not-needed"


def _translate(exc: Exception) -> LLMError:
    """Map client exceptions to our typed errors; the message never contains the key."""
    if isinstance(exc, openai.APITimeoutError):
        return LLMTimeout(f"the endpoint did not answer in time ({type(exc).__name__})")
    if isinstance(exc, openai.APIConnectionError):
        return LLMUnavailable(f"cannot connect to the endpoint: {exc.__cause__ or exc}")
    if isinstance(exc, openai.APIStatusError):
        return LLMRefused(f"the endpoint answered HTTP {exc.status_code}: {_short(exc.message)}")
    return LLMError(f"{type(exc).__name__}: {_short(str(exc))}")


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


class OpenAICompatible:
    """Chat model over an OpenAI-compatible HTTP API.

    The langchain client is built on first use. `max_tokens` travels in
    `extra_body` because llama.cpp's server ignores `max_completion_tokens`,
    which is what langchain-openai sends. Structured output asks for
    `json_schema` and, after the first refusal, uses `json_object` plus the
    schema in the prompt for the rest of this model's life.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        retries: int = 2,
        max_tokens: int = 512,
        temperature: float = 0.2,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.retries = retries
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._client: ChatOpenAI | None = None
        self.json_schema_supported: bool | None = None

    @property
    def name(self) -> str:
        return f"openai:{self.model}" + (f"@{self.base_url}" if self.base_url else "")

    def __repr__(self) -> str:
        return f"OpenAICompatible(model={self.model!r}, base_url={self.base_url!r})"

    def _chat_client(self) -> ChatOpenAI:
        if self._client is None:
            from langchain_openai import ChatOpenAI

            self._client = ChatOpenAI(
                model=self.model,
                base_url=self.base_url,
                api_key=self._api_key or _PLACEHOLDER_KEY,
                timeout=self.timeout_s,
                max_retries=self.retries,
                temperature=self.temperature,
            )
        return self._client

    def _payload(self, max_tokens: int | None) -> dict[str, Any]:
        return {"extra_body": {"max_tokens": max_tokens or self.max_tokens}}

    @staticmethod
    def _as_langchain(messages: Sequence[Message]) -> list[tuple[str, str]]:
        return [(m.role, m.content) for m in messages]

    def chat(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        return self._invoke(messages, max_tokens)

    def _invoke(
        self,
        messages: Sequence[Message],
        max_tokens: int | None,
        response_format: dict[str, Any] | None = None,
    ) -> str:
        kwargs = self._payload(max_tokens)
        if response_format is not None:
            kwargs["response_format"] = response_format
        try:
            reply = self._chat_client().invoke(self._as_langchain(messages), **kwargs)
        except Exception as exc:
            raise _translate(exc) from exc
        return reply.text if isinstance(reply.text, str) else str(reply.content)

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int | None = None
    ) -> Iterator[str]:
        try:
            for chunk in self._chat_client().stream(
                self._as_langchain(messages), **self._payload(max_tokens)
            ):
                if chunk.text:
                    yield chunk.text
        except LLMError:
            raise
        except Exception as exc:
            raise _translate(exc) from exc

    def structured(
        self, messages: Sequence[Message], schema: type[T], *, max_tokens: int | None = None
    ) -> T:
        if self.json_schema_supported is not False:
            strict = {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
            }
            try:
                raw = self._invoke(messages, max_tokens, strict)
                self.json_schema_supported = True
                return parse_json_reply(raw, schema)
            except LLMRefused as exc:
                log.info("json_schema refused (%s); falling back to json_object", exc)
                self.json_schema_supported = False
            except LLMInvalidOutput:
                pass  # retried below in JSON mode, with the error shown to the model
        return structured_with_retries(
            lambda convo: self._invoke(convo, max_tokens, {"type": "json_object"}),
            messages,
            schema,
            self.retries,
        )
