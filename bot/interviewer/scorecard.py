"""Progress during an interview and the scorecard at its end, computed from the state."""

from __future__ import annotations

from collections.abc import Callable

from bot.grading.models import Status
from bot.interviewer import policies
from bot.interviewer.models import (
    InterviewState,
    Mode,
    PointSummary,
    Progress,
    QuestionState,
    Scorecard,
    StepProgress,
    StepScore,
    Study,
)
from knowledge.catalog import Catalog
from knowledge.models import QuestionItem
from knowledge.retrieval import Retriever
from knowledge.schema import Step

ItemLookup = Callable[[str], QuestionItem]


def _elapsed(q: QuestionState, now: float) -> float:
    return max(0.0, (q.finished_at or now) - q.started_at)


def progress(state: InterviewState, item: ItemLookup, catalog: Catalog, now: float) -> Progress:
    mode = state.config.mode
    out = Progress(
        mode=mode,
        questions_asked=len(state.questions),
        questions_total=len(state.questions) + len(state.queue),
        hints=state.hints,
        elapsed_s=max(0.0, now - state.started_at),
        time_cap_s=state.config.time_cap_minutes * 60.0 if state.config.time_cap_minutes else None,
        finished=state.finished,
    )
    if mode is Mode.DESIGN:
        by_step = {q.step: q for q in state.questions}
        current = state.current
        for step in Step:
            q = by_step.get(step)
            budget = catalog.framework_step(step).time_budget_minutes
            if q is None:
                out.steps.append(
                    StepProgress(
                        step=step, label=step.label, status="pending", budget_minutes=budget
                    )
                )
                continue
            points = item(q.item_id).rubric
            answered = bool(q.answers)
            status = (
                "current" if q is current else "skipped" if q.skipped and not answered else "done"
            )
            out.steps.append(
                StepProgress(
                    step=step,
                    label=step.label,
                    status=status,
                    coverage=round(policies.coverage(q, points), 3),
                    score=policies.question_score(q, points) if answered else None,
                    budget_minutes=budget,
                    elapsed_s=round(_elapsed(q, now), 1),
                    followups=q.followups,
                    hints=len(q.hinted),
                )
            )
        out.current_step = current.step if current else None
    return out


def scorecard(
    state: InterviewState,
    item: ItemLookup,
    retriever: Retriever,
    now: float,
) -> Scorecard:
    steps: list[StepScore] = []
    strongest: list[PointSummary] = []
    weakest: list[PointSummary] = []
    for q in state.questions:
        qi = item(q.item_id)
        label = q.step.label if state.config.mode is Mode.DESIGN and q.step else qi.question
        steps.append(
            StepScore(
                step=q.step,
                label=label,
                item_id=q.item_id,
                score=policies.question_score(q, qi.rubric),
                coverage=round(policies.coverage(q, qi.rubric), 3),
                hints=len(q.hinted),
                skipped=q.skipped and not q.answers,
            )
        )
        for p in qi.rubric:
            status = policies.effective_status(q, p.id)
            v = q.verdicts.get(p.id)
            summary = PointSummary(
                point_id=p.id,
                text=p.text,
                step=p.step,
                status=status,
                weight=p.weight,
                evidence=v.evidence if v else None,
                citation=p.source,
            )
            if status is Status.COVERED and summary.evidence:
                strongest.append(summary)
            elif status is Status.MISSED:
                weakest.append(summary)
    if state.config.mode is Mode.DESIGN:
        # Steps never reached count as zero: ending early is part of the result.
        reached = {s.step for s in steps}
        unreached = [st for st in Step if st not in reached]
        scores = [s.score for s in steps] + [0.0 for _ in unreached]
        notes = ["Overall is the mean over all seven steps."]
        if unreached:
            notes.append(f"{len(unreached)} step(s) never reached count as 0.")
    else:
        scores = [s.score for s in steps]
        notes = ["Overall is the mean over the questions asked."]
    overall = round(sum(scores) / len(scores), 2) if scores else 0.0
    strongest.sort(key=lambda p: -p.weight)
    weakest.sort(key=lambda p: -p.weight)
    return Scorecard(
        mode=state.config.mode,
        title=state.title,
        overall=overall,
        steps=steps,
        strongest=strongest[:5],
        weakest=weakest[:5],
        study_next=study_next(weakest, state, retriever),
        hints=state.hints,
        elapsed_s=round(max(0.0, now - state.started_at), 1),
        end_reason=state.end_reason,
        notes=notes,
    )


def study_next(
    weakest: list[PointSummary], state: InterviewState, retriever: Retriever, k: int = 5
) -> list[Study]:
    """Concept items that teach the highest-weight missed points, one per item."""
    asked = {q.item_id for q in state.questions}
    chosen: list[Study] = []
    for point in weakest:
        if len(chosen) >= k:
            break
        for match in retriever.find_question(point.text, k=3, kinds=("concept",)):
            if match.item_id in asked or any(s.item_id == match.item_id for s in chosen):
                continue
            concept = retriever.item(match.item_id)
            short = point.text if len(point.text) <= 90 else point.text[:89] + "…"
            chosen.append(
                Study(item_id=concept.id, question=concept.question, reason=f"you missed: {short}")
            )
            break
    return chosen
