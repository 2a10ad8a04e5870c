"""The interviewer's words: Markdown for feedback, progress and scorecards.

Kept apart from the decisions so the CLI, the UI and the exports say the same
thing. Nothing here decides what happens next.
"""

from __future__ import annotations

from bot.grading.models import Grade, Status
from bot.interviewer.models import Progress, Scorecard


def feedback_text(grade: Grade, *, final: bool, open_points: int) -> str:
    """One answer's feedback. Before a question closes, missed points stay unnamed."""
    lines = [f"**Score for this answer: {grade.score_0_4:.1f} / 4** — {grade.feedback.summary}"]
    for credit in grade.feedback.credited:
        mark = "✓" if credit.status is Status.COVERED else "◐"
        lines.append(f'- {mark} {credit.point} — you said: "{credit.evidence}"')
    if final:
        for miss in grade.feedback.missed:
            cite = f" _(source: {miss.citation.label()})_" if miss.citation else ""
            said = (
                f' — you said the opposite: "{miss.contradicted_by}"'
                if miss.contradicted_by
                else ""
            )
            lines.append(f"- ✗ {miss.point}{said}{cite}")
    else:
        for quote in grade.feedback.disputed:
            lines.append(f'- ✗ This does not hold, and it costs credit: "{quote}"')
        if open_points:
            lines.append(f"- {open_points} point(s) still open on this question.")
    for warning in grade.feedback.warnings:
        lines.append(f"- ⚠ {warning}")
    if grade.fallback_reason:
        lines.append(f"- ⚠ Graded by the embedded grader: {grade.fallback_reason}")
    return "\n".join(lines)


def minutes(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d}"


def progress_text(progress: Progress) -> str:
    lines = [
        f"**Progress** — {minutes(progress.elapsed_s)} elapsed, {progress.hints} hint(s) used."
    ]
    for sp in progress.steps:
        score = f"{sp.score:.1f}/4" if sp.score is not None else "—"
        lines.append(
            f"- {sp.step.number}. {sp.label}: {sp.status}, coverage {sp.coverage:.0%}, "
            f"score {score} ({minutes(sp.elapsed_s)} of {sp.budget_minutes} min)"
        )
    if not progress.steps:
        lines.append(f"- {progress.questions_asked} of {progress.questions_total} questions asked.")
    return "\n".join(lines)


def scorecard_text(card: Scorecard) -> str:
    lines = [
        f"## Scorecard: {card.title}",
        f"**Overall: {card.overall:.1f} / 4** · {minutes(card.elapsed_s)} · {card.hints} hint(s)",
        "",
        "| # | part | score | coverage |",
        "|---|---|---|---|",
    ]
    for n, s in enumerate(card.steps, 1):
        note = " (skipped)" if s.skipped else ""
        lines.append(f"| {n} | {s.label}{note} | {s.score:.1f} | {s.coverage:.0%} |")
    if card.strongest:
        lines += ["", "**Strongest points**"]
        lines += [f'- {p.text} — "{p.evidence}"' for p in card.strongest]
    if card.weakest:
        lines += ["", "**Weakest points**"]
        lines += [
            f"- {p.text}" + (f" _(source: {p.citation.label()})_" if p.citation else "")
            for p in card.weakest
        ]
    if card.study_next:
        lines += ["", "**Study next**"]
        lines += [f"- {s.question} — {s.reason}" for s in card.study_next]
    if card.end_reason or card.notes:
        lines += ["", "_" + " ".join(filter(None, [card.end_reason, *card.notes])) + "_"]
    return "\n".join(lines)
