"""The Streamlit pages render the real core (embedded default) under AppTest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
UI = REPO / "ui"


@pytest.fixture(autouse=True)
def fresh_services(indexed_home: Path) -> Iterator[None]:
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_app_entry_point_renders_the_ask_page() -> None:
    at = AppTest.from_file(str(UI / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "Ask Panelist"
    assert "grader: **embedded**" in at.caption[0].value


def test_ask_answers_with_sources() -> None:
    at = AppTest.from_file(str(UI / "pages" / "ask.py"), default_timeout=120).run()
    at.chat_input[0].set_value("explain concept drift").run()
    assert not at.exception
    texts = " ".join(m.value for m in at.markdown)
    assert "What is concept drift" in texts
    assert "P(y|x)" in texts
    assert at.expander[0].label == "Sources"


def test_knowledge_page_browses_by_step() -> None:
    at = AppTest.from_file(str(UI / "pages" / "knowledge.py"), default_timeout=120).run()
    assert not at.exception
    at.selectbox[0].select_index(6).run()
    labels = [e.label for e in at.expander]
    assert any("concept drift" in label.lower() for label in labels)
