"""Fit the embedded grader's calibration on the DEV split only, and save it as a small file.

    python -m evals.fit_calibration [--dataset evals/datasets/grading.v1.jsonl]

Two logistic models over the grader's per-point features: one predicts "covered"; the
other predicts "the best span states the opposite of the point", trained on the points
labelled `gold.contradicted` in dev's answers. The three thresholds (covered, partial,
contradicted) and the score lost per flagged error are then chosen on dev to maximise point
F1 plus score QWK, minus attack success, twice any paraphrase gap beyond 0.15, scores above
0.5 for answers that deserve nothing (off-topic, empty, term lists) and the share of answers
with no labelled error (strong, paraphrase, partial, weak, injection) told they stated one:
agreement alone would happily trade a few fooled attacks for a hair of F1, and attack
success alone would accuse honest candidates. Thresholds are chosen on out-of-fold
probabilities (each dev question scored by models fit without it); the shipped models are
then fit on all of dev. The evaluation applies the grader's own rules that a span about
something else is never evidence and that weakly supported points earn nothing outside a
broad answer (`standing_credit`). Last, the fitted models and thresholds grade the fresh
answers to dev's questions (`evals.dataset.DEV_FRESH`), which no fit reads, and the file's
`validation` block records how they did: a model that has learnt dev's own answers rather
than the task shows there before anyone reads the test split. The test split is never read
here.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from bot.grading.embedded import (
    CALIBRATION,
    CONTRA_FEATURES,
    FEATURES,
    SIM,
    Calibration,
    EmbeddedGrader,
    contra_inputs,
    prepare,
    standing_credit,
)
from bot.grading.models import PointVerdict, Status
from bot.grading.scoring import CONTRADICTION_PENALTY, weighted_score
from evals.dataset import (
    ATTACK_TAGS,
    DEV_FRESH,
    GRADING,
    NOTHING_DESERVED_TAGS,
    EvalCase,
    load_cases,
    shipped_points,
)
from evals.metrics import qwk

VERSION = "embedded.v8"


# Features do not depend on the calibration; any one will do while computing them.
DEFAULT_FOR_FEATURES = Calibration(
    coef=(0.0,) * len(FEATURES), intercept=0.0, covered_at=0.5, partial_at=0.5
)


@dataclass
class Rows:
    x: np.ndarray  # covered-model features
    y: np.ndarray  # 1 covered, 0.5 partial, 0 missed
    cx: np.ndarray  # contradiction-model features
    cy: np.ndarray  # 1 when the point is addressed wrongly
    where: list[tuple[int, int]]  # (case, point)


def _rows(cases: list[EvalCase], grader: EmbeddedGrader) -> Rows:
    xs, ys, cxs, cys, where = [], [], [], [], []
    for ci, case in enumerate(tqdm(cases, desc="features", unit="answer")):
        points = case.rubric_points(shipped_points())
        view = prepare(case.answer, case.question)
        feats, best, _ = grader.features(view, points)
        credited = set(case.gold.covered or []) | set(case.gold.partial or [])
        contradicted = set(case.gold.contradicted or [])
        for pj, point in enumerate(points):
            if best[pj] is None:
                continue  # gated answers are decided by rules, not by the model
            covered = point.id in set(case.gold.covered or [])
            xs.append(feats[pj])
            ys.append(1.0 if covered else 0.5 if point.id in credited else 0.0)
            cxs.append(contra_inputs(feats[pj]))
            cys.append(float(point.id in contradicted))
            where.append((ci, pj))
    return Rows(np.asarray(xs), np.asarray(ys), np.asarray(cxs), np.asarray(cys), where)


def _logistic(x: np.ndarray, y: np.ndarray):  # type: ignore[no-untyped-def]
    """Logistic regression on soft labels: a 0.5 label counts as half a positive."""
    from sklearn.linear_model import LogisticRegression

    labels = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    weights = np.concatenate([y, 1 - y])
    model = LogisticRegression(C=1.0, max_iter=3000)
    model.fit(np.vstack([x, x]), labels, sample_weight=weights + 1e-9)
    return model


def _evaluate(
    cases: list[EvalCase],
    probs: dict[tuple[int, int], tuple[float, float, float]],
    covered_at: float,
    partial_at: float,
    contra_at: float,
    penalty: float = CONTRADICTION_PENALTY,
) -> dict[str, float]:
    tp = fp = fn = 0
    gold_scores, pred_scores, attacks, para_gap, undeserved, accused = [], [], [], [], [], []
    cal = Calibration(
        coef=(), intercept=0.0, covered_at=covered_at, partial_at=partial_at, contra_at=contra_at
    )
    for ci, case in enumerate(cases):
        points = case.rubric_points(shipped_points())
        got = [probs.get((ci, pj), (0.0, 0.0, 0.0)) for pj in range(len(points))]
        statuses = standing_credit([cal.status(p, c) for p, c, _ in got], [s for _, _, s in got])
        verdicts = []
        for point, (_, c, _), status in zip(points, got, statuses, strict=True):
            verdicts.append(
                PointVerdict(
                    point_id=point.id, status=status, confidence=1.0, contradicted=c >= contra_at
                )
            )
            gold = point.id in set(case.gold.covered or [])
            tp += gold and status is Status.COVERED
            fp += (not gold) and status is Status.COVERED
            fn += gold and status is not Status.COVERED
        score = weighted_score(verdicts, points, penalty)
        gold_scores.append(int(min(4, max(0, round(case.gold.score)))))
        pred_scores.append(int(min(4, max(0, round(score)))))
        if set(case.tags) & set(ATTACK_TAGS):
            attacks.append(score > case.gold.score + 0.5)
        if "paraphrase" in case.tags:
            para_gap.append(score - case.gold.score)
        if set(case.tags) & set(NOTHING_DESERVED_TAGS):
            undeserved.append(score > 0.5)
        if not case.gold.contradicted and not set(case.tags) & set(NOTHING_DESERVED_TAGS):
            accused.append(any(v.contradicted for v in verdicts))
    return {
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "qwk": qwk(gold_scores, pred_scores),
        "attack": float(np.mean(attacks)) if attacks else 0.0,
        "paraphrase_gap": float(np.mean(para_gap)) if para_gap else 0.0,
        "undeserved": float(np.mean(undeserved)) if undeserved else 0.0,
        "accused": float(np.mean(accused)) if accused else 0.0,
    }


PENALTIES = (0.5, 0.75, 1.0)
"""Candidate scores lost per flagged error (`scoring.CONTRADICTION_PENALTY` must be the one
chosen): never more than a point, since a correct answer wrongly flagged pays it too."""
PARAPHRASE_SLACK = 0.15
"""How far dev's paraphrases may score from gold before the objective pays for it, twice over:
with 0.3 and a single price, the fit bought stricter thresholds that cost test paraphrases
half a point (a dev gap of -0.26 became -0.51 on test)."""


def _objective(m: dict[str, float]) -> float:
    gap = max(0.0, abs(m["paraphrase_gap"]) - PARAPHRASE_SLACK)
    return m["f1"] + m["qwk"] - 2 * m["attack"] - 2 * gap - 2 * m["undeserved"] - m["accused"]


FOLDS = 5


def _out_of_fold(
    rows: Rows, questions: list[str]
) -> dict[tuple[int, int], tuple[float, float, float]]:
    """Per point: P(covered) and P(contradicted) from models fit without its question, and its
    similarity. Thresholds chosen on in-sample probabilities trusted a contradiction model that
    had seen its 72 dev errors; held-out probabilities are what new questions will get."""
    from sklearn.model_selection import GroupKFold

    covered, contra = np.zeros(len(rows.y)), np.zeros(len(rows.y))
    for train, held in GroupKFold(n_splits=FOLDS).split(rows.x, rows.y, questions):
        covered[held] = _logistic(rows.x[train], rows.y[train]).predict_proba(rows.x[held])[:, 1]
        contra[held] = _logistic(rows.cx[train], rows.cy[train]).predict_proba(rows.cx[held])[:, 1]
    return {
        where: (float(p), float(c), float(s))
        for where, p, c, s in zip(rows.where, covered, contra, rows.x[:, SIM], strict=True)
    }


def _validate(
    cases: list[EvalCase],
    rows: Rows,
    covered: Any,
    contra: Any,
    thresholds: tuple[float, float, float],
    penalty: float,
) -> dict[str, float]:
    """The fitted models and thresholds on answers they were not fit on."""
    p_covered = covered.predict_proba(rows.x)[:, 1]
    p_contra = contra.predict_proba(rows.cx)[:, 1]
    probs = {
        where: (float(p), float(c), float(s))
        for where, p, c, s in zip(rows.where, p_covered, p_contra, rows.x[:, SIM], strict=True)
    }
    return _evaluate(cases, probs, *thresholds, penalty)


def fit(
    dataset: Path,
    out: Path,
    grader: EmbeddedGrader | None = None,
    validation: Path | None = DEV_FRESH,
) -> dict[str, object]:
    cases = load_cases(dataset, "dev")
    grader = grader or EmbeddedGrader(calibration=DEFAULT_FOR_FEATURES)
    rows = _rows(cases, grader)
    covered = _logistic(rows.x, rows.y)
    contra = _logistic(rows.cx, rows.cy)
    probs = _out_of_fold(rows, [cases[ci].question_key for ci, _ in rows.where])
    best: dict[float, tuple[float, float, float, float, dict[str, float]]] = {}
    for penalty in PENALTIES:
        for covered_at in np.arange(0.30, 0.86, 0.05):
            for partial_at in np.arange(0.10, covered_at + 1e-9, 0.05):
                for contra_at in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01):
                    m = _evaluate(
                        cases, probs, float(covered_at), float(partial_at), contra_at, penalty
                    )
                    if penalty not in best or _objective(m) > best[penalty][3]:
                        best[penalty] = (
                            float(covered_at),
                            float(partial_at),
                            contra_at,
                            _objective(m),
                            m,
                        )
    penalty = max(PENALTIES, key=lambda p: best[p][3])
    covered_at, partial_at, contra_at, _, m = best[penalty]
    if penalty != CONTRADICTION_PENALTY:
        print(
            f"dev chose {penalty} per flagged error: set scoring.CONTRADICTION_PENALTY to it",
            file=sys.stderr,
        )
    result = {
        "version": VERSION,
        "fitted": datetime.now(UTC).strftime("%Y-%m-%d"),
        "dataset": f"{dataset.name} (dev split, {len(cases)} answers, {len(rows.y)} points)",
        "features": list(FEATURES),
        "coef": [round(float(c), 5) for c in covered.coef_[0]],
        "intercept": round(float(covered.intercept_[0]), 5),
        "covered_at": round(covered_at, 3),
        "partial_at": round(partial_at, 3),
        "contra_features": list(CONTRA_FEATURES),
        "contra_coef": [round(float(c), 5) for c in contra.coef_[0]],
        "contra_intercept": round(float(contra.intercept_[0]), 5),
        "contra_at": round(contra_at, 3),
        "contradiction_penalty": penalty,
        "dev_objective_by_penalty": {str(p): round(best[p][3], 4) for p in PENALTIES},
        "dev_point_f1": round(m["f1"], 4),
        "dev_score_qwk": round(m["qwk"], 4),
        "dev_attack_success": round(m["attack"], 4),
        "dev_paraphrase_gap": round(m["paraphrase_gap"], 4),
        "dev_metrics": f"out-of-fold ({FOLDS} folds by question)",
        "dev_answers_without_errors_accused": round(m["accused"], 4),
    }
    if validation is not None:
        fresh = load_cases(validation, "dev")
        v = _validate(
            fresh,
            _rows(fresh, grader),
            covered,
            contra,
            (covered_at, partial_at, contra_at),
            penalty,
        )
        result["validation"] = {
            "dataset": f"{validation.name} ({len(fresh)} fresh answers to dev's questions)",
            **{k: round(value, 4) for k, value in v.items()},
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    Calibration.load(out)  # the file must load back
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", type=Path, default=GRADING)
    parser.add_argument("--out", type=Path, default=CALIBRATION)
    parser.add_argument("--validation", type=Path, default=DEV_FRESH)
    args = parser.parse_args()
    print(json.dumps(fit(args.dataset, args.out, validation=args.validation), indent=2))


if __name__ == "__main__":
    main()
