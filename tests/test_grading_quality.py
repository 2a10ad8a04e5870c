"""The embedded grader against the labelled dataset's TEST split, on the real model.

The calibration was fit on the dev split only (evals/fit_calibration.py).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest

from bot.grading import EmbeddedGrader
from bot.grading.embedded import CALIBRATION
from bot.grading.scoring import CONTRADICTION_PENALTY
from evals.dataset import GRADING, load_cases
from evals.harness import predict
from evals.metrics import Prediction, all_metrics

pytestmark = pytest.mark.slow
TAGS = {
    "strong",
    "partial",
    "weak",
    "paraphrase",
    "stuffing",
    "wrong",
    "injection",
    "offtopic",
    "empty",
}


def test_dataset_shape() -> None:
    cases = load_cases(GRADING)
    assert len(cases) >= 400
    by_question: dict[str, list[str]] = defaultdict(list)
    splits: dict[str, set[str]] = defaultdict(set)
    for case in cases:
        by_question[case.question_key].append(case.tags[0])
        splits[case.question_key].add(str(case.split))
        assert case.gold.covered is not None and case.rubric
    assert len(by_question) >= 50
    assert all(Counter(tags) == Counter(TAGS) for tags in by_question.values())
    assert all(len(s) == 1 for s in splits.values()), "a question must sit in one split"
    test_questions = [q for q, s in splits.items() if s == {"test"}]
    assert len(test_questions) >= 0.3 * len(by_question)
    # Every confidently wrong answer names the points it states wrongly; no other kind does.
    for case in cases:
        assert bool(case.gold.contradicted) == ("wrong" in case.tags), case.id


def test_calibration_was_fit_on_dev_only() -> None:
    meta = json.loads(CALIBRATION.read_text())
    assert "dev split" in meta["dataset"] and meta["version"] == "embedded.v8"
    assert CALIBRATION.name == "embedded.v8.json"
    assert meta["dev_metrics"].startswith("out-of-fold")
    # The score lost per flagged error is the one the dev fit chose, for every grader.
    assert meta["contradiction_penalty"] == CONTRADICTION_PENALTY
    assert max(meta["dev_objective_by_penalty"].items(), key=lambda kv: kv[1])[0] == str(
        CONTRADICTION_PENALTY
    )


@pytest.fixture(scope="module")
def test_run() -> tuple[dict[str, object], list[Prediction]]:
    preds = predict(EmbeddedGrader(), load_cases(GRADING, "test"))
    return all_metrics(preds, "embedded"), preds


def test_point_f1_and_score_agreement(test_run) -> None:  # type: ignore[no-untyped-def]
    metrics, _ = test_run
    assert metrics["point"]["f1"] >= 0.85
    assert metrics["score"]["qwk"] >= 0.80


def test_no_answer_that_should_earn_nothing_earns_anything(test_run) -> None:  # type: ignore[no-untyped-def]
    _, preds = test_run
    for p in preds:
        if set(p.tags) & {"empty", "offtopic", "stuffing"}:
            assert p.pred_score <= 0.5, p.id


@pytest.mark.xfail(
    strict=True,
    reason="known gap: some confidently wrong answers still fool the embedded grader (attack "
    "success 0.137 on test, bar 0.02: 7 of 17 wrong answers; it flags 17 of the 37 labelled "
    "errors, precision 0.61, with the cross-encoder trained on whole practice answers); see "
    "evals/results/grading/embedded-test/report.md",
)
def test_attack_success_rate(test_run) -> None:  # type: ignore[no-untyped-def]
    metrics, _ = test_run
    assert metrics["attacks"]["success_rate"] <= 0.02


def test_paraphrases_score_within_half_a_point(test_run) -> None:  # type: ignore[no-untyped-def]
    metrics, _ = test_run
    row = metrics["by_tag"]["paraphrase"]
    assert abs(row["mean_pred"] - row["mean_gold"]) <= 0.5


def test_no_misconception_is_copied_from_a_labelled_answer() -> None:
    """The corpus's misconceptions were written without the dataset; none may share eight
    words in a row with any labelled answer, or the test split would measure recall of a copy."""
    import re

    from knowledge.catalog import load_catalog

    def runs(text: str, n: int = 8) -> set[tuple[str, ...]]:
        words = re.findall(r"[a-z0-9]+", text.lower())
        return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}

    answered = set().union(*(runs(c.answer) for c in load_cases(GRADING)))
    errors = [e for errs in load_catalog().misconceptions.values() for e in errs]
    assert len(errors) >= 2000
    assert [e for e in errors if runs(e) & answered] == []
