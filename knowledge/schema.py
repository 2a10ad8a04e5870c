"""Pydantic models for everything the knowledge base reads from files.

Every model that is read from YAML forbids unknown keys, so a typo in a
corpus file is an error with a file and line, never a silently ignored field.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", max_length=80)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3)]


class Step(StrEnum):
    """The seven steps of the ML system design framework, in interview order."""

    REQUIREMENTS = "requirements"
    FRAMING = "framing"
    DATA = "data"
    MODELING = "modeling"
    EVALUATION = "evaluation"
    DEPLOYMENT = "deployment"
    MONITORING = "monitoring"

    @property
    def number(self) -> int:
        return list(Step).index(self) + 1

    @property
    def label(self) -> str:
        return STEP_TITLES[self]


STEP_TITLES: dict[Step, str] = {
    Step.REQUIREMENTS: "Clarifying requirements",
    Step.FRAMING: "Framing as an ML task",
    Step.DATA: "Data preparation",
    Step.MODELING: "Model development",
    Step.EVALUATION: "Evaluation",
    Step.DEPLOYMENT: "Deployment and serving",
    Step.MONITORING: "Monitoring and infrastructure",
}


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """A work the corpus draws facts from; cited next to every rubric point."""

    id: Slug
    title: NonEmpty
    author: str | None = None
    url: str | None = None
    kind: Literal["article", "book", "notes", "authored", "user"] = "article"


class AuthoredPoint(Strict):
    """A rubric point as written in a corpus file; ids are local to their item."""

    id: Annotated[str, StringConstraints(pattern=r"^p[0-9]{1,2}$")]
    text: NonEmpty
    weight: float = Field(default=1.0, ge=0.5, le=3.0)
    probes: list[NonEmpty] = Field(min_length=1, max_length=2)
    keywords: list[str] = Field(default_factory=list)


def _check_point_ids(points: list[AuthoredPoint]) -> list[AuthoredPoint]:
    ids = [p.id for p in points]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"duplicate rubric point ids: {', '.join(dupes)}")
    return points


# A sentence ends at . ! or ? followed by the end, or by a space and a capital or digit,
# so abbreviations such as "e.g. the" do not count as ends.
_SENTENCE_END = re.compile(r"[.!?](?=\s*$|\s+[\"'(]?[A-Z0-9])")


def count_sentences(text: str) -> int:
    return len(_SENTENCE_END.findall(text.strip()))


class FrameworkStep(Strict):
    step: Step
    purpose: NonEmpty
    time_budget_minutes: int = Field(ge=1, le=20)
    opening_question: NonEmpty
    rubric: list[AuthoredPoint] = Field(min_length=6, max_length=10)
    sources: list[Slug] = Field(min_length=1)

    _ids = field_validator("rubric")(_check_point_ids)


class Framework(Strict):
    steps: list[FrameworkStep] = Field(min_length=7, max_length=7)

    @model_validator(mode="after")
    def _steps_in_order(self) -> Framework:
        if [s.step for s in self.steps] != list(Step):
            raise ValueError(f"steps must be listed once each, in order: {', '.join(Step)}")
        return self


class ConceptItem(Strict):
    id: Slug
    question: NonEmpty
    alt_phrasings: list[NonEmpty] = Field(min_length=3)
    rubric: list[AuthoredPoint] = Field(min_length=3, max_length=6)
    model_answer: NonEmpty
    step: Step
    tags: list[Slug] = Field(min_length=1)
    difficulty: Difficulty
    sources: list[Slug] = Field(min_length=1)

    _ids = field_validator("rubric")(_check_point_ids)

    @field_validator("model_answer")
    @classmethod
    def _three_to_six_sentences(cls, value: str) -> str:
        n = count_sentences(value)
        if not 3 <= n <= 6:
            raise ValueError(f"model_answer must have 3-6 sentences, found {n}")
        return value


class ConceptFile(Strict):
    concepts: list[ConceptItem] = Field(min_length=1)


class Assumption(Strict):
    """A fact about the case that the interviewer reveals only when asked."""

    topic: NonEmpty
    text: NonEmpty
    keywords: list[str] = Field(min_length=1)


class DesignCase(Strict):
    id: Slug
    title: NonEmpty
    prompt: NonEmpty
    difficulty: Difficulty
    tags: list[Slug] = Field(min_length=1)
    assumptions: list[Assumption] = Field(min_length=3)
    steps: dict[Step, list[AuthoredPoint]]
    sources: list[Slug] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _every_step_three_to_six(
        cls, value: dict[Step, list[AuthoredPoint]]
    ) -> dict[Step, list[AuthoredPoint]]:
        missing = [s.value for s in Step if s not in value]
        if missing:
            raise ValueError(f"missing steps: {', '.join(missing)}")
        for step, points in value.items():
            if not 3 <= len(points) <= 6:
                raise ValueError(f"step {step.value}: needs 3-6 rubric points, found {len(points)}")
            _check_point_ids(points)
        return value


class SourceFile(Strict):
    sources: list[Source] = Field(min_length=1)


PointRef = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]*#p[0-9]{1,2}$")]
Misconceptions = Annotated[list[NonEmpty], Field(min_length=1, max_length=5)]


class MisconceptionFile(Strict):
    """Confidently stated errors about rubric points, by global point id ("<item>#p1").

    They are the rubric's red flags: the embedded grader checks whether an answer says one
    of them, which a sentence embedding cannot tell from the point itself. They are never
    indexed as knowledge, since every one of them is false.
    """

    misconceptions: dict[PointRef, Misconceptions]
