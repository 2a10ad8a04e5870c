"""Fit the embedded grader's calibration on the DEV split only, and save it as a small file.

    python -m evals.fit_calibration [--dataset evals/datasets/grading.v1.jsonl]

A logistic model over the grader's per-point features predicts "covered";
the two thresholds (covered, partial) are then chosen on dev to maximise
point F1 plus score QWK. The test split is never read here.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm import tqdm

from bot.grading.embedded import CALIBRATION, FEATURES, Calibration, EmbeddedGrader, prepare
from bot.grading.models import PointVerdict, Status
from bot.grading.scoring import weighted_score
from evals.dataset import GRADING, EvalCase, load_cases
from evals.metrics import qwk


def _rows(cases: list[EvalCase]) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    grader = EmbeddedGrader()
    xs, ys, where = [], [], []
    for ci, case in enumerate(tqdm(cases, desc="features", unit="answer")):
        points = case.rubric_points()
        view = prepare(case.answer, case.question)
        feats, best = grader.features(view, points)
        covered = set(case.gold.covered or [])
        partial = set(case.gold.partial or [])
        for pj, point in enumerate(points):
            if best[pj] is None:
                continue  # gated answers are decided by rules, not by the model
            xs.append(feats[pj])
            ys.append(1.0 if point.id in covered else 0.5 if point.id in partial else 0.0)
            where.append((ci, pj))
    return np.asarray(xs), np.asarray(ys), where


def _evaluate(
    cases: list[EvalCase], probs: dict[tuple[int, int], float], covered_at: float, partial_at: float
) -> tuple[float, float]:
    tp = fp = fn = 0
    gold_scores, pred_scores = [], []
    for ci, case in enumerate(cases):
        points = case.rubric_points()
        verdicts = []
        for pj, point in enumerate(points):
            p = probs.get((ci, pj), 0.0)
            status = (
                Status.COVERED
                if p >= covered_at
                else Status.PARTIAL
                if p >= partial_at
                else Status.MISSED
            )
            verdicts.append(PointVerdict(point_id=point.id, status=status, confidence=1.0))
            gold = point.id in set(case.gold.covered or [])
            tp += gold and status is Status.COVERED
            fp += (not gold) and status is Status.COVERED
            fn += gold and status is not Status.COVERED
        gold_scores.append(int(min(4, max(0, round(case.gold.score)))))
        pred_scores.append(int(min(4, max(0, round(weighted_score(verdicts, points))))))
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return f1, qwk(gold_scores, pred_scores)


def fit(dataset: Path, out: Path) -> dict[str, object]:
    from sklearn.linear_model import LogisticRegression

    cases = load_cases(dataset, "dev")
    x, y, where = _rows(cases)
    # "covered" is the positive class; partial points count as half a positive.
    labels = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    weights = np.concatenate([y, 1 - y])
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(np.vstack([x, x]), labels, sample_weight=weights + 1e-9)
    probs = dict(zip(where, model.predict_proba(x)[:, 1], strict=True))
    best = (-1.0, 0.5, 0.3, 0.0, 0.0)
    for covered_at in np.arange(0.30, 0.86, 0.025):
        for partial_at in np.arange(0.10, covered_at, 0.025):
            f1, k = _evaluate(cases, probs, float(covered_at), float(partial_at))
            if f1 + k > best[0]:
                best = (f1 + k, float(covered_at), float(partial_at), f1, k)
    _, covered_at, partial_at, f1, k = best
    result = {
        "version": "embedded.v1",
        "fitted": datetime.now(UTC).strftime("%Y-%m-%d"),
        "dataset": f"{dataset.name} (dev split, {len(cases)} answers, {len(y)} points)",
        "features": list(FEATURES),
        "coef": [round(float(c), 5) for c in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 5),
        "covered_at": round(covered_at, 3),
        "partial_at": round(partial_at, 3),
        "dev_point_f1": round(f1, 4),
        "dev_score_qwk": round(k, 4),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    Calibration.load(out)  # the file must load back
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=GRADING)
    parser.add_argument("--out", type=Path, default=CALIBRATION)
    args = parser.parse_args()
    print(json.dumps(fit(args.dataset, args.out), indent=2))


if __name__ == "__main__":
    main()
