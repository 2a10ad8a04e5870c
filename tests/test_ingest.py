"""Ingestion on the real store and model: reference documents, idempotency, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings
from knowledge.ingest import ingest_paths, read_manifest, remove_source
from knowledge.loaders import source_id_for
from knowledge.retrieval import Retriever
from knowledge.store import PASSAGES, QUESTIONS, open_store
from tests.conftest import REFERENCE_DOCS
from tests.docs_factory import HTML_PAGE, QA_NOTES, make_encrypted_pdf, make_pdf

pytestmark = pytest.mark.slow


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    shutil.copytree(REFERENCE_DOCS, folder)
    return folder


def test_reference_documents_end_to_end(indexed_home: Path, docs: Path) -> None:
    settings = Settings()
    store = open_store(settings)
    report = ingest_paths(settings, [docs], store=store)
    assert report.ok and len(report.added) == 5
    cheat = source_id_for(docs / "mlops-interview-qa-cheatsheet.txt")
    extracted = store.items({"kind": "extracted", "source_id": cheat})
    assert len(extracted) >= 50

    # Extracted questions are retrievable and their citations point into the file.
    retriever = Retriever(store)
    item = next(i for i in extracted if "concept drift" in i.question)
    text = (docs / "mlops-interview-qa-cheatsheet.txt").read_text()
    cite = item.sources[0]
    assert item.question in text[cite.start : cite.end]
    found = [m.item_id for m in retriever.find_question(item.question, k=3, kinds=["extracted"])]
    assert item.id in found

    # Passages carry source, heading and a snippet.
    hits = retriever.search_passages("how do you ensure data privacy with sensitive records", k=5)
    assert any(h.citation.source_id == cheat for h in hits)
    assert all(h.citation.title and h.citation.snippet for h in hits)


def test_reingest_is_idempotent_and_incremental(indexed_home: Path, tmp_path: Path) -> None:
    settings = Settings()
    store = open_store(settings)
    notes = tmp_path / "drift.md"
    notes.write_text(QA_NOTES)
    other = tmp_path / "serving.html"
    other.write_text(HTML_PAGE)
    first = ingest_paths(settings, [notes, other], store=store)
    assert first.ok and first.chunks_written > 0 and first.items_written == 2
    counts = store.counts()
    other_ids = store.ids_for_source(PASSAGES, source_id_for(other))

    again = ingest_paths(settings, [notes, other], store=store)
    assert again.chunks_written == 0 and again.items_written == 0
    assert sorted(again.unchanged) == sorted([source_id_for(notes), source_id_for(other)])
    assert store.counts() == counts

    notes.write_text(QA_NOTES.replace("agreed with the model owners", "owned by on-call"))
    changed = ingest_paths(settings, [notes, other], store=store)
    assert [r.source_id for r in changed.updated] == [source_id_for(notes)]
    assert changed.chunks_written == 1 and changed.chunks_deleted == 1
    assert store.ids_for_source(PASSAGES, source_id_for(other)) == other_ids
    assert store.counts() == counts

    removed = remove_source(settings, str(notes), store=store)
    assert removed > 0
    assert store.ids_for_source(PASSAGES, source_id_for(notes)) == set()
    assert store.ids_for_source(QUESTIONS, source_id_for(notes)) == set()
    assert source_id_for(notes) not in read_manifest(settings)
    with pytest.raises(KeyError):
        remove_source(settings, str(notes), store=store)


def test_one_bad_file_never_aborts_the_rest(indexed_home: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text(QA_NOTES)
    pdf = make_pdf(tmp_path / "notes.pdf", ["Canary releases expose a small share of users first."])
    bad = {
        "locked.pdf": make_encrypted_pdf(tmp_path / "locked.pdf", pdf).read_bytes(),
        "disguised.md": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "empty.txt": b"",
        "broken.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog",
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    big = tmp_path / "huge.md"
    big.write_text("x" * 5000)
    paths = [tmp_path / n for n in bad] + [good, pdf, big]
    report = ingest_paths(Settings(), paths, max_bytes=4000)
    assert {Path(r.path).name for r in report.added} == {"good.md", "notes.pdf"}
    reasons = {Path(e.path).name: e.reason for e in report.failed}
    assert set(reasons) == {*bad, "huge.md"}
    assert "encrypted" in reasons["locked.pdf"]
    assert "over the" in reasons["huge.md"]


def test_cli_ingest_and_stats(indexed_home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    notes = tmp_path / "drift.md"
    notes.write_text(QA_NOTES)
    (tmp_path / "junk.txt").write_bytes(b"\x00\x00\x00")
    result = runner.invoke(app, ["ingest", str(notes), str(tmp_path / "junk.txt")])
    assert result.exit_code == 1  # one file failed, and says so
    assert "indexed" in result.output and "skipped" in result.output
    result = runner.invoke(app, ["kb", "stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output.strip().splitlines()[-1])
    assert set(stats) == {
        "concepts",
        "cases",
        "rubric_points",
        "extracted_items",
        "chunks",
        "sources",
    }
    assert stats["concepts"] >= 80 and stats["cases"] >= 15
    assert stats["extracted_items"] == 2
    result = runner.invoke(app, ["kb", "remove", str(notes)])
    assert result.exit_code == 0, result.output
