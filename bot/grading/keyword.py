"""Baseline: a point counts as covered when enough of its keywords appear. Easy to game."""

from __future__ import annotations

from collections.abc import Sequence

from bot.grading.models import Grade, PointVerdict, Status
from bot.grading.scoring import assemble_grade
from bot.grading.text import content_words
from knowledge.models import RubricPoint


class KeywordGrader:
    name = "keyword"

    def __init__(self, covered_at: float = 0.5, partial_at: float = 0.25) -> None:
        self.covered_at = covered_at
        self.partial_at = partial_at

    def grade(self, answer: str, points: Sequence[RubricPoint], question: str = "") -> Grade:
        words = set(content_words(answer))
        lower = answer.lower()
        verdicts = []
        for p in points:
            cues = [k.lower() for k in p.keywords if k.strip()]
            if cues:
                hit = sum(c in lower for c in cues) / len(cues)
            else:
                terms = set(content_words(p.text))
                hit = len(terms & words) / len(terms) if terms else 0.0
            status = (
                Status.COVERED
                if hit >= self.covered_at
                else Status.PARTIAL
                if hit >= self.partial_at
                else Status.MISSED
            )
            verdicts.append(PointVerdict(point_id=p.id, status=status, confidence=round(hit, 3)))
        return assemble_grade(verdicts, points, self.name, chars_graded=len(answer))
