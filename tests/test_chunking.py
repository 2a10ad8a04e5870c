from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.chunking import chunk_document, split_blocks
from knowledge.extract import extract_items
from tests.conftest import REFERENCE_DOCS
from tests.docs_factory import QA_NOTES

REFERENCE = sorted(REFERENCE_DOCS.glob("*.txt"))


@pytest.mark.parametrize("path", REFERENCE, ids=lambda p: p.stem)
def test_chunks_are_exact_slices_with_heading_paths(path: Path) -> None:
    text = path.read_text()
    chunks = chunk_document("src", "Title", text)
    assert chunks
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 1200
    assert len({c.id for c in chunks}) == len(chunks)
    assert any(c.heading_path for c in chunks)


def test_qa_blocks_stay_whole() -> None:
    chunks = chunk_document("src", "Drift notes", QA_NOTES)
    qa = [c for c in chunks if c.kind == "qa"]
    assert len(qa) == 2
    assert qa[0].text.startswith("1. How do you detect data drift")
    assert "agreed with the model owners." in qa[0].text  # the whole answer is in the chunk
    assert qa[0].heading_path == ["Drift notes", "Monitoring"]


def test_chunk_ids_are_content_hashes() -> None:
    first = chunk_document("src", "t", QA_NOTES)
    edited = QA_NOTES.replace("agreed with the model owners", "owned by the on-call team")
    second = chunk_document("src", "t", edited)
    assert [c.id for c in first] == [c.id for c in chunk_document("src", "t", QA_NOTES)]
    changed = {c.id for c in first} ^ {c.id for c in second}
    assert len(changed) == 2  # only the edited chunk differs (old id out, new id in)


def test_numbered_questions_become_blocks() -> None:
    kinds = [b.kind for b in split_blocks(QA_NOTES)]
    assert kinds.count("qa") == 2 and kinds.count("heading") == 2


def test_cheat_sheet_yields_at_least_50_sensible_items() -> None:
    path = REFERENCE_DOCS / "mlops-interview-qa-cheatsheet.txt"
    text = path.read_text()
    items = extract_items("file:cheat", "Cheat sheet", text)
    assert len(items) >= 50
    flat_source = " ".join(text.split())
    for item in items:
        assert item.kind == "extracted"
        assert item.question.endswith("?")
        assert 2 <= len(item.rubric) <= 8
        cite = item.sources[0]
        assert cite.start is not None and cite.end is not None
        assert item.question in text[cite.start : cite.end]
        for point in item.rubric:
            assert len(point.text.split()) >= 3 and not point.text.endswith("?")
            assert point.text in flat_source  # a point is the source's own bullet, cited
            assert point.source == cite
    drift = next(i for i in items if "concept drift" in i.question)
    assert drift.step.value == "monitoring"
    assert any("retraining" in p.text for p in drift.rubric)


def test_design_notes_are_extracted_too() -> None:
    text = (REFERENCE_DOCS / "ml-design-notes-qa.txt").read_text()
    items = extract_items("file:notes", "Notes", text)
    assert len(items) >= 10
    assert all(not i.question.startswith("•") for i in items)


def test_checklists_of_questions_are_not_items() -> None:
    text = "Checklist?\n\n- What is the loss?\n- What is the metric?\n- Which data?\n"
    assert extract_items("s", "t", "How do we plan the model step?\n" + text) == []
