"""Grading: per-point verdicts with evidence, a score computed in code, and feedback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from bot.grading.embedded import EmbeddedGrader
from bot.grading.keyword import KeywordGrader
from bot.grading.llm_judge import HybridGrader, LLMJudge
from bot.grading.models import Feedback, Grade, PointVerdict, Status
from bot.grading.scoring import weighted_score
from bot.llm import ChatModel, NoModel
from knowledge.models import RubricPoint

GraderKind = Literal["embedded", "llm", "hybrid", "keyword"]


class Grader(Protocol):
    name: str

    def grade(self, answer: str, points: Sequence[RubricPoint], question: str = "") -> Grade: ...


def make_grader(
    kind: GraderKind, model: ChatModel | None = None, embedded: EmbeddedGrader | None = None
) -> Grader:
    """The grader of that kind; LLM kinds need a model and fall back to the embedded grader."""
    embedded = embedded or EmbeddedGrader()
    if kind == "embedded":
        return embedded
    if kind == "keyword":
        return KeywordGrader()
    if model is None or isinstance(model, NoModel):
        raise ValueError(
            f"the {kind} grader needs an LLM: set OPENAI_BASE_URL / OPENAI_API_KEY or "
            "PANELIST_LLM=local"
        )
    judge = LLMJudge(model, fallback=embedded)
    return judge if kind == "llm" else HybridGrader(judge)


__all__ = [
    "EmbeddedGrader",
    "Feedback",
    "Grade",
    "Grader",
    "GraderKind",
    "HybridGrader",
    "KeywordGrader",
    "LLMJudge",
    "PointVerdict",
    "Status",
    "make_grader",
    "weighted_score",
]
