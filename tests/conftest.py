"""Shared fixtures: an isolated data directory, no live network, a session-wide index."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REFERENCE_DOCS = SHARED / "reference-docs"
ARTIFACTS = REPO / "test-artifacts"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-live", action="store_true", help="allow tests to reach hosts beyond 127.0.0.1"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-live"):
        return
    skip = pytest.mark.skip(reason="live network test: pass --run-live")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


def _is_local(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return isinstance(address, str | bytes)  # AF_UNIX sockets are local
    host = str(address[0])
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LiveNetworkBlocked(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _block_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only loopback connections are allowed unless the test is marked live and --run-live."""
    if request.config.getoption("--run-live") and "live" in request.keywords:
        return
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded(self: socket.socket, address: object) -> object:
        if not _is_local(address):
            raise LiveNetworkBlocked(f"test tried to reach {address!r}; live network is blocked")
        return real_connect(self, address)  # type: ignore[arg-type]

    def guarded_ex(self: socket.socket, address: object) -> int:
        if not _is_local(address):
            raise LiveNetworkBlocked(f"test tried to reach {address!r}; live network is blocked")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_ex)


_CONFIG_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data directory and a clean configuration."""
    for var in list(os.environ):
        if var.startswith("PANELIST_") or var in _CONFIG_VARS:
            monkeypatch.delenv(var, raising=False)
    data = tmp_path / "panelist-home"
    monkeypatch.setenv("PANELIST_HOME", str(data))
    # Keep a developer's own .env out of the tests.
    monkeypatch.chdir(tmp_path)
    return data


@pytest.fixture(scope="session")
def indexed_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped corpus indexed once per session; tests copy it rather than re-embed."""
    from bot.settings import Settings
    from knowledge.ingest import ensure_index

    root = tmp_path_factory.mktemp("indexed")
    ensure_index(Settings(home=root))
    return root


@pytest.fixture
def indexed_home(indexed_template: Path, home: Path) -> Path:
    """A private, writable copy of the indexed data directory."""
    shutil.copytree(indexed_template, home)
    return home


@pytest.fixture
def settings(home: Path):  # type: ignore[no-untyped-def]
    from bot.settings import Settings

    return Settings()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def artifacts() -> Iterator[Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    yield ARTIFACTS
