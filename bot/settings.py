"""Configuration, read from `PANELIST_*` environment variables and a `.env` file.

Settings are a plain value passed to whatever needs them; nothing here builds
a client. The API key is a `SecretStr` so that printing or logging the
settings never shows it.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class LLMBackend(StrEnum):
    AUTO = "auto"
    OPENAI = "openai"
    LOCAL = "local"
    NONE = "none"


class JudgeChoice(StrEnum):
    AUTO = "auto"
    EMBEDDED = "embedded"
    LLM = "llm"


def default_home() -> Path:
    """The per-user data directory, following the XDG convention."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "panelist"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PANELIST_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    home: Path = Field(default_factory=default_home, description="Data directory (PANELIST_HOME).")
    llm: LLMBackend = Field(LLMBackend.AUTO, description="auto | openai | local | none")
    model: str = Field(
        "gpt-4o-mini", description="Model name sent to the OpenAI-compatible endpoint."
    )
    base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("PANELIST_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1 for Ollama.",
    )
    api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("PANELIST_API_KEY", "OPENAI_API_KEY"),
        description="API key for the endpoint; never logged or written anywhere.",
    )
    gguf_path: Path | None = Field(
        None, description="GGUF model file for the local backend (default: bundled SmolLM2)."
    )
    timeout_s: float = Field(60.0, gt=0, le=600, description="Per-request LLM timeout in seconds.")
    retries: int = Field(2, ge=0, le=10, description="Retries after a failed LLM request.")
    max_tokens: int = Field(512, ge=16, le=32768, description="Completion token limit.")
    judge: JudgeChoice = Field(JudgeChoice.AUTO, description="auto | embedded | llm")
    chroma_url: str | None = Field(None, description="Chroma server URL; unset = embedded store.")

    @field_validator("base_url", "chroma_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip().rstrip("/") or None if value else None

    @field_validator("api_key")
    @classmethod
    def _blank_key_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value and value.get_secret_value().strip() else None

    def resolved_llm(self) -> LLMBackend:
        """`auto` means: use the endpoint when one is configured, else no LLM."""
        if self.llm is not LLMBackend.AUTO:
            return self.llm
        if self.api_key is not None or self.base_url is not None:
            return LLMBackend.OPENAI
        return LLMBackend.NONE

    def resolved_judge(self) -> JudgeChoice:
        if self.judge is not JudgeChoice.AUTO:
            return self.judge
        return JudgeChoice.EMBEDDED if self.resolved_llm() is LLMBackend.NONE else JudgeChoice.LLM

    @property
    def store_dir(self) -> Path:
        return self.home / "store"

    @property
    def db_path(self) -> Path:
        return self.home / "panelist.db"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    def masked(self) -> dict[str, str]:
        """The configuration as strings for display, with the key masked."""
        shown: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "api_key":
                shown[name] = mask_secret(value)
            else:
                shown[name] = "" if value is None else str(value)
        shown["llm (resolved)"] = self.resolved_llm().value
        shown["judge (resolved)"] = self.resolved_judge().value
        return shown


def mask_secret(secret: SecretStr | None) -> str:
    if secret is None:
        return "(not set)"
    return f"set ({len(secret.get_secret_value())} characters, hidden)"
