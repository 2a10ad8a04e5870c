"""The LLM judge: structured per-point verdicts, checked against the answer before credit.

The overall score is still computed in code from the verdicts. Evidence that
is not a verbatim substring of the answer, or that sits in a sentence
addressed to the grader, earns nothing. Any LLM failure (timeout, refusal,
invalid output after the backend's bounded retries) falls back to the
embedded grader, and the grade says so.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from bot.grading.embedded import EmbeddedGrader, prepare
from bot.grading.models import Grade, PointVerdict, Status
from bot.grading.scoring import assemble_grade
from bot.grading.text import Span, manipulation_spans
from bot.llm import ChatModel, LLMError, user
from bot.prompts import render
from knowledge.models import RubricPoint

# Answer-level outcomes that need no LLM call: nothing in such an answer can be credited.
NO_CREDIT_FLAGS = {"empty", "gibberish", "non-english", "term-list", "repeats-question"}


class JudgeVerdict(BaseModel):
    point_id: str
    status: Status
    evidence: str | None = None
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)


class JudgeReply(BaseModel):
    verdicts: list[JudgeVerdict]


JUDGE_MISCONCEPTIONS = 2
"""Known wrong versions shown per point: enough to name the classic error, few tokens."""


def _points_block(points: Sequence[RubricPoint]) -> str:
    lines = []
    for p in points:
        lines.append(f"- {p.id}: {p.text}")
        lines += [f"    wrong: {m}" for m in p.misconceptions[:JUDGE_MISCONCEPTIONS]]
    return "\n".join(lines)


class LLMJudge:
    """Grades with a chat model; `only` restricts which points it is asked about (hybrid)."""

    def __init__(self, model: ChatModel, fallback: EmbeddedGrader | None = None) -> None:
        self.model = model
        self.fallback = fallback or EmbeddedGrader()
        self.name = f"llm:{model.name}"

    def ask(
        self, answer: str, points: Sequence[RubricPoint], question: str
    ) -> dict[str, PointVerdict]:
        """Verdicts from the LLM, validated; raises LLMError when the model fails."""
        prompt = render("judge", question=question, points=_points_block(points), answer=answer)
        reply = self.model.structured([user(prompt)], JudgeReply)
        blocked = manipulation_spans(answer)
        known = {p.id for p in points}
        out: dict[str, PointVerdict] = {}
        for v in reply.verdicts:
            if v.point_id not in known or v.point_id in out:
                continue
            out[v.point_id] = self._checked(v, answer, blocked)
        return out

    @staticmethod
    def _checked(v: JudgeVerdict, answer: str, blocked: Sequence[Span]) -> PointVerdict:
        if v.status is Status.MISSED:
            return PointVerdict(point_id=v.point_id, status=Status.MISSED, confidence=v.confidence)
        evidence = (v.evidence or "").strip()
        at = answer.find(evidence) if evidence else -1
        if at < 0 or len(evidence) < 8:
            return PointVerdict(
                point_id=v.point_id,
                status=Status.MISSED,
                confidence=v.confidence,
                note="not credited: the judge's evidence is not a verbatim quote of the answer",
            )
        if any(b.start < at + len(evidence) and at < b.end for b in blocked):
            return PointVerdict(
                point_id=v.point_id,
                status=Status.MISSED,
                confidence=v.confidence,
                note="not credited: the evidence is text addressed to the grader",
            )
        return PointVerdict(
            point_id=v.point_id, status=v.status, evidence=evidence, confidence=v.confidence
        )

    def grade(self, answer: str, points: Sequence[RubricPoint], question: str = "") -> Grade:
        view = prepare(answer, question)
        if NO_CREDIT_FLAGS & set(view.flags):
            grade = self.fallback.grade(answer, points, question)
            return grade.model_copy(update={"grader": self.name})
        try:
            judged = self.ask(view.graded, points, question)
        except LLMError as exc:
            grade = self.fallback.grade(answer, points, question)
            return grade.model_copy(
                update={"fallback_reason": f"LLM judge failed ({exc.reason}): {exc}"}
            )
        verdicts = [
            judged.get(p.id)
            or PointVerdict(point_id=p.id, status=Status.MISSED, confidence=0.5, note="no verdict")
            for p in points
        ]
        return assemble_grade(
            verdicts,
            points,
            self.name,
            flags=view.flags,
            warnings=view.warnings,
            chars_graded=len(view.graded),
        )


class HybridGrader:
    """Embedded first; the LLM is asked only about points the embedded grader is unsure of."""

    def __init__(self, judge: LLMJudge, unsure_below: float = 0.8) -> None:
        self.judge = judge
        self.embedded = judge.fallback
        self.unsure_below = unsure_below
        self.name = f"hybrid:{judge.model.name}"

    def grade(self, answer: str, points: Sequence[RubricPoint], question: str = "") -> Grade:
        base = self.embedded.grade(answer, points, question)
        unsure = [p for p in points if base.verdict(p.id).confidence < self.unsure_below]
        if not unsure or NO_CREDIT_FLAGS & set(base.flags):
            return base.model_copy(update={"grader": self.name})
        try:
            judged = self.judge.ask(prepare(answer, question).graded, unsure, question)
        except LLMError as exc:
            return base.model_copy(
                update={"fallback_reason": f"LLM judge failed ({exc.reason}): {exc}"}
            )
        verdicts = [judged.get(v.point_id, v) for v in base.verdicts]
        return assemble_grade(
            verdicts,
            points,
            self.name,
            flags=base.flags,
            warnings=base.feedback.warnings,
            chars_graded=base.answer_chars_graded,
        )
