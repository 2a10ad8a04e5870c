"""The embedded grader against the labelled dataset's TEST split, and against the blind set of
fresh answers to the same questions (`evals.dataset.BLIND`), on the real model.

The calibration was fit on the dev split only (evals/fit_calibration.py).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bot.grading import EmbeddedGrader
from bot.grading.embedded import CALIBRATION
from bot.grading.scoring import CONTRADICTION_PENALTY
from evals.dataset import BLIND, DEV_FRESH, GRADING, NOTHING_DESERVED_TAGS, load_cases
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
    # Graded on fresh answers to dev's questions that no fit reads, it held the agreement bars.
    validation = meta["validation"]
    assert validation["dataset"].startswith(DEV_FRESH.name)
    assert validation["f1"] >= 0.85 and validation["qwk"] >= 0.80
    assert validation["undeserved"] == 0
    # The score lost per flagged error is the one the dev fit chose, for every grader.
    assert meta["contradiction_penalty"] == CONTRADICTION_PENALTY
    assert max(meta["dev_objective_by_penalty"].items(), key=lambda kv: kv[1])[0] == str(
        CONTRADICTION_PENALTY
    )


@pytest.mark.parametrize(("fresh", "split"), [(BLIND, "test"), (DEV_FRESH, "dev")])
def test_fresh_answer_sets_shape(fresh: Path, split: str) -> None:
    """Fresh answers to exactly one split's questions, graded against the same rubrics."""
    answers = load_cases(fresh, split)
    originals = {c.question_key: c for c in load_cases(GRADING, split)}
    by_question: dict[str, list[str]] = defaultdict(list)
    for case in answers:
        by_question[case.question_key].append(case.tags[0])
        original = originals[case.question_key]
        assert (case.question, case.rubric) == (original.question, original.rubric), case.id
        assert bool(case.gold.contradicted) == ("wrong" in case.tags), case.id
        # Their labelling rule: quarter-rounded weighted credit, less half a point per error.
        weights = {p.id: p.weight for p in case.rubric or []}
        credit = sum(weights[p] for p in case.gold.covered or []) + 0.5 * sum(
            weights[p] for p in case.gold.partial or []
        )
        raw = 4 * credit / sum(weights.values()) - 0.5 * len(case.gold.contradicted or [])
        assert case.gold.score == math.floor(max(0.0, raw) * 4 + 0.5) / 4, case.id
    assert set(by_question) == set(originals)
    assert all(Counter(tags) == Counter(TAGS) for tags in by_question.values())
    assert not {c.id for c in answers} & {c.id for c in load_cases(GRADING)}


@pytest.fixture(scope="module", params=[GRADING, BLIND], ids=["test", "blind"])
def test_run(request: pytest.FixtureRequest) -> tuple[dict[str, object], list[Prediction]]:
    preds = predict(EmbeddedGrader(), load_cases(request.param, "test"))
    return all_metrics(preds, "embedded"), preds


def test_point_f1_and_score_agreement(test_run) -> None:  # type: ignore[no-untyped-def]
    metrics, _ = test_run
    assert metrics["point"]["f1"] >= 0.85
    assert metrics["score"]["qwk"] >= 0.80


def test_no_answer_that_should_earn_nothing_earns_anything(test_run) -> None:  # type: ignore[no-untyped-def]
    _, preds = test_run
    for p in preds:
        if set(p.tags) & set(NOTHING_DESERVED_TAGS):
            assert p.pred_score <= 0.5, p.id


def test_no_fresh_dev_answer_that_should_earn_nothing_earns_anything() -> None:
    """The fresh answers to dev's questions are where a rule's gaps show before the test split
    is read: an off-topic answer once earned 1.57 there on chance matches (`NO_SUPPORT`)."""
    cases = [c for c in load_cases(DEV_FRESH, "dev") if set(c.tags) & set(NOTHING_DESERVED_TAGS)]
    assert len(cases) == 3 * len({c.question_key for c in cases})
    for p in predict(EmbeddedGrader(), cases):
        assert p.pred_score <= 0.5, p.id


@pytest.mark.xfail(
    strict=True,
    reason="known gap: some confidently wrong answers still fool the embedded grader (attack "
    "success, bar 0.02: 0.137 on test, 7 of 17 wrong answers, 17 of 37 labelled errors flagged "
    "at precision 0.61; 0.196 on the blind set, 10 of 17, 10 of 34 errors at precision 0.42); "
    "see evals/results/grading/embedded-test and embedded-blind",
)
def test_attack_success_rate(test_run) -> None:  # type: ignore[no-untyped-def]
    metrics, _ = test_run
    assert metrics["attacks"]["success_rate"] <= 0.02


def test_paraphrases_score_within_half_a_point(test_run) -> None:  # type: ignore[no-untyped-def]
    metrics, _ = test_run
    row = metrics["by_tag"]["paraphrase"]
    assert abs(row["mean_pred"] - row["mean_gold"]) <= 0.5


def _runs(text: str, n: int = 8) -> set[tuple[str, ...]]:
    """Every n words in a row of a text, lowercased, punctuation dropped."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_no_misconception_is_copied_from_a_labelled_answer() -> None:
    """The corpus's misconceptions were written without the datasets; none may share eight
    words in a row with any labelled answer, or the test split would measure recall of a copy."""
    from knowledge.catalog import load_catalog

    errors = [e for errs in load_catalog().misconceptions.values() for e in errs]
    assert len(errors) >= 2000
    misstated = set().union(*(_runs(e) for e in errors))
    assert [c.id for c in load_cases(GRADING) if _runs(c.answer) & misstated] == []
    # The blind writers never saw the corpus; two of their errors came out in a known
    # misconception's words ("the robust choice when the data has outliers", focal loss
    # weighting "the examples the model is already confident about"). No other may.
    assert {c.id for c in load_cases(BLIND) if _runs(c.answer) & misstated} <= {
        "feature-scaling--blind-wrong",
        "loss-functions--blind-wrong",
    }
