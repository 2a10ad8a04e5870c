"""Merge authored parts (evals/datasets/parts/*.jsonl) into evals/datasets/grading.v1.jsonl."""

import json
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[1] / "evals" / "datasets"
rows = []
for part in sorted((root / "parts").glob("grading_part*.jsonl")):
    rows += [json.loads(line) for line in part.read_text().splitlines() if line.strip()]
ids = [r["id"] for r in rows]
if len(ids) != len(set(ids)):
    sys.exit("duplicate ids across parts")
rows.sort(key=lambda r: (r["split"], r["item_id"], r["tags"][0]))
out = root / "grading.v1.jsonl"
out.write_text("".join(json.dumps(r, ensure_ascii=True) + "\n" for r in rows))
questions = {r["item_id"] for r in rows}
test = {r["item_id"] for r in rows if r["split"] == "test"}
print(f"{out}: {len(rows)} answers, {len(questions)} questions, {len(test)} in test")
