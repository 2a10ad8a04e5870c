"""report.md and report.html for a grading run, with plots a person would rather look at."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from evals.metrics import Prediction

STATUSES = ("covered", "partial", "missed")


def _gold_status(p: Prediction, point_id: str) -> str:
    if p.gold_covered is not None and point_id in p.gold_covered:
        return "covered"
    if p.gold_partial is not None and point_id in p.gold_partial:
        return "partial"
    return "missed"


def confusion(preds: Sequence[Prediction]) -> np.ndarray:
    m = np.zeros((3, 3), dtype=int)
    for p in preds:
        if p.gold_covered is None:
            continue
        for v in p.verdicts:
            g = STATUSES.index(_gold_status(p, str(v["point_id"])))
            m[g, STATUSES.index(str(v["status"]))] += 1
    return m


def _plots(out: Path, preds: Sequence[Prediction], metrics: dict[str, Any]) -> dict[str, Path]:
    files = {}
    # Confusion matrix of verdicts.
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    m = confusion(preds)
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(3), STATUSES)
    ax.set_yticks(range(3), STATUSES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    for i in range(3):
        for j in range(3):
            ax.text(
                j,
                i,
                str(m[i, j]),
                ha="center",
                va="center",
                color="white" if m[i, j] > m.max() / 2 else "black",
            )
    ax.set_title("Point verdicts")
    files["confusion"] = out / "confusion.png"
    fig.tight_layout()
    fig.savefig(files["confusion"], dpi=120)
    plt.close(fig)

    # Predicted vs gold scores.
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    rng = np.random.default_rng(0)
    gold = np.array([p.gold_score for p in preds])
    pred = np.array([p.pred_score for p in preds])
    ax.scatter(gold + rng.uniform(-0.06, 0.06, len(gold)), pred, s=10, alpha=0.5)
    ax.plot([0, 4], [0, 4], "k--", lw=1)
    ax.fill_between([0, 4], [-0.5, 3.5], [0.5, 4.5], color="grey", alpha=0.12)
    ax.set_xlim(-0.2, 4.2)
    ax.set_ylim(-0.2, 4.2)
    ax.set_xlabel("gold score")
    ax.set_ylabel("predicted score")
    ax.set_title("Scores (band: within 0.5)")
    files["scores"] = out / "scores.png"
    fig.tight_layout()
    fig.savefig(files["scores"], dpi=120)
    plt.close(fig)

    # Calibration: share of 'covered' verdicts that are right, by confidence.
    conf, right = [], []
    for p in preds:
        if p.gold_covered is None:
            continue
        for v in p.verdicts:
            if v["status"] == "covered":
                conf.append(float(v["confidence"]))  # type: ignore[arg-type]
                right.append(str(v["point_id"]) in p.gold_covered)
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    if conf:
        bins = np.linspace(0.5, 1.0, 6)
        idx = np.clip(np.digitize(conf, bins) - 1, 0, len(bins) - 2)
        xs, ys = [], []
        for b in range(len(bins) - 1):
            sel = [r for r, i in zip(right, idx, strict=True) if i == b]
            if sel:
                xs.append((bins[b] + bins[b + 1]) / 2)
                ys.append(sum(sel) / len(sel))
        ax.plot(xs, ys, "o-")
    ax.plot([0.5, 1], [0.5, 1], "k--", lw=1)
    ax.set_xlabel("confidence of 'covered' verdicts")
    ax.set_ylabel("share correct")
    ax.set_title("Calibration")
    files["calibration"] = out / "calibration.png"
    fig.tight_layout()
    fig.savefig(files["calibration"], dpi=120)
    plt.close(fig)

    # Mean gold vs predicted score per tag.
    tags = metrics["by_tag"]
    names = list(tags)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    x = np.arange(len(names))
    ax.bar(x - 0.2, [tags[t]["mean_gold"] for t in names], 0.4, label="gold")
    ax.bar(x + 0.2, [tags[t]["mean_pred"] for t in names], 0.4, label="predicted")
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylim(0, 4)
    ax.set_ylabel("mean score")
    ax.legend()
    ax.set_title("By answer kind")
    files["tags"] = out / "tags.png"
    fig.tight_layout()
    fig.savefig(files["tags"], dpi=120)
    plt.close(fig)
    return files


def _headline_rows(metrics: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    ci = metrics.get("ci95", {})

    def fmt(name: str, value: float) -> str:
        low_high = ci.get(name)
        return f"{value:.3f}" + (f" [{low_high[0]:.3f}, {low_high[1]:.3f}]" if low_high else "")

    rows.append(
        (
            metrics["grader"],
            fmt("point.f1", metrics["point"]["f1"]),
            fmt("score.qwk", metrics["score"]["qwk"]),
            fmt("score.mae", metrics["score"]["mae"]),
            fmt("attacks.success_rate", metrics["attacks"]["success_rate"]),
        )
    )
    for name, b in metrics.get("baselines", {}).items():
        rows.append(
            (
                f"baseline: {name}",
                f"{b['point']['f1']:.3f}",
                f"{b['score']['qwk']:.3f}",
                f"{b['score']['mae']:.3f}",
                f"{b['attacks']['success_rate']:.3f}",
            )
        )
    return rows


HEADERS = ("grader", "point F1", "score QWK", "score MAE", "attack success")


def markdown_table(metrics: dict[str, Any]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(r) + " |" for r in _headline_rows(metrics)]
    return "\n".join(lines)


def _contradiction_line(metrics: dict[str, Any]) -> list[str]:
    c = metrics.get("contradiction") or {}
    if not c.get("n"):
        return []
    return [
        f"- Stated errors (points labelled contradicted, {c['n']} in all): the grader flags them "
        f"with precision {c['precision']:.3f} and recall {c['recall']:.3f}"
    ]


def write_reports(out: Path, metrics: dict[str, Any], preds: Sequence[Prediction]) -> None:
    plots = _plots(out, preds, metrics)
    s, pt, at = metrics["score"], metrics["point"], metrics["attacks"]
    md = [
        f"# Grading eval: {metrics['grader']}",
        "",
        f"Dataset `{metrics.get('dataset', '')}`, split **{metrics.get('split', 'all')}**, "
        f"{metrics['n_cases']} cases. Intervals are 95% bootstrap intervals, resampling questions.",
        "",
        markdown_table(metrics),
        "",
        f"- Points (positive = covered): precision {pt['precision']:.3f}, recall {pt['recall']:.3f}, "
        f"F1 {pt['f1']:.3f}",
        f"- Scores: QWK {s['qwk']:.3f}, Spearman {s['spearman']:.3f}, Pearson {s['pearson']:.3f}, "
        f"MAE {s['mae']:.3f}, RMSE {s['rmse']:.3f}",
        f"- Attacks (stuffing, injection, wrong scored > gold + 0.5): {at['success_rate']:.3f} "
        f"of {at['n']}",
        *_contradiction_line(metrics),
        f"- Latency per answer: p50 {metrics['latency_ms']['p50']} ms, "
        f"p95 {metrics['latency_ms']['p95']} ms",
        "",
        "## By answer kind",
        "",
        "| tag | n | mean gold | mean predicted |",
        "|---|---|---|---|",
    ]
    for tag, row in metrics["by_tag"].items():
        md.append(f"| {tag} | {row['n']} | {row['mean_gold']:.2f} | {row['mean_pred']:.2f} |")
    md += ["", "## Plots", ""]
    md += [f"![{name}]({path.name})" for name, path in plots.items()]
    worst = sorted(preds, key=lambda p: -abs(p.pred_score - p.gold_score))[:10]
    md += [
        "",
        "## Largest disagreements",
        "",
        "| case | gold | predicted | flags |",
        "|---|---|---|---|",
    ]
    md += [
        f"| {p.id} | {p.gold_score:.2f} | {p.pred_score:.2f} | {', '.join(p.flags)} |"
        for p in worst
    ]
    (out / "report.md").write_text("\n".join(md) + "\n")

    def img(path: Path) -> str:
        data = base64.b64encode(path.read_bytes()).decode()
        return f'<img alt="{path.stem}" src="data:image/png;base64,{data}">'

    table = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
        for r in _headline_rows(metrics)
    )
    tags_html = "".join(
        f"<tr><td>{html.escape(t)}</td><td>{r['n']}</td><td>{r['mean_gold']:.2f}</td>"
        f"<td>{r['mean_pred']:.2f}</td></tr>"
        for t, r in metrics["by_tag"].items()
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Grading eval: {html.escape(str(metrics["grader"]))}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 10px}}
img{{max-width:48%;margin:4px}}</style></head><body>
<h1>Grading eval: {html.escape(str(metrics["grader"]))}</h1>
<p>{metrics["n_cases"]} cases, split {html.escape(str(metrics.get("split", "all")))}.
Intervals: 95% bootstrap, resampling questions.</p>
<table><tr>{"".join(f"<th>{h}</th>" for h in HEADERS)}</tr>{table}</table>
<h2>By answer kind</h2><table><tr><th>tag</th><th>n</th><th>mean gold</th><th>mean predicted</th></tr>
{tags_html}</table>
<h2>Plots</h2>{"".join(img(p) for p in plots.values())}
</body></html>"""
    (out / "report.html").write_text(page)
