"""`panelist eval grading` and `eval compare` on a small dataset, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from evals.dataset import DatasetError, EvalCase, load_cases
from evals.metrics import Prediction, contradiction_metrics, qwk

pytestmark = pytest.mark.slow
SMALL = Path(__file__).parent / "data" / "grading_small.jsonl"
runner = CliRunner()


def _run(out: Path, grader: str, *extra: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(
        app,
        [
            "eval",
            "grading",
            "--dataset",
            str(SMALL),
            "--grader",
            grader,
            "--out",
            str(out),
            "--bootstrap",
            "50",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads((out / "metrics.json").read_text())


def test_grading_run_writes_the_eval_log(tmp_path: Path) -> None:
    metrics = _run(tmp_path / "emb", "embedded")
    for key in ("n_cases", "grader", "point", "score", "attacks", "by_tag", "latency_ms"):
        assert key in metrics
    assert set(metrics["point"]) >= {"precision", "recall", "f1"}
    assert set(metrics["score"]) >= {"qwk", "spearman", "pearson", "mae", "rmse"}
    assert set(metrics["attacks"]) >= {"n", "success_rate"}
    assert metrics["by_tag"]["empty"] == {"n": 3, "mean_gold": 0.0, "mean_pred": 0.0}
    assert set(metrics["latency_ms"]) >= {"p50", "p95"}
    assert metrics["attacks"]["n"] == 6
    assert (
        "keyword overlap" in metrics["baselines"] and "constant (dev mean)" in metrics["baselines"]
    )
    assert (
        metrics["ci95"]["point.f1"][0] <= metrics["point"]["f1"] <= metrics["ci95"]["point.f1"][1]
    )
    cases = [
        json.loads(line) for line in (tmp_path / "emb" / "cases.jsonl").read_text().splitlines()
    ]
    assert len(cases) == metrics["n_cases"] == 13
    assert all("verdicts" in c and "latency_ms" in c for c in cases)
    ref = next(c for c in cases if c["id"] == "ref-only")
    assert [v["point_id"] for v in ref["verdicts"]] == ["r1", "r2", "r3"]  # derived from reference
    for name in (
        "report.md",
        "report.html",
        "confusion.png",
        "scores.png",
        "calibration.png",
        "tags.png",
    ):
        assert (tmp_path / "emb" / name).stat().st_size > 0
    assert "data:image/png;base64," in (tmp_path / "emb" / "report.html").read_text()


def test_split_and_compare(tmp_path: Path) -> None:
    test_only = _run(tmp_path / "test", "embedded", "--split", "test")
    assert test_only["n_cases"] == 5
    _run(tmp_path / "kw", "keyword")
    _run(tmp_path / "emb", "embedded")
    result = runner.invoke(app, ["eval", "compare", str(tmp_path / "kw"), str(tmp_path / "emb")])
    assert result.exit_code == 0, result.output
    assert "13 paired cases" in " ".join(result.output.split())
    assert "point.f1" in result.output


def test_bad_inputs_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "question": "q", "answer": "a", "gold": {"score": 9}}\n')
    with pytest.raises(DatasetError, match=r"bad\.jsonl:1"):
        load_cases(bad)
    result = runner.invoke(
        app, ["eval", "grading", "--dataset", str(bad), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2 and "Cannot read the dataset" in result.output
    result = runner.invoke(app, ["eval", "grading", "--dataset", str(SMALL), "--grader", "llm"])
    assert result.exit_code == 2 and "needs an LLM" in result.output


@pytest.mark.parametrize(
    ("gold", "pred", "expected"),
    [([0, 1, 2, 3, 4], [0, 1, 2, 3, 4], 1.0), ([0, 0, 4, 4], [4, 4, 0, 0], -1.0)],
)
def test_qwk_known_values(gold: list[int], pred: list[int], expected: float) -> None:
    assert qwk(gold, pred) == pytest.approx(expected)


def _case(**gold: object) -> dict[str, object]:
    rubric = [{"id": "p1", "text": "one"}, {"id": "p2", "text": "two"}]
    return {"id": "c", "question": "q", "rubric": rubric, "answer": "a", "gold": gold}


def test_contradiction_labels_are_checked() -> None:
    EvalCase.model_validate(_case(covered=["p1"], contradicted=["p2"], score=1))
    with pytest.raises(ValueError, match=r"gold\.contradicted names unknown points"):
        EvalCase.model_validate(_case(covered=[], contradicted=["p9"], score=0))
    with pytest.raises(ValueError, match="both credited and contradicted"):
        EvalCase.model_validate(_case(covered=["p1"], contradicted=["p1"], score=0))


def _pred(gold_contradicted: list[str] | None, flagged: list[str]) -> Prediction:
    verdicts = [
        {"point_id": pid, "status": "missed", "contradicted": pid in flagged}
        for pid in ("p1", "p2")
    ]
    return Prediction(
        id="c",
        question_key="q",
        split="test",
        tags=["wrong"],
        gold_score=0.0,
        pred_score=0.0,
        gold_covered=[],
        gold_partial=[],
        gold_contradicted=gold_contradicted,
        verdicts=verdicts,
        flags=[],
        grader="embedded",
        fallback_reason=None,
        latency_ms=1.0,
    )


def test_contradiction_metrics() -> None:
    # one labelled error found, one missed, one false alarm on an answer labelled clean
    preds = [_pred(["p1", "p2"], ["p1"]), _pred(None, ["p2"])]
    assert contradiction_metrics(preds) == {"n": 2, "precision": 0.5, "recall": 0.5}


def test_corpus_questions_are_graded_with_their_corpus_details() -> None:
    """A labelled case about a corpus question gets what the app grades that question with
    (keywords, known misconceptions); any other case gets its own text only."""
    from evals.dataset import GRADING, shipped_points

    corpus = shipped_points()
    case = load_cases(GRADING, "dev")[0]
    points = case.rubric_points(corpus)
    assert [p.text for p in points] == [p.text for p in case.rubric or []]
    assert all(p.misconceptions and p.keywords for p in points)
    known = corpus[(str(case.item_id), points[0].text)]
    assert points[0].misconceptions == known.misconceptions

    elsewhere = case.model_copy(update={"item_id": "not-in-the-corpus"})
    assert all(not p.misconceptions and not p.keywords for p in elsewhere.rubric_points(corpus))
    assert all(not p.misconceptions for p in case.rubric_points())


def test_calibration_fit_reads_dev_and_reports_on_fresh_answers(tmp_path: Path) -> None:
    """A fit on five dev questions, validated on fresh answers to two of them: the test split
    beside them is never read, and the file loads back with its validation block."""
    from bot.grading.embedded import Calibration
    from evals.dataset import DEV_FRESH, GRADING
    from evals.fit_calibration import fit

    dev = load_cases(GRADING, "dev")
    questions = sorted({c.question_key for c in dev})[:5]
    chosen = [c for c in dev if c.question_key in questions]
    # A test-split case in the same file: the fit must leave it out.
    unreadable = load_cases(GRADING, "test")[0].model_dump(exclude_none=True)
    dataset = tmp_path / "dev.jsonl"
    dataset.write_text(
        "\n".join([c.model_dump_json(exclude_none=True) for c in chosen] + [json.dumps(unreadable)])
    )
    fresh = tmp_path / "fresh.jsonl"
    fresh.write_text(
        "\n".join(
            c.model_dump_json(exclude_none=True)
            for c in load_cases(DEV_FRESH)
            if c.question_key in questions[:2]
        )
    )
    out = tmp_path / "calibration.json"
    result = fit(dataset, out, validation=fresh)
    assert result["dataset"].startswith(f"dev.jsonl (dev split, {len(chosen)} answers")
    validation = result["validation"]
    assert validation["dataset"].startswith("fresh.jsonl (18 fresh answers")
    assert 0.0 <= validation["f1"] <= 1.0 and 0.0 <= validation["accused"] <= 1.0
    assert Calibration.load(out).version == result["version"]
