"""Metrics for grading runs: point P/R/F1, score agreement, attacks, per tag, bootstrap CIs."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict

from evals.dataset import ATTACK_TAGS


class Prediction(BaseModel):
    """One graded case, as written to `cases.jsonl`."""

    model_config = ConfigDict(extra="forbid")

    id: str
    question_key: str
    split: str | None
    tags: list[str]
    gold_score: float
    pred_score: float
    gold_covered: list[str] | None
    gold_partial: list[str] | None
    gold_contradicted: list[str] | None = None
    verdicts: list[dict[str, object]]
    flags: list[str]
    grader: str
    fallback_reason: str | None
    latency_ms: float

    @property
    def pred_covered(self) -> set[str]:
        return {str(v["point_id"]) for v in self.verdicts if v["status"] == "covered"}

    @property
    def pred_contradicted(self) -> set[str]:
        return {str(v["point_id"]) for v in self.verdicts if v.get("contradicted")}


def qwk(gold: Sequence[int], pred: Sequence[int], k: int = 5) -> float:
    """Quadratic weighted kappa on integer ratings 0..k-1."""
    o = np.zeros((k, k))
    for g, p in zip(gold, pred, strict=True):
        o[g, p] += 1
    if o.sum() == 0:
        return 0.0
    w = np.array([[(i - j) ** 2 / (k - 1) ** 2 for j in range(k)] for i in range(k)])
    e = np.outer(o.sum(axis=1), o.sum(axis=0)) / o.sum()
    denom = (w * e).sum()
    return float(1 - (w * o).sum() / denom) if denom else 1.0


def _to_int(x: float) -> int:
    return int(min(4, max(0, math.floor(x + 0.5))))


def _counts(
    preds: Sequence[Prediction], pair: Callable[[Prediction], tuple[set[str], set[str]]]
) -> tuple[int, int, int]:
    """True positives, false positives, false negatives over point-labelled cases;
    `pair` gives a case's (gold, predicted) point ids."""
    tp = fp = fn = 0
    for p in preds:
        if p.gold_covered is None:
            continue
        gold, got = pair(p)
        tp += len(gold & got)
        fp += len(got - gold)
        fn += len(gold - got)
    return tp, fp, fn


def _precision_recall(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def point_prf(preds: Sequence[Prediction]) -> dict[str, float]:
    counts = _counts(preds, lambda p: (set(p.gold_covered or []), p.pred_covered))
    precision, recall = _precision_recall(*counts)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def contradiction_metrics(preds: Sequence[Prediction]) -> dict[str, float]:
    """How well the grader spots points an answer states wrongly (positive = contradicted).

    Counted on point-labelled cases; one without `gold.contradicted` contradicts nothing."""
    tp, fp, fn = _counts(preds, lambda p: (set(p.gold_contradicted or []), p.pred_contradicted))
    precision, recall = _precision_recall(tp, fp, fn)
    return {"n": tp + fn, "precision": round(precision, 4), "recall": round(recall, 4)}


def score_metrics(preds: Sequence[Prediction]) -> dict[str, float]:
    import warnings

    from scipy.stats import pearsonr, spearmanr

    warnings.simplefilter("ignore", RuntimeWarning)
    gold = np.array([p.gold_score for p in preds])
    pred = np.array([p.pred_score for p in preds])
    constant = gold.std() == 0 or pred.std() == 0
    return {
        "qwk": round(qwk([_to_int(g) for g in gold], [_to_int(x) for x in pred]), 4),
        "spearman": 0.0 if constant else round(float(spearmanr(gold, pred).statistic), 4),
        "pearson": 0.0 if constant else round(float(pearsonr(gold, pred).statistic), 4),
        "mae": round(float(np.abs(gold - pred).mean()), 4),
        "rmse": round(float(np.sqrt(((gold - pred) ** 2).mean())), 4),
    }


def attack_metrics(preds: Sequence[Prediction]) -> dict[str, float]:
    attacks = [p for p in preds if set(p.tags) & set(ATTACK_TAGS)]
    wins = [p for p in attacks if p.pred_score > p.gold_score + 0.5]
    return {
        "n": len(attacks),
        "success_rate": round(len(wins) / len(attacks), 4) if attacks else 0.0,
    }


def by_tag(preds: Sequence[Prediction]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[Prediction]] = defaultdict(list)
    for p in preds:
        for tag in p.tags:
            groups[tag].append(p)
    return {
        tag: {
            "n": len(ps),
            "mean_gold": round(float(np.mean([p.gold_score for p in ps])), 3),
            "mean_pred": round(float(np.mean([p.pred_score for p in ps])), 3),
        }
        for tag, ps in sorted(groups.items())
    }


def latency(preds: Sequence[Prediction]) -> dict[str, float]:
    ms = sorted(p.latency_ms for p in preds)
    return {
        "p50": round(float(np.percentile(ms, 50)), 2),
        "p95": round(float(np.percentile(ms, 95)), 2),
    }


def all_metrics(preds: Sequence[Prediction], grader: str) -> dict[str, object]:
    return {
        "n_cases": len(preds),
        "grader": grader,
        "point": point_prf(preds),
        "score": score_metrics(preds),
        "attacks": attack_metrics(preds),
        "contradiction": contradiction_metrics(preds),
        "by_tag": by_tag(preds),
        "latency_ms": latency(preds),
    }


def clustered_bootstrap(
    preds: Sequence[Prediction],
    statistic: Callable[[Sequence[Prediction]], float],
    n: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95% interval, resampling whole questions so answers to one question stay together."""
    clusters: dict[str, list[Prediction]] = defaultdict(list)
    for p in preds:
        clusters[p.question_key].append(p)
    keys = sorted(clusters)
    rng = random.Random(seed)
    stats = []
    for _ in range(n):
        sample = [p for k in rng.choices(keys, k=len(keys)) for p in clusters[k]]
        stats.append(statistic(sample))
    low, high = np.percentile(stats, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


CI_STATISTICS: dict[str, Callable[[Sequence[Prediction]], float]] = {
    "point.f1": lambda ps: point_prf(ps)["f1"],
    "score.qwk": lambda ps: score_metrics(ps)["qwk"],
    "score.mae": lambda ps: score_metrics(ps)["mae"],
    "attacks.success_rate": lambda ps: attack_metrics(ps)["success_rate"],
}


def confidence_intervals(preds: Sequence[Prediction], n: int = 1000) -> dict[str, list[float]]:
    return {name: list(clustered_bootstrap(preds, fn, n)) for name, fn in CI_STATISTICS.items()}
