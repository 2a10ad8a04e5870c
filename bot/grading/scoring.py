"""The overall score is arithmetic over verdicts and weights, never an LLM's opinion."""

from __future__ import annotations

from collections.abc import Sequence

from bot.grading.models import CREDIT, Credit, Feedback, Flag, Grade, Miss, PointVerdict, Status
from knowledge.models import RubricPoint

CONTRADICTION_PENALTY = 1.0
"""Score lost per point the answer contradicts: a confidently stated error is worse than silence.
Chosen on dev with the thresholds (`evals/fit_calibration.py`, which records the choice in the
calibration file) from 0.5, 0.75 and 1.0: gold scores put an error about 0.4 below the credit of
the answer's correct points, but the grader flags only some errors, and charging a point for
each one it does flag brings wrong answers' scores closest to people's (out-of-fold dev QWK
0.928 at 0.5, 0.934 at 1.0). Never more than a point: a correct answer wrongly flagged pays it too."""


def weighted_score(
    verdicts: Sequence[PointVerdict],
    points: Sequence[RubricPoint],
    penalty: float = CONTRADICTION_PENALTY,
) -> float:
    """4 x (weight covered + half the weight partly covered) / total weight, less `penalty`
    per contradicted point, clamped to 0-4 and rounded to 0.01."""
    weights = {p.id: p.weight for p in points}
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    earned = sum(weights.get(v.point_id, 0.0) * CREDIT[v.status] for v in verdicts)
    lost = penalty * sum(v.contradicted for v in verdicts)
    return round(min(4.0, max(0.0, 4.0 * earned / total - lost)), 2)


def build_feedback(
    verdicts: Sequence[PointVerdict], points: Sequence[RubricPoint], warnings: Sequence[str] = ()
) -> Feedback:
    by_id = {p.id: p for p in points}
    credited = [
        Credit(
            point_id=v.point_id, point=by_id[v.point_id].text, evidence=v.evidence, status=v.status
        )
        for v in verdicts
        if v.status is not Status.MISSED and v.evidence
    ]
    missed = sorted(
        (
            Miss(
                point_id=v.point_id,
                point=by_id[v.point_id].text,
                weight=by_id[v.point_id].weight,
                citation=by_id[v.point_id].source,
                contradicted_by=v.evidence if v.contradicted else None,
            )
            for v in verdicts
            if v.status is not Status.COVERED
        ),
        key=lambda m: -m.weight,
    )
    n_cov = sum(v.status is Status.COVERED for v in verdicts)
    n_par = sum(v.status is Status.PARTIAL for v in verdicts)
    summary = (
        f"Covered {n_cov} of {len(points)} points" + (f", {n_par} partly" if n_par else "") + "."
    )
    disputed = list(dict.fromkeys(v.evidence for v in verdicts if v.contradicted and v.evidence))
    return Feedback(
        summary=summary,
        credited=credited,
        missed=missed,
        disputed=disputed,
        warnings=list(warnings),
    )


def assemble_grade(
    verdicts: Sequence[PointVerdict],
    points: Sequence[RubricPoint],
    grader: str,
    *,
    flags: Sequence[Flag] = (),
    warnings: Sequence[str] = (),
    chars_graded: int = 0,
) -> Grade:
    """A grade whose score and feedback are derived from its verdicts, always the same way."""
    return Grade(
        verdicts=list(verdicts),
        score_0_4=weighted_score(verdicts, points),
        grader=grader,
        flags=list(flags),
        feedback=build_feedback(verdicts, points, warnings),
        answer_chars_graded=chars_graded,
    )
