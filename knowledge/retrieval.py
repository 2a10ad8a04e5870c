"""Retrieval used by the rest of the app: find the question item, its rubric, cited passages.

Questions: dense similarity of the query to an item's phrasings, to its answer
profile (question and model answer), to its closest rubric point, to its
topic tags and to its closest rubric probe (the follow-up questions, which
read like a candidate's scenario questions), plus BM25 over the item's whole
text (phrasings, model answer, rubric and tags), added with fixed weights.
Passages: dense and BM25 fused by reciprocal rank. `evals/bench_knowledge.py` measures every mode on the
held-out paraphrases, so each part of the combination earns its place.

How the question weights were chosen: never on the held-out paraphrases
(`evals/datasets/retrieval_paraphrases.v1.jsonl`, a test set). They were
picked by a coarse grid search on two development signals only: the
development paraphrases (`evals/datasets/retrieval_paraphrases_dev.v1.jsonl`,
written apart from both the corpus phrasings and the held-out set) and
leave-one-out on the corpus's own alternative phrasings (each alternative
phrasing queried with itself removed from its item). The chosen point sits
in the middle of a broad plateau of that search rather than on its best
cell. Added later on the same two signals, the earlier weights unchanged:
the probe part (weight 0.5; development recall@1 is flat from 0.5 to 1.0 and
one query lower at 0.25) and the question BM25's own terms (`search_terms`:
"ies", plural, verb and final-e endings folded, and "train/serve" or
"two-tower" also indexed by their parts; splitting alone had not helped, with
the folding it gains about one development query). Tried on the same signals
and left out because they did not help: reciprocal-rank fusion of the parts
(alone or added to the scores), per-query z-scored parts, a hub penalty for
items close to many other items' phrasings, the mean or a soft maximum of an
item's top phrasings, stripping "what is" / "explain" / "walk me through"
from the query before embedding it, bigrams, the probes or rubric keywords in
the BM25 text, other BM25 k1 and b, and a phrasing centroid.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from knowledge.models import Citation, QuestionItem, RubricPoint
from knowledge.store import PASSAGES, QUESTIONS, RUBRIC, KnowledgeStore

Mode = Literal["hybrid", "dense", "phrasing", "lexical"]
RRF_K = 60
DENSE_POOL = 100
# Chosen on the development signals only (see the module docstring); the phrasing weighs 1.
W_ANSWER = 1.5
W_RUBRIC = 0.5
W_TAGS = 0.75
W_PROBE = 0.5
W_LEXICAL = 0.5

_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "to",
        "us",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "explain",
        "describe",
        "tell",
        "about",
        "walk",
        "through",
        "please",
    ]
)


def tokenize(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+(?:[-/][a-z0-9]+)*", text.lower())
    return [_stem(w) for w in words if w not in _STOP]


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _search_stem(word: str) -> str:
    """`_stem`, plus "ies" to "y" and a final "e" dropped, so "feature" meets "features"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    word = _stem(word)
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def search_terms(text: str) -> list[str]:
    """Terms of the question BM25: stems, and a hyphenated or slashed word's parts too.

    Kept apart from `tokenize`, which other callers (the grader's word overlap) rely on.
    """
    terms = []
    for word in re.findall(r"[a-z0-9]+(?:[-/][a-z0-9]+)*", text.lower()):
        if word in _STOP:
            continue
        terms.append(_search_stem(word))
        if "-" in word or "/" in word:
            terms += [_search_stem(p) for p in re.split(r"[-/]", word) if p not in _STOP]
    return terms


class BM25:
    """Okapi BM25 over a fixed list of documents."""

    def __init__(
        self,
        docs: Iterable[str],
        k1: float = 1.5,
        b: float = 0.75,
        terms: Callable[[str], list[str]] = tokenize,
    ) -> None:
        self.k1, self.b = k1, b
        self.terms = terms
        self.docs = [Counter(terms(d)) for d in docs]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: str) -> list[float]:
        terms = self.terms(query)
        out = []
        for doc, length in zip(self.docs, self.lengths, strict=True):
            s = 0.0
            for t in terms:
                tf = doc.get(t, 0)
                if tf:
                    norm = tf + self.k1 * (1 - self.b + self.b * length / (self.avg or 1))
                    s += self.idf[t] * tf * (self.k1 + 1) / norm
            out.append(s)
        return out


def rrf(rankings: Iterable[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    fused: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            fused[key] += 1.0 / (k + rank + 1)
    return dict(fused)


@dataclass(frozen=True)
class QuestionMatch:
    item_id: str
    score: float
    matched: str  # the phrasing that matched best


@dataclass(frozen=True)
class PassageHit:
    text: str
    score: float
    citation: Citation


class _LexicalIndex:
    """BM25 over one collection, rebuilt when the collection changes size."""

    def __init__(self) -> None:
        self.size = -1
        self.ids: list[str] = []
        self.docs: list[str] = []
        self.metas: list[dict[str, Any]] = []
        self.bm25: BM25 | None = None

    def refresh(self, store: KnowledgeStore, name: str) -> None:
        count = store.collection(name).count()
        if count == self.size and self.bm25 is not None:
            return
        rows = store.all_documents(name)
        self.ids = [r[0] for r in rows]
        self.docs = [r[1] for r in rows]
        self.metas = [r[2] for r in rows]
        self.bm25 = BM25(self.docs)
        self.size = count


@dataclass(frozen=True)
class _ItemTextIndex:
    """BM25 over the whole text of the items of some kinds, for one size of the collection."""

    size: int
    ids: list[str]
    bm25: BM25


def item_text(item: QuestionItem) -> str:
    """Everything an item says about its topic: phrasings, model answer, rubric and tags."""
    return "\n".join(
        [
            *item.phrasings,
            item.model_answer or "",
            *(p.text for p in item.rubric),
            " ".join(item.tags).replace("-", " "),
        ]
    )


class Retriever:
    """Read-side API of the knowledge base. Cheap to create; holds a BM25 cache."""

    def __init__(self, store: KnowledgeStore, *, mode: Mode = "hybrid") -> None:
        self.store = store
        self.mode = mode
        self._lexical = {PASSAGES: _LexicalIndex()}
        self._item_text: dict[tuple[str, ...], _ItemTextIndex] = {}

    # -- questions ----------------------------------------------------------------------------
    def find_question(
        self,
        text: str,
        k: int = 5,
        kinds: Sequence[str] = ("concept", "extracted"),
        mode: Mode | None = None,
    ) -> list[QuestionMatch]:
        """Items best matching a free-text question, best first, one entry per item.

        An item's score adds up how close the query is to its closest phrasing,
        to its answer profile, to its closest rubric point, to its tags and to
        its closest rubric probe, plus BM25 on the item's whole text scaled so
        the best item scores 1. A dense part an item has no hit in counts as
        the lowest hit of that part; an item with no word in common with the
        query gets 0 from BM25. The weights were chosen on development signals,
        never on the held-out paraphrases (see the module docstring).
        """
        mode = mode or self.mode
        if not text.strip():
            return []
        kind_filter = {"kind": {"$in": list(kinds)}}
        matched: dict[str, str] = {}
        # (weight, scores per item, score of an item missing from the scores)
        parts: list[tuple[float, dict[str, float], float | None]] = []
        if mode != "lexical":
            from knowledge.embeddings import embed

            vector = [float(x) for x in embed([text])[0]]

            def role(name: str) -> dict[str, Any]:
                return {"$and": [kind_filter, {"role": name}]}

            phrasings = self._best_per_item(QUESTIONS, text, vector, role("phrasing"), matched)
            parts.append((1.0, phrasings, None))
            if mode in ("dense", "hybrid"):
                answers = self._best_per_item(QUESTIONS, text, vector, role("answer"), None)
                rubric = self._best_per_item(RUBRIC, text, vector, None, None)
                tags = self._best_per_item(QUESTIONS, text, vector, role("tags"), None)
                probes = self._best_per_item(QUESTIONS, text, vector, role("probe"), None)
                parts += [(W_ANSWER, answers, None), (W_RUBRIC, rubric, None)]
                parts += [(W_TAGS, tags, None), (W_PROBE, probes, None)]
        if mode in ("hybrid", "lexical"):
            weight = W_LEXICAL if mode == "hybrid" else 1.0
            parts.append((weight, self._lexical_items(text, kinds), 0.0))
        candidates = set(parts[0][1])  # phrasing hits (or BM25 hits in lexical mode)
        if mode == "hybrid":
            candidates |= set(parts[-1][1])
        total: dict[str, float] = {}
        for item_id in candidates:
            total[item_id] = 0.0
            for weight, scores, missing in parts:
                default = min(scores.values(), default=0.0) if missing is None else missing
                total[item_id] += weight * scores.get(item_id, default)
        ranked = sorted(total, key=lambda i: (-total[i], i))[:k]
        return [QuestionMatch(i, total[i], matched.get(i, "")) for i in ranked]

    def _best_per_item(
        self,
        collection: str,
        text: str,
        vector: list[float],
        where: dict[str, Any] | None,
        matched: dict[str, str] | None,
    ) -> dict[str, float]:
        best: dict[str, float] = {}
        for hit in self.store.query(collection, text, DENSE_POOL, where, vector=vector):
            item_id = str(hit.metadata["item_id"])
            if hit.similarity > best.get(item_id, -1.0):
                best[item_id] = hit.similarity
                if matched is not None:
                    matched[item_id] = hit.document
        return best

    def _lexical_items(self, text: str, kinds: Sequence[str]) -> dict[str, float]:
        """BM25 over each item's whole text, scaled so the best item scores 1."""
        index = self._item_text.get(tuple(kinds))
        count = self.store.collection(QUESTIONS).count()
        if index is None or index.size != count:
            items = self.store.items({"kind": {"$in": list(kinds)}})
            bm25 = BM25(map(item_text, items), terms=search_terms)
            index = _ItemTextIndex(count, [i.id for i in items], bm25)
            self._item_text[tuple(kinds)] = index
        best = {i: s for i, s in zip(index.ids, index.bm25.scores(text), strict=True) if s > 0}
        top = max(best.values(), default=0.0)
        return {i: s / top for i, s in best.items()} if top else {}

    def item(self, item_id: str) -> QuestionItem:
        found = self.store.item(item_id)
        if found is None:
            raise KeyError(f"no question item with id {item_id!r} in the knowledge base")
        return found

    def rubric(self, item_id: str) -> list[RubricPoint]:
        return list(self.item(item_id).rubric)

    def best_item(
        self, text: str, kinds: Sequence[str] = ("concept", "extracted")
    ) -> QuestionItem | None:
        matches = self.find_question(text, k=1, kinds=kinds)
        return self.item(matches[0].item_id) if matches else None

    # -- passages -----------------------------------------------------------------------------
    def search_passages(self, query: str, k: int = 5, mode: Mode | None = None) -> list[PassageHit]:
        mode = mode or self.mode
        if not query.strip():
            return []
        rows: dict[str, tuple[str, dict[str, Any]]] = {}
        rankings: list[list[str]] = []
        if mode in ("hybrid", "dense"):
            hits = self.store.query(PASSAGES, query, DENSE_POOL)
            rows.update({h.id: (h.document, h.metadata) for h in hits})
            rankings.append([h.id for h in hits])
        if mode in ("hybrid", "lexical"):
            index = self._lexical[PASSAGES]
            index.refresh(self.store, PASSAGES)
            assert index.bm25 is not None
            scored = sorted(
                (
                    (s, i)
                    for s, i in zip(index.bm25.scores(query), range(len(index.ids)), strict=True)
                    if s > 0
                ),
                reverse=True,
            )[:DENSE_POOL]
            for _, i in scored:
                rows.setdefault(index.ids[i], (index.docs[i], index.metas[i]))
            rankings.append([index.ids[i] for _, i in scored])
        fused = rrf(rankings)
        top = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [self._passage(rows[i][0], rows[i][1], fused[i], query) for i in top]

    @staticmethod
    def _passage(text: str, meta: dict[str, Any], score: float, query: str) -> PassageHit:
        return PassageHit(
            text=text,
            score=score,
            citation=Citation(
                source_id=str(meta.get("source_id", "")),
                title=str(meta.get("title", "")),
                heading=str(meta.get("heading", "")),
                snippet=best_snippet(text, query),
                start=int(meta["start"]) if "start" in meta else None,
                end=int(meta["end"]) if "end" in meta else None,
            ),
        )


def best_snippet(text: str, query: str, width: int = 240) -> str:
    """The sentence-aligned window of `text` sharing most words with the query."""
    sentences = re.split(r"(?<=[.!?])\s+|\n+", text.strip())
    terms = set(tokenize(query))
    if not sentences:
        return text[:width]
    best = max(sentences, key=lambda s: len(terms & set(tokenize(s))))
    return best if len(best) <= width else best[: width - 1] + "…"
