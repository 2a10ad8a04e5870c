"""Index the shipped corpus and user documents into the store, incrementally.

Ids are content hashes. The manifest (`sources.json` in the data directory,
outside the store so that a broken store can be rebuilt from it) records each
source's file hash: an unchanged file is skipped without a write, a changed
file replaces only its own chunks and items, and a removed source is dropped.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter

from bot.settings import Settings
from knowledge.catalog import Catalog, load_catalog
from knowledge.chunking import chunk_document
from knowledge.extract import extract_items
from knowledge.loaders import DEFAULT_MAX_BYTES, LoadError, load_document, source_id_for
from knowledge.models import Chunk, SourceRecord
from knowledge.store import (
    PASSAGES,
    QUESTIONS,
    RUBRIC,
    KnowledgeStore,
    StoreError,
    forget_open_clients,
    open_store,
)

log = logging.getLogger(__name__)

MANIFEST = "sources.json"
CORPUS_SOURCE = "corpus:shipped"

Progress = Callable[[str, int, int], None]
"""progress(label, done, total): called as files are processed."""


def _no_progress(label: str, done: int, total: int) -> None:
    return None


@dataclass
class IngestReport:
    added: list[SourceRecord] = field(default_factory=list)
    updated: list[SourceRecord] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[LoadError] = field(default_factory=list)
    chunks_written: int = 0
    chunks_deleted: int = 0
    items_written: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


# -- manifest -----------------------------------------------------------------------------------
_records = TypeAdapter(list[SourceRecord])


def read_manifest(settings: Settings) -> dict[str, SourceRecord]:
    path = settings.home / MANIFEST
    if not path.is_file():
        return {}
    try:
        return {r.source_id: r for r in _records.validate_json(path.read_bytes())}
    except ValueError:
        log.warning("the source manifest %s is unreadable; it will be rebuilt", path)
        return {}


def _write_manifest(settings: Settings, records: dict[str, SourceRecord]) -> None:
    path = settings.home / MANIFEST
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(_records.dump_json(sorted(records.values(), key=lambda r: r.source_id)))
    os.replace(tmp, path)


@contextmanager
def _writer_lock(settings: Settings) -> Iterator[None]:
    """One writer at a time across processes (several UI tabs, a CLI)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / ".ingest.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- writing one source -------------------------------------------------------------------------
def _replace_source(
    store: KnowledgeStore,
    source_id: str,
    chunks: Sequence[Chunk],
    items_fn: Callable[[], Sequence],
    report: IngestReport,
) -> tuple[int, int]:
    """Write a source's chunks and items, then delete whatever it had before that is gone now."""
    old = {name: store.ids_for_source(name, source_id) for name in (PASSAGES, QUESTIONS, RUBRIC)}
    new_chunk_ids = {c.id for c in chunks}
    fresh = [c for c in chunks if c.id not in old[PASSAGES]]
    store.put_chunks(fresh)
    items = list(items_fn())
    written = store.put_items(items, source_id=source_id) if items else set()
    stale_chunks = old[PASSAGES] - new_chunk_ids
    store.delete_ids(PASSAGES, stale_chunks)
    store.delete_ids(QUESTIONS, old[QUESTIONS] - written)
    store.delete_ids(RUBRIC, old[RUBRIC] - written)
    report.chunks_written += len(fresh)
    report.chunks_deleted += len(stale_chunks)
    report.items_written += len(items)
    return len(chunks), len(items)


def _record(report: IngestReport, record: SourceRecord, existed: bool) -> None:
    (report.updated if existed else report.added).append(record)


# -- the shipped corpus -------------------------------------------------------------------------
def corpus_chunks(catalog: Catalog) -> list[Chunk]:
    """Citable passages of the authored corpus: model answers and framework steps."""
    out: list[Chunk] = []
    for concept in catalog.concepts:
        out.append(
            _authored_chunk(
                catalog.citation(concept.sources).title,
                ["Concepts", concept.step.label, concept.question],
                f"{concept.question}\n\n{concept.model_answer}",
            )
        )
    for fs in catalog.framework.steps:
        points = "\n".join(f"- {p.text}" for p in fs.rubric)
        out.append(
            _authored_chunk(
                catalog.citation(fs.sources).title,
                ["Framework", fs.step.label],
                f"{fs.step.label}\n\n{fs.purpose}\n\n{points}",
            )
        )
    return out


def _authored_chunk(title: str, path: list[str], text: str) -> Chunk:
    digest = hashlib.sha256(f"{CORPUS_SOURCE}\0{text}".encode()).hexdigest()[:24]
    return Chunk(
        id=f"a-{digest}",
        source_id=CORPUS_SOURCE,
        title=title,
        heading_path=path,
        text=text,
        start=0,
        end=len(text),
        kind="authored",
    )


def index_corpus(
    settings: Settings,
    *,
    store: KnowledgeStore | None = None,
    catalog: Catalog | None = None,
    progress: Progress = _no_progress,
) -> IngestReport:
    """Index the shipped corpus; a no-op when its files have not changed since the last run."""
    catalog = catalog or load_catalog()
    store = store or open_store(settings)
    report = IngestReport()
    corpus_hash = _corpus_hash(catalog)
    with _writer_lock(settings):
        manifest = read_manifest(settings)
        record_id = CORPUS_SOURCE
        previous = manifest.get(record_id)
        if previous and previous.sha256 == corpus_hash and store.counts()["questions"] > 0:
            report.unchanged.append(record_id)
            return report
        items = catalog.question_items()
        progress("corpus", 0, 1)
        n_chunks, n_items = _replace_source(
            store, record_id, corpus_chunks(catalog), lambda: items, report
        )
        progress("corpus", 1, 1)
        record = SourceRecord(
            source_id=record_id,
            title="Panelist corpus",
            path=str(catalog.root),
            sha256=corpus_hash,
            origin="corpus",
            n_chunks=n_chunks,
            n_items=n_items,
        )
        _record(report, record, previous is not None)
        manifest[record_id] = record
        _write_manifest(settings, manifest)
    return report


def _corpus_hash(catalog: Catalog) -> str:
    joined = "\n".join(f"{p.name}:{h}" for p, h in sorted(catalog.files.items()))
    return hashlib.sha256(joined.encode()).hexdigest()


# -- user documents -----------------------------------------------------------------------------
def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Files named directly, and the supported files inside named directories."""
    from knowledge.loaders import SUPPORTED

    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED
            )
        else:
            out.append(path)
    return out


def ingest_paths(
    settings: Settings,
    paths: Sequence[Path],
    *,
    store: KnowledgeStore | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Progress = _no_progress,
    source_ids: dict[Path, str] | None = None,
) -> IngestReport:
    """Ingest documents; a bad file is reported in `failed` and never stops the others."""
    store = store or open_store(settings)
    report = IngestReport()
    files = expand_paths(paths)
    with _writer_lock(settings):
        manifest = read_manifest(settings)
        for n, path in enumerate(files):
            progress(path.name, n, len(files))
            sid = (source_ids or {}).get(path) or source_id_for(path)
            try:
                doc = load_document(path, max_bytes=max_bytes, source_id=sid)
            except LoadError as exc:
                report.failed.append(exc)
                continue
            previous = manifest.get(doc.source_id)
            if previous and previous.sha256 == doc.sha256:
                report.unchanged.append(doc.source_id)
                continue
            chunks = chunk_document(doc.source_id, doc.title, doc.text)
            n_chunks, n_items = _replace_source(
                store,
                doc.source_id,
                chunks,
                lambda doc=doc: extract_items(doc.source_id, doc.title, doc.text),  # type: ignore[misc]
                report,
            )
            record = SourceRecord(
                source_id=doc.source_id,
                title=doc.title,
                path=doc.path,
                sha256=doc.sha256,
                origin="user",
                n_chunks=n_chunks,
                n_items=n_items,
            )
            _record(report, record, previous is not None)
            manifest[doc.source_id] = record
            # Commit the manifest per file: an interrupted ingest keeps what it finished.
            _write_manifest(settings, manifest)
        progress("done", len(files), len(files))
    return report


def remove_source(settings: Settings, source: str, *, store: KnowledgeStore | None = None) -> int:
    """Drop a user source (by source id, path or title); returns how many rows were deleted."""
    store = store or open_store(settings)
    with _writer_lock(settings):
        manifest = read_manifest(settings)
        record = _find_record(manifest, source)
        if record is None:
            raise KeyError(f"no ingested source matches {source!r}; see `panelist kb sources`")
        if record.origin == "corpus":
            raise ValueError("the shipped corpus cannot be removed")
        removed = store.drop_source(record.source_id)
        del manifest[record.source_id]
        _write_manifest(settings, manifest)
    return removed


def _find_record(manifest: dict[str, SourceRecord], needle: str) -> SourceRecord | None:
    if needle in manifest:
        return manifest[needle]
    as_path = Path(needle)
    if as_path.exists():
        sid = source_id_for(as_path)
        if sid in manifest:
            return manifest[sid]
    matches = [r for r in manifest.values() if needle in (r.path, r.title, Path(r.path).name)]
    return matches[0] if len(matches) == 1 else None


# -- opening, checking and rebuilding -----------------------------------------------------------
@dataclass
class Readiness:
    store: KnowledgeStore
    messages: list[str]


def ensure_index(settings: Settings, *, progress: Progress = _no_progress) -> Readiness:
    """Open the store, rebuilding it from its sources if it is missing, stale or corrupted.

    Returns the store and human-readable messages about anything that was done.
    """
    messages: list[str] = []
    try:
        store = open_store(settings)
        store.counts()
    except StoreError as exc:
        if settings.chroma_url:
            raise  # a remote store is not ours to wipe
        broken = settings.store_dir.with_name(f"store.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        messages.append(
            f"The knowledge store could not be used ({exc}); it was moved to {broken.name} "
            "and rebuilt from its sources."
        )
        if settings.store_dir.exists():
            shutil.move(str(settings.store_dir), str(broken))
        forget_open_clients()
        _forget_indexed(settings)
        store = open_store(settings)
    else:
        if store.counts()["questions"] == 0 and read_manifest(settings):
            messages.append("The knowledge store was empty; it was rebuilt from its sources.")
            _forget_indexed(settings)
    report = index_corpus(settings, store=store, progress=progress)
    if report.added:
        messages.append(f"Indexed the shipped corpus ({report.items_written} questions).")
    user_paths = [Path(r.path) for r in read_manifest(settings).values() if r.origin == "user"]
    missing = [p for p in user_paths if not p.exists()]
    if missing:
        messages.append(
            f"{len(missing)} ingested file(s) no longer exist and stay as indexed: "
            + ", ".join(p.name for p in missing[:5])
        )
    return Readiness(store, messages)


def _forget_indexed(settings: Settings) -> None:
    """After a rebuild the store is empty: re-ingest user files that still exist."""
    manifest = read_manifest(settings)
    user = {sid: r for sid, r in manifest.items() if r.origin == "user"}
    _write_manifest(settings, {})
    existing = {Path(r.path): sid for sid, r in user.items() if Path(r.path).exists()}
    if existing:
        ingest_paths(settings, list(existing), source_ids=existing)


def stats(settings: Settings, store: KnowledgeStore) -> dict[str, int]:
    catalog = load_catalog()
    manifest = read_manifest(settings)
    extracted = store.collection(QUESTIONS).get(
        where={"$and": [{"kind": "extracted"}, {"canonical": True}]}, include=[]
    )
    return {
        "concepts": len(catalog.concepts),
        "cases": len(catalog.cases),
        "rubric_points": store.counts()["rubric_points"],
        "extracted_items": len(extracted["ids"]),
        "chunks": store.counts()["passages"],
        "sources": len(catalog.sources) + sum(1 for r in manifest.values() if r.origin == "user"),
    }


def dump_report(report: IngestReport) -> str:
    return json.dumps(
        {
            "added": [r.source_id for r in report.added],
            "updated": [r.source_id for r in report.updated],
            "unchanged": report.unchanged,
            "failed": [{"path": e.path, "reason": e.reason} for e in report.failed],
            "chunks_written": report.chunks_written,
            "chunks_deleted": report.chunks_deleted,
            "items_written": report.items_written,
        },
        indent=2,
    )
