"""What a grade is: per-point verdicts with evidence, a score computed in code, and why."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge.models import Citation


class Status(StrEnum):
    COVERED = "covered"
    PARTIAL = "partial"
    MISSED = "missed"


# Share of a point's weight each status earns.
CREDIT: dict[Status, float] = {Status.COVERED: 1.0, Status.PARTIAL: 0.5, Status.MISSED: 0.0}


class PointVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    point_id: str
    status: Status
    evidence: str | None = None  # an exact substring of the answer, or None
    confidence: float = Field(ge=0.0, le=1.0)
    note: str = ""
    # The evidence states the opposite of the point: no credit, and a penalty on the score.
    contradicted: bool = False


Flag = Literal[
    "empty",
    "truncated",
    "gibberish",
    "non-english",
    "term-list",
    "manipulation-attempt",
    "repeats-question",
    "contradiction",
]


class Credit(BaseModel):
    model_config = ConfigDict(frozen=True)

    point_id: str
    point: str
    evidence: str
    status: Status


class Miss(BaseModel):
    model_config = ConfigDict(frozen=True)

    point_id: str
    point: str
    weight: float
    citation: Citation | None = None
    contradicted_by: str | None = None  # the answer's words that state the opposite


class Feedback(BaseModel):
    model_config = ConfigDict(frozen=True)

    summary: str
    credited: list[Credit] = Field(default_factory=list)
    missed: list[Miss] = Field(default_factory=list)
    # Quotes of the answer that state the opposite of a point, without naming the point, so
    # they can be shown while the question is still open.
    disputed: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class Grade(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdicts: list[PointVerdict]
    score_0_4: float = Field(ge=0.0, le=4.0)
    grader: str  # "embedded", "llm:<model>", "hybrid:<model>", "keyword"
    fallback_reason: str | None = None
    flags: list[Flag] = Field(default_factory=list)
    feedback: Feedback
    answer_chars_graded: int = 0

    def verdict(self, point_id: str) -> PointVerdict:
        return next(v for v in self.verdicts if v.point_id == point_id)

    @property
    def covered_ids(self) -> list[str]:
        return [v.point_id for v in self.verdicts if v.status is Status.COVERED]
