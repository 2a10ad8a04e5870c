"""Check one part of the labelled grading dataset (for authors of labelled answers)."""

import json
import sys

TAGS = [
    "strong",
    "partial",
    "weak",
    "paraphrase",
    "stuffing",
    "wrong",
    "injection",
    "offtopic",
    "empty",
]
part = sys.argv[1]
with open(sys.argv[2]) as fh:
    questions = json.load(fh)
by_item = {q["item_id"]: q for q in questions}
problems, seen, per_item = [], set(), {}
with open(part) as fh:
    lines = fh.read().splitlines()
for n, line in enumerate(lines, 1):
    if not line.strip():
        continue
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        problems.append(f"line {n}: invalid JSON: {exc}")
        continue
    keys = {"id", "item_id", "split", "question", "rubric", "answer", "gold", "tags"}
    if set(row) != keys:
        problems.append(f"line {n}: keys must be exactly {sorted(keys)}, got {sorted(row)}")
        continue
    q = by_item.get(row["item_id"])
    if q is None:
        problems.append(f"line {n}: unknown item_id {row['item_id']}")
        continue
    if row["id"] in seen:
        problems.append(f"line {n}: duplicate id {row['id']}")
    seen.add(row["id"])
    if (
        row["rubric"] != q["rubric"]
        or row["question"] != q["question"]
        or row["split"] != q["split"]
    ):
        problems.append(f"line {n}: rubric/question/split must be copied exactly from the input")
    tag = row["tags"][0] if row["tags"] else None
    if tag not in TAGS or row["tags"][1:] != [q["kind"]]:
        problems.append(f"line {n}: tags must be [<one of {TAGS}>, '{q['kind']}']")
    per_item.setdefault(row["item_id"], []).append(tag)
    gold = row["gold"]
    ids = {p["id"] for p in q["rubric"]}
    cov, par = set(gold.get("covered", [])), set(gold.get("partial", []))
    if set(gold) - {"covered", "partial", "score"} or not (cov | par) <= ids or cov & par:
        problems.append(f"line {n}: gold covered/partial must be disjoint lists of rubric ids")
    weights = {p["id"]: p["weight"] for p in q["rubric"]}
    base = (
        4
        * (sum(weights[i] for i in cov) + 0.5 * sum(weights[i] for i in par))
        / sum(weights.values())
    )
    score = gold.get("score")
    if not isinstance(score, (int, float)) or not 0 <= score <= 4:
        problems.append(f"line {n}: score must be a number in [0, 4]")
    elif not (base - 1.0 - 0.13 <= score <= base + 0.13):
        problems.append(
            f"line {n}: score {score} is inconsistent with the labels (base {base:.2f})"
        )
    if tag in ("stuffing", "offtopic", "empty") and (cov or score > 0.5):
        problems.append(f"line {n}: a {tag} answer should cover nothing and score ~0")
    if tag in ("injection", "wrong") and score > 2.0:
        problems.append(f"line {n}: a {tag} answer should score low (got {score})")
for item_id in by_item:
    if sorted(per_item.get(item_id, [])) != sorted(TAGS):
        problems.append(
            f"{item_id}: needs exactly one answer per tag, has {sorted(per_item.get(item_id, []))}"
        )
print("\n".join(problems) if problems else f"ok: {len(seen)} answers")
sys.exit(1 if problems else 0)
