"""The Chroma store: questions, rubric points and passages, always embedded with MiniLM.

The store is local (a persistent client under the data directory) or a Chroma
server when `PANELIST_CHROMA_URL` is set. Its schema version lives in the
collections' metadata; a store from another version, or one Chroma cannot
open, is reported as `StoreError` so the caller can rebuild it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from bot.settings import Settings
from knowledge.embeddings import MiniLMEmbeddingFunction
from knowledge.models import Chunk, QuestionItem, RubricPoint

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
QUESTIONS = "panelist_questions"
RUBRIC = "panelist_rubric"
PASSAGES = "panelist_passages"
COLLECTIONS = (QUESTIONS, RUBRIC, PASSAGES)
# Chroma caps the size of one add call; stay well under it.
BATCH = 256


class StoreError(RuntimeError):
    """The store is unreachable, corrupted or from another schema version."""


@dataclass(frozen=True)
class Hit:
    id: str
    document: str
    metadata: dict[str, Any]
    similarity: float  # cosine similarity, 1 = identical


def _chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False, allow_reset=True)


def _client(settings: Settings) -> ClientAPI:
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise StoreError(f"PANELIST_CHROMA_URL is not a URL: {settings.chroma_url!r}")
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=_chroma_settings(),
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(f"cannot reach the Chroma server: {exc}") from exc
        return client
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=_chroma_settings())
    except Exception as exc:
        raise StoreError(f"cannot open the store at {settings.store_dir}: {exc}") from exc


class KnowledgeStore:
    """Thin typed wrapper over the three Chroma collections."""

    def __init__(self, client: ClientAPI, *, location: str) -> None:
        self.client = client
        self.location = location
        self._ef = MiniLMEmbeddingFunction()
        try:
            self._collections = {
                name: client.get_or_create_collection(
                    name,
                    embedding_function=self._ef,  # type: ignore[arg-type]
                    metadata={"panelist_schema": SCHEMA_VERSION, "hnsw:space": "cosine"},
                )
                for name in COLLECTIONS
            }
            versions = {c.metadata.get("panelist_schema") for c in self._collections.values()}
        except Exception as exc:
            raise StoreError(f"the store cannot be read: {exc}") from exc
        if versions != {SCHEMA_VERSION}:
            raise StoreError(
                f"the store was written by schema version {sorted(map(str, versions))}, "
                f"this Panelist reads version {SCHEMA_VERSION}"
            )

    # -- plumbing -------------------------------------------------------------------------
    def collection(self, name: str) -> Collection:
        return self._collections[name]

    def counts(self) -> dict[str, int]:
        return {
            "questions": self._collections[QUESTIONS].count(),
            "rubric_points": self._collections[RUBRIC].count(),
            "passages": self._collections[PASSAGES].count(),
        }

    def reset(self) -> None:
        """Drop every Panelist collection (used by rebuilds)."""
        for name in COLLECTIONS:
            try:
                self.client.delete_collection(name)
            except Exception:
                log.debug("collection %s was already gone", name)

    def _upsert(
        self, name: str, ids: list[str], docs: list[str], metas: list[dict[str, Any]]
    ) -> None:
        coll = self._collections[name]
        for i in range(0, len(ids), BATCH):
            coll.upsert(
                ids=ids[i : i + BATCH],
                documents=docs[i : i + BATCH],
                metadatas=metas[i : i + BATCH],  # type: ignore[arg-type]
            )

    def ids_for_source(self, name: str, source_id: str) -> set[str]:
        got = self._collections[name].get(where={"source_id": source_id}, include=[])
        return set(got["ids"])

    def delete_ids(self, name: str, ids: Iterable[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), BATCH):
            self._collections[name].delete(ids=ids[i : i + BATCH])

    # -- writes ---------------------------------------------------------------------------
    def put_items(self, items: Sequence[QuestionItem], *, source_id: str) -> set[str]:
        """Index each item's phrasings, answer profile, tags and probes, and each rubric point.

        Returns the written ids.
        """
        q_ids, q_docs, q_meta = [], [], []
        r_ids, r_docs, r_meta = [], [], []
        for item in items:
            rows: list[tuple[str, str, str]] = [
                (f"q{n}", phrasing, "phrasing") for n, phrasing in enumerate(item.phrasings)
            ]
            # What the item is about, beyond how it is asked: matched by scenario-style questions.
            rows.append(("answer", item_profile(item), "answer"))
            # The item's topic tags, for queries that name the topic rather than ask the question.
            # Extracted items only carry generated markers ("extracted", the step), so none.
            if item.tags and item.kind != "extracted":
                rows.append(("tags", tags_text(item), "tags"))
            # The rubric's follow-up questions read like a candidate's scenario questions.
            # Design-step items share the framework's probes and are not looked up by question.
            if item.kind != "design-step":
                rows += [
                    (f"probe-{point.id.rsplit('#', 1)[-1]}-{n}", probe, "probe")
                    for point in item.rubric
                    for n, probe in enumerate(point.probes)
                ]
            for suffix, doc, role in rows:
                meta: dict[str, Any] = {
                    "item_id": item.id,
                    "kind": item.kind,
                    "step": item.step.value if item.step else "",
                    "source_id": source_id,
                    "canonical": suffix == "q0",
                    "role": role,
                }
                if suffix == "q0":
                    meta["item_json"] = item.model_dump_json()
                q_ids.append(f"{item.id}::{suffix}")
                q_docs.append(doc)
                q_meta.append(meta)
            for point in item.rubric:
                # Generic framework points are shared by many design steps: one row each.
                r_ids.append(point.id)
                r_docs.append(point.text)
                r_meta.append(
                    {
                        "point_id": point.id,
                        "item_id": point.id.split("#")[0],
                        "step": point.step.value if point.step else "",
                        "weight": point.weight,
                        "source_id": source_id,
                    }
                )
        r_unique = dict(zip(r_ids, zip(r_docs, r_meta, strict=True), strict=True))
        self._upsert(QUESTIONS, q_ids, q_docs, q_meta)
        self._upsert(
            RUBRIC,
            list(r_unique),
            [d for d, _ in r_unique.values()],
            [m for _, m in r_unique.values()],
        )
        return set(q_ids) | set(r_unique)

    def put_chunks(self, chunks: Sequence[Chunk]) -> set[str]:
        self._upsert(
            PASSAGES,
            [c.id for c in chunks],
            [c.text for c in chunks],
            [
                {
                    "source_id": c.source_id,
                    "title": c.title,
                    "heading": c.heading,
                    "start": c.start,
                    "end": c.end,
                    "kind": c.kind,
                }
                for c in chunks
            ],
        )
        return {c.id for c in chunks}

    def drop_source(self, source_id: str) -> int:
        removed = 0
        for name in COLLECTIONS:
            ids = self.ids_for_source(name, source_id)
            self.delete_ids(name, ids)
            removed += len(ids)
        return removed

    # -- reads ----------------------------------------------------------------------------
    def query(
        self,
        name: str,
        text: str,
        k: int,
        where: dict[str, Any] | None = None,
        vector: Sequence[float] | None = None,
    ) -> list[Hit]:
        """Nearest rows to `text` (or to its precomputed `vector`), best first."""
        coll = self._collections[name]
        n = min(k, coll.count())
        if n == 0:
            return []
        if vector is not None:
            res = coll.query(query_embeddings=[list(vector)], n_results=n, where=where)  # type: ignore[arg-type]
        else:
            res = coll.query(query_texts=[text], n_results=n, where=where)
        ids = res["ids"][0]
        docs = (res["documents"] or [[]])[0]
        metas = (res["metadatas"] or [[]])[0]
        dists = (res["distances"] or [[]])[0]
        return [
            Hit(i, d or "", dict(m or {}), 1.0 - float(dist))
            for i, d, m, dist in zip(ids, docs, metas, dists, strict=True)
        ]

    def all_documents(
        self, name: str, where: dict[str, Any] | None = None
    ) -> list[tuple[str, str, dict[str, Any]]]:
        got = self._collections[name].get(where=where, include=["documents", "metadatas"])
        docs = got["documents"] or []
        metas = got["metadatas"] or []
        return [
            (i, d or "", dict(m or {})) for i, d, m in zip(got["ids"], docs, metas, strict=True)
        ]

    def item(self, item_id: str) -> QuestionItem | None:
        got = self._collections[QUESTIONS].get(ids=[f"{item_id}::q0"], include=["metadatas"])
        metas = got["metadatas"] or []
        if not metas or not metas[0] or "item_json" not in metas[0]:
            return None
        return QuestionItem.model_validate_json(str(metas[0]["item_json"]))

    def items(self, where: dict[str, Any] | None = None) -> list[QuestionItem]:
        clause: dict[str, Any] = {"canonical": True}
        if where:
            clause = {"$and": [clause, *({k: v} for k, v in where.items())]}
        return [
            QuestionItem.model_validate_json(str(meta["item_json"]))
            for _, _, meta in self.all_documents(QUESTIONS, clause)
        ]

    def rubric_embeddings(self, points: Sequence[RubricPoint]) -> dict[str, list[float]]:
        """Stored embeddings of rubric points, so graders need not re-embed them."""
        if not points:
            return {}
        got = self._collections[RUBRIC].get(ids=[p.id for p in points], include=["embeddings"])
        embs = got["embeddings"]
        if embs is None:
            return {}
        return {i: list(map(float, e)) for i, e in zip(got["ids"], embs, strict=True)}


def open_store(settings: Settings) -> KnowledgeStore:
    location = settings.chroma_url or str(settings.store_dir)
    return KnowledgeStore(_client(settings), location=location)


def forget_open_clients() -> None:
    """Chroma caches one client per path; drop them after the files under a path were replaced."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def item_profile(item: QuestionItem) -> str:
    """The question with its model answer (or rubric), as one searchable text."""
    body = item.model_answer or " ".join(p.text for p in item.rubric)
    return f"{item.question}\n{body}"


def tags_text(item: QuestionItem) -> str:
    """The item's topic tags as one short text to embed."""
    return " ".join(item.tags)
