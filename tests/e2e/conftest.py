"""A real `streamlit run` server over a private data directory, and Debian's Chromium.

The server and the browser are shared by the tests of a module (starting them
is the slow part); every test opens its own browser context, so no page state
leaks between tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO, free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_S = 90


@dataclass(frozen=True)
class Server:
    url: str
    home: Path
    pid: int
    log: Path


def _clean_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PANELIST_", "STREAMLIT_"))
        and k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")
    }
    env.update(
        PANELIST_HOME=str(home),
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        PYTHONPATH=str(REPO),
    )
    return env


@pytest.fixture(scope="module")
def server(indexed_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`streamlit run ui/app.py` on a free localhost port; stopped by PID at the end."""
    root = tmp_path_factory.mktemp("e2e")
    home = root / "panelist-home"
    shutil.copytree(indexed_template, home)
    port = free_port()
    log = root / "streamlit.log"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO / "ui" / "app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=_clean_env(home), stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).text.strip() == "ok":
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer within {STARTUP_S} s:\n{log.read_text()}")
            time.sleep(0.5)
        yield Server(url, home, proc.pid, log)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/setup.sh dev` (it installs Chromium)")
    from playwright.sync_api import expect, sync_playwright

    # The first page load builds the services (embeddings, store) on a shared 2-core machine.
    expect.set_options(timeout=90_000)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Any, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Open pages in fresh browser contexts (separate cookies and Streamlit sessions)."""
    pages: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        context.set_default_timeout(90_000)
        pages.append(context.new_page())
        return pages[-1]

    yield open_page
    for n, page in enumerate(pages):
        # The last view of every page, kept for diagnosing a failure.
        page.screenshot(path=str(artifacts / f"last-{request.node.name}-{n}.png"))
        page.context.close()
