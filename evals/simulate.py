"""Interviewer quality: simulated candidates of known coverage drive whole interviews.

Two kinds of candidate:
- design: for every step of a case, the candidate knows a random share of the
  step's rubric points; it states some of them in its first answer and the
  rest only when a follow-up asks about them (written from the corpus's own
  point texts, so what it said is known exactly);
- drill: the labelled answers of `evals/datasets/grading.v1.jsonl` to concept
  questions, whose covered points are the human labels; it has nothing to add
  when probed.

Measured against what the candidate actually said: the share of follow-ups
aimed at a point it had not covered (a point the labels call partly covered
counts as not covered, like in the grader's point metrics: probing a half-made
point is fair; the share aimed at points not even partly covered is reported
too), rubric points given away before the candidate answered, repeated
questions, steps reached, and turn latency.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.interviewer import InterviewConfig, Interviewer, Mode
from bot.interviewer.models import InterviewerMessage
from bot.interviewer.policies import leaked_points, normalise
from evals.dataset import GRADING, EvalCase, load_cases
from knowledge.models import RubricPoint

Progress = Callable[[int, int], None]
ASKING = ("question", "followup", "prompt", "assumption")


@dataclass
class SessionLog:
    kind: str
    name: str
    followups: int = 0
    followups_on_missed: int = 0  # aimed at a point the candidate had not covered
    followups_on_untouched: int = 0  # ... nor even partly covered
    leaks: list[str] = field(default_factory=list)
    repeats: int = 0
    steps_reached: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    mistakes: list[str] = field(default_factory=list)


class _Tracker:
    """Follows one session's messages against what the candidate has said."""

    def __init__(self, interviewer: Interviewer, log: SessionLog) -> None:
        self.interviewer = interviewer
        self.log = log
        self.asked: set[str] = set()
        self.steps: set[str] = set()

    def points(self, item_id: str) -> list[RubricPoint]:
        return self.interviewer.deps.retriever.item(item_id).rubric

    def see(
        self,
        messages: list[InterviewerMessage],
        stated: dict[str, set[str]],
        touched: dict[str, set[str]] | None = None,
    ) -> None:
        for m in messages:
            if m.kind not in ASKING:
                continue
            if m.kind in ("question", "followup"):
                key = normalise(m.text)
                if key in self.asked:
                    self.log.repeats += 1
                self.asked.add(key)
            if m.kind == "question" and m.step:
                self.steps.add(m.step.value)
            if m.item_id:
                said = stated.get(m.item_id, set())
                open_points = [p for p in self.points(m.item_id) if p.id not in said]
                self.log.leaks += [f"{m.kind}: {pid}" for pid in leaked_points(m.text, open_points)]
            if m.kind == "followup":
                self.log.followups += 1
                said = stated.get(m.item_id or "", set())
                if all(t not in said for t in m.targets):
                    self.log.followups_on_missed += 1
                else:
                    self.log.mistakes.append(f"{m.item_id}: probed {m.targets} already covered")
                partly = (touched or stated).get(m.item_id or "", set())
                if all(t not in partly for t in m.targets):
                    self.log.followups_on_untouched += 1

    def respond(self, session_id: str, text: str) -> list[InterviewerMessage]:
        start = time.perf_counter()
        reply = self.interviewer.respond(session_id, text)
        self.log.latencies_ms.append((time.perf_counter() - start) * 1000)
        return reply.messages


def _sentence(point: RubricPoint) -> str:
    text = point.text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def simulate_design(
    interviewer: Interviewer, case_id: str, rng: random.Random, know: float = 0.6
) -> SessionLog:
    log = SessionLog("design", case_id)
    tracker = _Tracker(interviewer, log)
    sid, reply = interviewer.start(
        InterviewConfig(mode=Mode.DESIGN, case_id=case_id, time_cap_minutes=None)
    )
    stated: dict[str, set[str]] = {}
    tracker.see(reply.messages, stated)
    messages = reply.messages
    while True:
        question = next((m for m in reversed(messages) if m.kind == "question"), None)
        if question is None or question.item_id is None:
            break
        item_id = question.item_id
        points = tracker.points(item_id)
        known = [p for p in points if rng.random() < know]
        upfront = [p for p in known if rng.random() < 0.5] or known[:1]
        later = {p.id: p for p in known if p not in upfront}
        said = stated.setdefault(item_id, set())
        said |= {p.id for p in upfront}
        answer = " ".join(_sentence(p) for p in upfront) or "I am not sure where to start."
        messages = tracker.respond(sid, answer)
        tracker.see(messages, stated)
        # Answer follow-ups until the interviewer moves to the next question.
        while messages and messages[-1].kind == "followup":
            target = messages[-1].targets[0]
            if target in later:
                said.add(target)
                text = _sentence(later.pop(target))
            else:
                text = "I have not thought about that part; I would need to look into it."
            messages = tracker.respond(sid, text)
            tracker.see(messages, stated)
        if any(m.kind == "scorecard" for m in messages):
            break
    log.steps_reached = len(tracker.steps)
    return log


def simulate_drill(
    interviewer: Interviewer, item_id: str, answer: str, covered: set[str], partial: set[str]
) -> SessionLog:
    log = SessionLog("drill", item_id)
    tracker = _Tracker(interviewer, log)
    sid, reply = interviewer.start(
        InterviewConfig(mode=Mode.DRILL, item_ids=[item_id], questions=1, time_cap_minutes=None)
    )
    stated: dict[str, set[str]] = {}
    tracker.see(reply.messages, stated)
    stated[item_id] = {f"{item_id}#{pid}" for pid in covered}
    touched = {item_id: stated[item_id] | {f"{item_id}#{pid}" for pid in partial}}
    messages = tracker.respond(sid, answer)
    tracker.see(messages, stated, touched)
    while messages and messages[-1].kind == "followup":
        messages = tracker.respond(sid, "I am not sure about that.")
        tracker.see(messages, stated, touched)
    return log


def run(
    interviewer: Interviewer,
    *,
    cases: list[str] | None = None,
    drill_questions: int | None = None,
    seed: int = 7,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], list[SessionLog]]:
    rng = random.Random(seed)
    case_ids = cases if cases is not None else [c for c, _, _ in interviewer.cases()]
    concepts = {c.id for c in interviewer.deps.catalog.concepts}
    labelled = [
        c
        for c in load_cases(GRADING)
        if c.item_id in concepts and set(c.tags) & {"strong", "partial", "weak", "paraphrase"}
    ]
    by_item: dict[str, list[EvalCase]] = {}
    for c in labelled:
        by_item.setdefault(str(c.item_id), []).append(c)
    items = sorted(by_item)[:drill_questions] if drill_questions is not None else sorted(by_item)
    total = len(case_ids) + sum(len(by_item[i]) for i in items)
    logs: list[SessionLog] = []
    for case_id in case_ids:
        logs.append(simulate_design(interviewer, case_id, rng))
        if progress:
            progress(len(logs), total)
    for item_id in items:
        for case in by_item[item_id]:
            gold = case.gold
            covered, partial = set(gold.covered or []), set(gold.partial or [])
            logs.append(simulate_drill(interviewer, item_id, case.answer, covered, partial))
            if progress:
                progress(len(logs), total)
    return summarise(logs), logs


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summarise(logs: list[SessionLog]) -> dict[str, Any]:
    followups = sum(log.followups for log in logs)
    on_missed = sum(log.followups_on_missed for log in logs)
    untouched = sum(log.followups_on_untouched for log in logs)
    design = [log for log in logs if log.kind == "design"]
    latencies = [ms for log in logs for ms in log.latencies_ms]
    return {
        "sessions": {"design": len(design), "drill": len(logs) - len(design)},
        "followups": {
            "n": followups,
            "on_missed_share": round(on_missed / followups, 4) if followups else 1.0,
            "on_untouched_share": round(untouched / followups, 4) if followups else 1.0,
            "design_n": sum(log.followups for log in design),
            "design_on_missed_share": round(
                sum(log.followups_on_missed for log in design)
                / max(1, sum(log.followups for log in design)),
                4,
            ),
        },
        "leaks": sum(len(log.leaks) for log in logs),
        "repeated_questions": sum(log.repeats for log in logs),
        "steps_reached": {
            "min": min((log.steps_reached for log in design), default=0),
            "mean": round(statistics.mean(log.steps_reached for log in design), 2)
            if design
            else 0.0,
        },
        "turn_latency_ms": {
            "p50": _percentile(latencies, 0.5),
            "p95": _percentile(latencies, 0.95),
            "n": len(latencies),
        },
        "mistakes": [m for log in logs for m in log.mistakes][:50],
        "leak_examples": [f"{log.name}: {leak}" for log in logs for leak in log.leaks][:50],
    }


GOALS = {
    "followups.on_missed_share": ("≥", 0.95),
    "leaks": ("=", 0),
    "repeated_questions": ("=", 0),
    "steps_reached.min": ("=", 7),
}


def write(out: Path, metrics: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    fu = metrics["followups"]
    lat = metrics["turn_latency_ms"]
    steps = metrics["steps_reached"]
    sessions = metrics["sessions"]
    lines = [
        "# Interviewer quality (simulated candidates, embedded default)",
        "",
        f"{sessions['design']} design interviews, {sessions['drill']} drill sessions.",
        "",
        "| measure | value | goal |",
        "|---|---|---|",
        f"| follow-ups aimed at a point the candidate missed | {fu['on_missed_share']:.3f} "
        f"({fu['n']} follow-ups) | ≥ 0.95 |",
        f"| … in design interviews | {fu['design_on_missed_share']:.3f} "
        f"({fu['design_n']} follow-ups) | |",
        f"| … aimed at a point not even partly covered | {fu['on_untouched_share']:.3f} | — |",
        f"| rubric points leaked before an answer | {metrics['leaks']} | 0 |",
        f"| repeated questions | {metrics['repeated_questions']} | 0 |",
        f"| steps reached in a design interview (min / mean) | {steps['min']} / {steps['mean']} "
        "| 7 of 7 |",
        f"| turn latency p50 / p95 (ms) | {lat['p50']} / {lat['p95']} | — |",
    ]
    mistakes = metrics.get("mistakes") or []
    if mistakes:
        lines += ["", "## Follow-ups aimed at covered points", ""]
        lines += [f"- {m}" for m in mistakes]
    (out / "report.md").write_text("\n".join(lines) + "\n")
