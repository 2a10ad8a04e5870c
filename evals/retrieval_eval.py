"""Recall of question retrieval on paraphrases of the concept questions.

`retrieval_paraphrases.v1.jsonl` is the held-out **test** set: it is only
measured, never tuned on. `retrieval_paraphrases_dev.v1.jsonl` is the
development set the retrieval weights were chosen on, together with
leave-one-out on the corpus's own alternative phrasings. Both were written
apart from the corpus's phrasings and from each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from evals.dataset import read_jsonl
from knowledge.retrieval import Mode, Retriever

DATASETS = Path(__file__).resolve().parent / "datasets"
PARAPHRASES = DATASETS / "retrieval_paraphrases.v1.jsonl"
DEV_PARAPHRASES = DATASETS / "retrieval_paraphrases_dev.v1.jsonl"


class Paraphrase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    query: str
    expected: str
    style: str


def load_paraphrases(path: Path = PARAPHRASES) -> list[Paraphrase]:
    return read_jsonl(path, Paraphrase)


@dataclass
class RecallReport:
    mode: str
    n: int
    recall_at_1: float
    recall_at_5: float
    misses: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "n": self.n,
            "recall@1": round(self.recall_at_1, 4),
            "recall@5": round(self.recall_at_5, 4),
            "misses": self.misses,
        }


def evaluate(retriever: Retriever, cases: list[Paraphrase], mode: Mode = "hybrid") -> RecallReport:
    at1 = at5 = 0
    misses: list[dict[str, object]] = []
    for case in cases:
        ranked = [m.item_id for m in retriever.find_question(case.query, k=5, mode=mode)]
        at1 += bool(ranked) and ranked[0] == case.expected
        at5 += case.expected in ranked
        if not ranked or ranked[0] != case.expected:
            misses.append(
                {"id": case.id, "query": case.query, "expected": case.expected, "got": ranked[:3]}
            )
    n = len(cases) or 1
    return RecallReport(mode, len(cases), at1 / n, at5 / n, misses)


if __name__ == "__main__":  # pragma: no cover - manual inspection
    from bot.settings import Settings
    from knowledge.ingest import ensure_index

    store = ensure_index(Settings()).store
    for name, path in (("dev", DEV_PARAPHRASES), ("held-out", PARAPHRASES)):
        for mode in ("phrasing", "dense", "lexical", "hybrid"):
            report = evaluate(Retriever(store), load_paraphrases(path), mode)  # type: ignore[arg-type]
            row = {k: v for k, v in report.as_dict().items() if k != "misses"}
            print(json.dumps({"set": name, **row}))
