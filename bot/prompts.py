"""Prompts live in `prompts/*.md` with `{named}` variables; a missing variable is an error."""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parents[1] / "prompts"


class MissingVariables(KeyError):
    def __init__(self, name: str, missing: set[str]) -> None:
        super().__init__(f"prompt {name!r} needs variables: {', '.join(sorted(missing))}")
        self.missing = missing


@lru_cache(maxsize=64)
def template(name: str) -> str:
    path = PROMPTS_DIR / f"{name}.md"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt named {name!r} in {PROMPTS_DIR}")
    return path.read_text(encoding="utf-8")


def variables(name: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template(name)) if field}


def render(name: str, **values: object) -> str:
    """Fill a prompt; every variable it names must be given (an empty string counts)."""
    missing = variables(name) - values.keys()
    if missing:
        raise MissingVariables(name, missing)
    return template(name).format_map({k: str(v) for k, v in values.items()})
