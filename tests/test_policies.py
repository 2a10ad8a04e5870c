"""The interviewer's decisions, one pure function at a time (no model, no store)."""

from __future__ import annotations

import pytest

from bot.grading.models import PointVerdict, Status
from bot.interviewer import policies
from bot.interviewer.models import QuestionState
from knowledge.models import Citation, RubricPoint
from knowledge.schema import Assumption

CITE = Citation(source_id="s", title="t")


def _point(pid: str, weight: float, text: str, probes: list[str], **kw: object) -> RubricPoint:
    return RubricPoint(id=pid, text=text, weight=weight, probes=probes, source=CITE, **kw)  # type: ignore[arg-type]


POINTS = [
    _point(
        "q#p1", 3.0, "Defines the business objective as watch time.", ["What would success be?"]
    ),
    _point("q#p2", 2.0, "Estimates the scale of users and items.", ["How big is this?"]),
    _point(
        "q#p3", 2.0, "Sets a latency budget for serving requests.", ["How fast?", "Any deadline?"]
    ),
    _point("q#p4", 1.0, "Asks about available labels.", ["What data do you have?"]),
]


def _verdict(pid: str, status: Status, confidence: float = 0.9) -> PointVerdict:
    return PointVerdict(point_id=pid, status=status, confidence=confidence)


def _question(**verdicts: Status) -> QuestionState:
    q = QuestionState(item_id="q", question="Q?", point_ids=[p.id for p in POINTS])
    for key, status in verdicts.items():
        pid = f"q#{key}"
        q.verdicts[pid] = _verdict(pid, status)
    return q


@pytest.mark.parametrize(
    ("text", "command"),
    [
        pytest.param("hint", "hint", id="hint"),
        pytest.param("  Hint! ", "hint", id="case-and-punctuation"),
        pytest.param("next", "skip", id="next-is-skip"),
        pytest.param("move on", "skip", id="move-on"),
        pytest.param("repeat", "repeat", id="repeat"),
        pytest.param("score", "score", id="score"),
        pytest.param("END", "end", id="end"),
        pytest.param("I would give a hint of regularisation", None, id="word-in-an-answer"),
        pytest.param("next, I would build a baseline", None, id="command-word-starts-an-answer"),
    ],
)
def test_parse_command(text: str, command: str | None) -> None:
    assert policies.parse_command(text) == command


ASSUMPTIONS = [
    Assumption(topic="scale", text="500M users.", keywords=["how many users", "traffic"]),
    Assumption(topic="latency budget", text="200 ms.", keywords=["latency", "how fast"]),
]


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        pytest.param("How many users do we have?", ["scale"], id="keyword"),
        pytest.param(
            "What is the latency budget? And traffic?", ["scale", "latency budget"], id="two"
        ),
        pytest.param("Latency must be low.", [], id="a-statement-is-not-asking"),
        pytest.param("Is there a deadline for the launch?", [], id="unrelated-question"),
    ],
)
def test_assumptions_are_revealed_only_when_asked(text: str, topics: list[str]) -> None:
    assert [a.topic for a in policies.asked_assumptions(text, ASSUMPTIONS)] == topics


def test_only_questions() -> None:
    assert policies.only_questions("How many users? What latency?")
    assert not policies.only_questions("How many users? I would assume 100M.")
    assert not policies.only_questions("")


def test_merge_keeps_the_best_status() -> None:
    covered = _verdict("q#p1", Status.COVERED)
    assert policies.merge(covered, _verdict("q#p1", Status.MISSED, 0.99)) is covered
    partial = _verdict("q#p1", Status.PARTIAL)
    assert policies.merge(partial, covered) is covered
    assert policies.merge(None, partial) is partial


def test_follow_up_aims_at_the_heaviest_missed_point_never_a_covered_one() -> None:
    q = _question(p1=Status.COVERED, p2=Status.MISSED, p3=Status.MISSED, p4=Status.MISSED)
    point, _probe = policies.follow_up_target(q, POINTS, asked_texts=["Q?"])  # type: ignore[misc]
    assert point.id in {"q#p2", "q#p3"} and point.weight == 2.0
    q.probed.append(point.id)
    second, _ = policies.follow_up_target(q, POINTS, ["Q?"])  # type: ignore[misc]
    assert second.id != point.id and second.weight == 2.0
    q.probed.append(second.id)
    third, _ = policies.follow_up_target(q, POINTS, ["Q?"])  # type: ignore[misc]
    assert third.id == "q#p4"
    q.probed.append(third.id)
    assert policies.follow_up_target(q, POINTS, ["Q?"]) is None


def test_ties_go_to_the_surest_miss() -> None:
    q = _question()
    q.verdicts["q#p2"] = _verdict("q#p2", Status.MISSED, 0.6)
    q.verdicts["q#p3"] = _verdict("q#p3", Status.MISSED, 0.95)
    q.verdicts["q#p1"] = _verdict("q#p1", Status.COVERED)
    point, _ = policies.follow_up_target(q, POINTS, [])  # type: ignore[misc]
    assert point.id == "q#p3"


def test_partial_points_are_not_probed_as_missed() -> None:
    q = _question(p1=Status.PARTIAL, p2=Status.COVERED, p3=Status.COVERED, p4=Status.PARTIAL)
    assert policies.follow_up_target(q, POINTS, []) is None


def test_a_probe_already_asked_is_never_asked_again() -> None:
    q = _question(p1=Status.COVERED, p2=Status.COVERED, p4=Status.COVERED)
    point, probe = policies.follow_up_target(q, POINTS, ["How fast?"])  # type: ignore[misc]
    assert point.id == "q#p3" and probe == "Any deadline?"
    assert policies.follow_up_target(q, POINTS, ["How fast?", "any deadline"]) is None


def test_drill_follow_ups_only_aim_at_essential_points() -> None:
    q = _question(p1=Status.COVERED, p2=Status.COVERED, p3=Status.COVERED)
    assert policies.follow_up_target(q, POINTS, [], min_weight=2.0) is None


def test_hint_halves_the_credit_of_the_point_it_helped() -> None:
    q = _question(p1=Status.COVERED, p2=Status.COVERED, p3=Status.COVERED, p4=Status.COVERED)
    assert policies.question_score(q, POINTS) == 4.0
    q.hinted.append("q#p1")
    assert policies.effective_status(q, "q#p1") is Status.PARTIAL
    assert policies.question_score(q, POINTS) == pytest.approx(4 * (8 - 1.5) / 8, abs=0.01)


def test_hint_target_prefers_the_point_just_probed() -> None:
    q = _question(p1=Status.MISSED, p2=Status.MISSED)
    q.probed.append("q#p2")
    assert policies.hint_target(q, POINTS).id == "q#p2"  # type: ignore[union-attr]
    q.hinted.append("q#p2")
    assert policies.hint_target(q, POINTS).id == "q#p1"  # type: ignore[union-attr]


def test_covered_threshold() -> None:
    q = _question(p1=Status.COVERED, p2=Status.COVERED, p3=Status.COVERED)
    assert policies.is_covered(q, POINTS)  # 7 of 8 weight
    q = _question(p1=Status.COVERED, p2=Status.COVERED)
    assert not policies.is_covered(q, POINTS)


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        pytest.param("What would success look like here?", [], id="probe"),
        pytest.param(
            "Would you define the business objective as watch time?", ["q#p1"], id="restates-point"
        ),
        pytest.param("Think about latency.", [], id="one-word-nudge"),
    ],
)
def test_leak_detection(text: str, leaked: list[str]) -> None:
    assert policies.leaked_points(text, POINTS) == leaked
