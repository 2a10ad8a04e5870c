from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import free_port
from tests.llm_server import llama_server

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    """Exit code and output with rich's line wrapping undone."""
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_doctor_passes_on_the_embedded_default(indexed_home: Path) -> None:
    code, out = run("doctor")
    assert code == 0, out
    assert "none: deterministic interviewer" in out
    assert "all-MiniLM-L6-v2" in out
    assert "grader agreement model: agreement.v3" in out
    assert "All checks passed" in out


def test_doctor_wrong_base_url_fails_and_says_how_to_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "sk-doctor-secret-000111"
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    code, out = run("doctor")
    assert code == 1
    assert "FAIL llm endpoint" in out
    assert "cannot reach" in out
    assert "how to fix" in out and "OPENAI_BASE_URL" in out
    assert secret not in out


def test_doctor_reports_an_unanswering_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{silent.getsockname()[1]}/v1")
        monkeypatch.setenv("PANELIST_TIMEOUT_S", "1")
        code, out = run("doctor")
    assert code == 1
    assert "did not answer" in out


@pytest.mark.slow
def test_doctor_accepts_a_running_llama_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, indexed_home: Path
) -> None:
    with llama_server(tmp_path) as url:
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("PANELIST_MODEL", "smollm2")
        code, out = run("doctor")
    assert code == 0, out
    assert f"{url} is reachable" in out


def test_doctor_local_backend_with_a_bad_model_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"not a gguf file at all")
    monkeypatch.setenv("PANELIST_LLM", "local")
    monkeypatch.setenv("PANELIST_GGUF_PATH", str(fake))
    code, out = run("doctor")
    assert code == 1
    assert "is not a GGUF file" in out


def test_invalid_configuration_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANELIST_RETRIES", "many")
    code, out = run("doctor")
    assert code == 2
    assert "Invalid configuration" in out
