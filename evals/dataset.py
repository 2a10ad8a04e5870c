"""Labelled grading cases (JSONL, one case a line), validated strictly with file and line on error."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from knowledge.models import Citation, RubricPoint

DATASETS = Path(__file__).resolve().parent / "datasets"
GRADING = DATASETS / "grading.v1.jsonl"
BLIND = DATASETS / "grading_blind.v1.jsonl"
"""Fresh answers to the 17 test questions of GRADING, one per tag, written and labelled after
the grader (agreement v3, calibration v8) was frozen, by writers who saw neither the dataset,
the corpus nor any grader output; read once with that grader (and once by a candidate it
rejected, calibration v9). GRADING's test split had been read five times while the grader
was tuned, so this set is the clean measurement."""
DEV_FRESH = DATASETS / "grading_dev_fresh.v1.jsonl"
"""Fresh answers to the 36 dev questions of GRADING, one per tag, written like BLIND. No fit
reads them: `evals/fit_calibration.py` grades them with what it fitted, as a check on dev
that does not spend the test split."""
ATTACK_TAGS = ("stuffing", "injection", "wrong")
NOTHING_DESERVED_TAGS = ("empty", "offtopic", "stuffing")
"""Answers that earn nothing however the grader reads them: no answer, or none to this question."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CasePoint(Strict):
    id: str
    text: str
    weight: float = Field(default=1.0, gt=0)


class Gold(Strict):
    covered: list[str] | None = None
    partial: list[str] | None = None
    contradicted: list[str] | None = None
    """Points the answer states wrongly (its opposite, a wrong number or definition)."""
    score: float = Field(ge=0, le=4)


class EvalCase(Strict):
    id: str
    question: str
    rubric: list[CasePoint] | None = None
    reference: str | None = None
    answer: str
    gold: Gold
    tags: list[str] = Field(default_factory=list)
    item_id: str | None = None
    split: str | None = None

    @model_validator(mode="after")
    def _rubric_or_reference(self) -> EvalCase:
        if not self.rubric and not (self.reference and self.reference.strip()):
            raise ValueError("a case needs a rubric or a reference answer")
        if self.rubric:
            ids = {p.id for p in self.rubric}
            for field in ("covered", "partial", "contradicted"):
                unknown = set(getattr(self.gold, field) or []) - ids
                if unknown:
                    raise ValueError(f"gold.{field} names unknown points: {sorted(unknown)}")
            both = set(self.gold.contradicted or []) & (
                set(self.gold.covered or []) | set(self.gold.partial or [])
            )
            if both:
                raise ValueError(f"points both credited and contradicted: {sorted(both)}")
        return self

    @property
    def question_key(self) -> str:
        """Cases about the same question are one cluster for bootstrap intervals."""
        return self.item_id or self.question

    def rubric_points(self, corpus: CorpusPoints | None = None) -> list[RubricPoint]:
        """The case's points; a point that is a corpus question's point carries what the app
        grades it with (keywords, known misconceptions), so the eval grades like the app."""
        cite = Citation(source_id=f"eval:{self.question_key}", title="Eval rubric")
        if self.rubric:
            points = []
            for p in self.rubric:
                known = (corpus or {}).get((self.item_id or "", p.text))
                points.append(
                    RubricPoint(
                        id=p.id,
                        text=p.text,
                        weight=p.weight,
                        keywords=known.keywords if known else [],
                        misconceptions=known.misconceptions if known else [],
                        source=cite,
                    )
                )
            return points
        return points_from_reference(self.reference or "", cite)


CorpusPoints = Mapping[tuple[str, str], RubricPoint]
"""Corpus rubric points by (question item id, point text)."""


@cache
def shipped_points() -> CorpusPoints:
    """The shipped corpus's rubric points, for cases that name a corpus question (`item_id`)."""
    from knowledge.catalog import load_catalog

    return {
        (item.id, point.text): point
        for item in load_catalog().question_items()
        for point in item.rubric
    }


def points_from_reference(reference: str, cite: Citation) -> list[RubricPoint]:
    """Derive rubric points from a reference answer: one point per substantive sentence."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", reference) if s.strip()]
    kept = [s.lstrip("-*• ").strip() for s in sentences if len(s.split()) >= 4]
    return [
        RubricPoint(id=f"r{n}", text=text, weight=1.0, source=cite)
        for n, text in enumerate(kept or [reference.strip()], start=1)
    ]


class DatasetError(ValueError):
    pass


M = TypeVar("M", bound=BaseModel)


def read_jsonl(path: Path, model: type[M]) -> list[M]:
    """One validated record per non-blank line; the first bad line is named by file and line."""
    records = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(model.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: {exc}") from exc
    return records


def load_cases(path: Path, split: str | None = None) -> list[EvalCase]:
    cases, errors = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(EvalCase.model_validate_json(line))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            errors.append(f"{path}:{n}: {where}: {first['msg']}")
    if errors:
        raise DatasetError("\n".join(errors[:20]))
    ids = [c.id for c in cases]
    if len(ids) != len(set(ids)):
        raise DatasetError(f"{path}: duplicate case ids")
    if split:
        cases = [c for c in cases if c.split == split]
        if not cases:
            raise DatasetError(f"{path}: no cases in split {split!r}")
    return cases
