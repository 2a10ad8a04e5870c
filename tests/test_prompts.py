from __future__ import annotations

import pytest

from bot.prompts import PROMPTS_DIR, MissingVariables, render, variables


def test_every_prompt_declares_variables() -> None:
    for path in PROMPTS_DIR.glob("*.md"):
        assert variables(path.stem), f"{path.name} has no variables"


def test_missing_variable_is_an_error() -> None:
    with pytest.raises(MissingVariables, match="context"):
        render("explain", question="what is drift?")


def test_render_fills_values() -> None:
    text = render("explain", question="what is drift?", context="[1] drift is ...")
    assert "what is drift?" in text and "[1] drift is" in text
