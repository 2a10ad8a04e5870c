"""Run a grader over a labelled dataset and write an eval log you can open.

Dataset -> grader -> predictions -> metrics.json, cases.jsonl, report.md, report.html.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bot.grading import Grader
from evals.dataset import CorpusPoints, EvalCase, shipped_points
from evals.metrics import Prediction, all_metrics, confidence_intervals

Progress = Callable[[int, int], None]


def predict(
    grader: Grader,
    cases: Sequence[EvalCase],
    progress: Progress | None = None,
    corpus: CorpusPoints | None = None,
) -> list[Prediction]:
    """Grade every case; points of corpus questions come with their corpus details
    (`corpus`, by default the shipped corpus)."""
    corpus = shipped_points() if corpus is None else corpus
    preds = []
    for n, case in enumerate(cases):
        points = case.rubric_points(corpus)
        started = time.perf_counter()
        grade = grader.grade(case.answer, points, case.question)
        elapsed = (time.perf_counter() - started) * 1000
        preds.append(
            Prediction(
                id=case.id,
                question_key=case.question_key,
                split=case.split,
                tags=case.tags,
                gold_score=case.gold.score,
                pred_score=grade.score_0_4,
                gold_covered=case.gold.covered,
                gold_partial=case.gold.partial,
                gold_contradicted=case.gold.contradicted,
                verdicts=[v.model_dump(mode="json") for v in grade.verdicts],
                flags=list(grade.flags),
                grader=grade.grader,
                fallback_reason=grade.fallback_reason,
                latency_ms=round(elapsed, 2),
            )
        )
        if progress:
            progress(n + 1, len(cases))
    return preds


def constant_baseline(cases: Sequence[EvalCase], value: float) -> list[Prediction]:
    """Every answer gets the same score and no point: the floor any grader must beat."""
    return [
        Prediction(
            id=c.id,
            question_key=c.question_key,
            split=c.split,
            tags=c.tags,
            gold_score=c.gold.score,
            pred_score=value,
            gold_covered=c.gold.covered,
            gold_partial=c.gold.partial,
            gold_contradicted=c.gold.contradicted,
            verdicts=[],
            flags=[],
            grader="constant",
            fallback_reason=None,
            latency_ms=0.0,
        )
        for c in cases
    ]


def write_run(
    out: Path,
    preds: Sequence[Prediction],
    grader_name: str,
    *,
    dataset: Path,
    split: str | None,
    baselines: Mapping[str, Sequence[Prediction]] | None = None,
    bootstrap: int = 1000,
) -> dict[str, object]:
    from evals.report import write_reports

    out.mkdir(parents=True, exist_ok=True)
    metrics = all_metrics(preds, grader_name)
    metrics["dataset"] = str(dataset)
    metrics["split"] = split or "all"
    metrics["ci95"] = confidence_intervals(preds, bootstrap)
    metrics["baselines"] = {
        name: {k: v for k, v in all_metrics(ps, name).items() if k not in ("by_tag", "latency_ms")}
        for name, ps in (baselines or {}).items()
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    with (out / "cases.jsonl").open("w") as fh:
        for p in preds:
            fh.write(p.model_dump_json() + "\n")
    write_reports(out, metrics, preds)
    return metrics


def load_run(run: Path) -> tuple[dict[str, object], list[Prediction]]:
    metrics = json.loads((run / "metrics.json").read_text())
    preds = [
        Prediction.model_validate_json(line)
        for line in (run / "cases.jsonl").read_text().splitlines()
        if line.strip()
    ]
    return metrics, preds


def compare_runs(a: Path, b: Path) -> dict[str, object]:
    """Paired differences B - A over the cases both runs graded."""
    from evals.metrics import clustered_bootstrap

    ma, pa = load_run(a)
    mb, pb = load_run(b)
    by_id = {p.id: p for p in pa}
    pairs = [(by_id[p.id], p) for p in pb if p.id in by_id]
    if not pairs:
        raise ValueError("the two runs share no cases")
    diffs = [abs(y.pred_score - y.gold_score) - abs(x.pred_score - x.gold_score) for x, y in pairs]

    def delta_mae(sample: Sequence[Prediction]) -> float:
        ids = {p.id for p in sample}
        d = [
            abs(y.pred_score - y.gold_score) - abs(x.pred_score - x.gold_score)
            for x, y in pairs
            if x.id in ids
        ]
        return sum(d) / len(d) if d else 0.0

    rows = {}
    for key in ("point.f1", "score.qwk", "score.mae", "attacks.success_rate"):
        group, name = key.split(".")
        va = ma[group][name]  # type: ignore[index]
        vb = mb[group][name]  # type: ignore[index]
        rows[key] = {"a": va, "b": vb, "delta": round(vb - va, 4)}
    return {
        "a": {"grader": ma["grader"], "run": str(a)},
        "b": {"grader": mb["grader"], "run": str(b)},
        "paired_cases": len(pairs),
        "metrics": rows,
        "abs_error_delta_mean": round(sum(diffs) / len(diffs), 4),
        "abs_error_delta_ci95": list(clustered_bootstrap([y for _, y in pairs], delta_mae)),
        "b_better": sum(d < -0.25 for d in diffs),
        "b_worse": sum(d > 0.25 for d in diffs),
    }
