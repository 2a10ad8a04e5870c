from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import JudgeChoice, LLMBackend, Settings


def test_defaults_resolve_to_no_llm_and_embedded_judge(home: Path) -> None:
    s = Settings()
    assert s.home == home
    assert s.resolved_llm() is LLMBackend.NONE
    assert s.resolved_judge() is JudgeChoice.EMBEDDED


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({"OPENAI_API_KEY": "sk-test-123"}, LLMBackend.OPENAI, id="key"),
        pytest.param({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, LLMBackend.OPENAI, id="url"),
        pytest.param({"OPENAI_API_KEY": "   "}, LLMBackend.NONE, id="blank-key"),
        pytest.param({"PANELIST_LLM": "local"}, LLMBackend.LOCAL, id="explicit-local"),
        pytest.param(
            {"PANELIST_LLM": "none", "OPENAI_API_KEY": "sk-x"}, LLMBackend.NONE, id="explicit-none"
        ),
    ],
)
def test_auto_backend(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: LLMBackend
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert Settings().resolved_llm() is expected


def test_judge_follows_backend_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert Settings().resolved_judge() is JudgeChoice.LLM
    monkeypatch.setenv("PANELIST_JUDGE", "embedded")
    assert Settings().resolved_judge() is JudgeChoice.EMBEDDED


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PANELIST_MODEL=qwen2.5:7b\nPANELIST_TIMEOUT_S=12\n")
    s = Settings()
    assert s.model == "qwen2.5:7b"
    assert s.timeout_s == 12


def test_invalid_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANELIST_LLM", "gpt5")
    with pytest.raises(ValidationError, match="llm"):
        Settings()


def test_secret_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-very-secret-value-42"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    s = Settings()
    assert secret not in repr(s)
    assert secret not in str(s.model_dump())
    assert all(secret not in v for v in s.masked().values())
    assert s.api_key is not None and s.api_key.get_secret_value() == secret
