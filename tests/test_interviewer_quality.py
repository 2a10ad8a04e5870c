"""The interviewer-quality goals, measured with simulated candidates on the embedded default.

Design candidates state known subsets of each step's rubric; drill candidates
are the labelled answers of the grading dataset. See `evals/simulate.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.interviewer import Interviewer, build_interviewer
from bot.services import build_services
from bot.sessions import SessionDB
from bot.settings import Settings
from evals import simulate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def metrics(indexed_template: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    scratch = tmp_path_factory.mktemp("sim")
    services = build_services(Settings(home=indexed_template))
    interviewer: Interviewer = build_interviewer(services, db=SessionDB(scratch / "sim.db"))
    cases = [c for c, _, _ in interviewer.cases()][:6]
    result, _ = simulate.run(interviewer, cases=cases, seed=11)
    simulate.write(scratch, result)
    return result


def test_follow_ups_aim_at_points_the_candidate_missed(metrics: dict[str, Any]) -> None:
    followups = metrics["followups"]
    assert followups["n"] >= 50
    assert followups["on_missed_share"] >= 0.95, metrics["mistakes"]


def test_no_rubric_point_leaks_before_an_answer(metrics: dict[str, Any]) -> None:
    assert metrics["leaks"] == 0, metrics["leak_examples"]


def test_no_question_is_asked_twice(metrics: dict[str, Any]) -> None:
    assert metrics["repeated_questions"] == 0


def test_every_design_interview_reaches_all_seven_steps(metrics: dict[str, Any]) -> None:
    assert metrics["steps_reached"]["min"] == 7
    assert metrics["sessions"]["design"] == 6
