from __future__ import annotations

import socket

import pytest

from tests.conftest import LiveNetworkBlocked


def test_non_loopback_connections_are_blocked() -> None:
    with pytest.raises(LiveNetworkBlocked), socket.socket() as s:
        s.connect(("93.184.216.34", 80))


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
