"""The interviewer: a LangGraph state machine over the knowledge base and the grader.

The engine is loaded on first use: `bot.sessions` needs this package's models,
and the engine needs `bot.sessions`, so importing the engine eagerly here
would make the two import each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.interviewer.models import (
    InterviewConfig,
    InterviewerMessage,
    InterviewState,
    Mode,
    Progress,
    Reply,
    Scorecard,
    StepProgress,
)

if TYPE_CHECKING:
    from bot.interviewer.engine import (
        InterviewDeps,
        Interviewer,
        InterviewError,
        build_interviewer,
        choose_grader,
    )

_ENGINE = {"InterviewDeps", "InterviewError", "Interviewer", "build_interviewer", "choose_grader"}


def __getattr__(name: str) -> Any:
    if name in _ENGINE:
        from bot.interviewer import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "InterviewConfig",
    "InterviewDeps",
    "InterviewError",
    "InterviewState",
    "Interviewer",
    "InterviewerMessage",
    "Mode",
    "Progress",
    "Reply",
    "Scorecard",
    "StepProgress",
    "build_interviewer",
    "choose_grader",
]
