"""The Chroma store, locally and against a real `chroma run` server."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.settings import Settings
from knowledge.embeddings import MiniLMEmbeddingFunction
from knowledge.ingest import ensure_index
from knowledge.models import Citation, QuestionItem, RubricPoint
from knowledge.retrieval import Retriever
from knowledge.store import (
    COLLECTIONS,
    QUESTIONS,
    RUBRIC,
    SCHEMA_VERSION,
    KnowledgeStore,
    StoreError,
    open_store,
)
from tests.conftest import REPO, free_port

pytestmark = pytest.mark.slow
CHROMA = REPO / ".venv" / "bin" / "chroma"


def _item(item_id: str, question: str, points: list[str]) -> QuestionItem:
    cite = Citation(source_id="test", title="Test notes")
    return QuestionItem(
        id=item_id,
        kind="extracted",
        question=question,
        alt_phrasings=[f"tell me about {question.lower()}"],
        rubric=[
            RubricPoint(id=f"{item_id}#p{n}", text=t, weight=1.0, source=cite)
            for n, t in enumerate(points, 1)
        ],
    )


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on a free loopback port, stopped by PID."""
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (path / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            str(CHROMA),
            "run",
            "--path",
            str(path / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"chroma run exited: {(path / 'server.log').read_text()}"
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "chroma server did not start"
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(params=["local", "server"])
def store(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KnowledgeStore]:
    if request.param == "server":
        monkeypatch.setenv("PANELIST_CHROMA_URL", request.getfixturevalue("chroma_server"))
    store = open_store(Settings())
    yield store
    store.reset()


def test_collections_use_the_bundled_embedding_function(store: KnowledgeStore) -> None:
    for name in COLLECTIONS:
        coll = store.collection(name)
        assert isinstance(coll._embedding_function, MiniLMEmbeddingFunction)
        assert coll.metadata["panelist_schema"] == SCHEMA_VERSION


def test_items_roundtrip_query_and_drop(store: KnowledgeStore) -> None:
    items = [
        _item("x-drift", "What is concept drift?", ["The mapping from inputs to labels changes."]),
        _item("x-cache", "Why cache predictions?", ["Caching cuts latency for repeated requests."]),
    ]
    written = store.put_items(items, source_id="file:/notes.md")
    assert {"x-drift::q0", "x-drift::q1", "x-drift#p1"} <= written
    assert store.item("x-drift") == items[0]
    assert store.item("missing") is None
    retriever = Retriever(store)
    assert (
        retriever.find_question("explain drift in concepts", kinds=["extracted"])[0].item_id
        == "x-drift"
    )
    assert retriever.rubric("x-cache")[0].text.startswith("Caching")
    embeddings = store.rubric_embeddings(items[0].rubric)
    assert len(embeddings["x-drift#p1"]) == 384
    # Per item: two phrasings and one answer profile, plus one rubric point.
    assert store.drop_source("file:/notes.md") == 8
    assert store.counts() == {"questions": 0, "rubric_points": 0, "passages": 0}


def test_authored_items_index_their_tags_and_extracted_items_do_not(store: KnowledgeStore) -> None:
    concept = _item("x-skew", "What is training-serving skew?", ["Features differ online."])
    concept = concept.model_copy(update={"kind": "concept", "tags": ["features", "mlops"]})
    extracted = _item("x-lag", "What is label lag?", ["Labels arrive late."])
    extracted = extracted.model_copy(update={"tags": ["extracted", "monitoring"]})
    written = store.put_items([concept, extracted], source_id="file:/tags.md")
    assert "x-skew::tags" in written and "x-lag::tags" not in written
    rows = {i: (d, m) for i, d, m in store.all_documents(QUESTIONS, {"role": "tags"})}
    assert rows["x-skew::tags"][0] == "features mlops"
    match = Retriever(store).find_question("mlops features", kinds=["concept"])[0]
    assert match.item_id == "x-skew"


def test_other_schema_version_is_detected(store: KnowledgeStore) -> None:
    store.client.delete_collection(RUBRIC)
    store.client.create_collection(
        RUBRIC,
        metadata={"panelist_schema": 0},
        embedding_function=MiniLMEmbeddingFunction(),  # type: ignore[arg-type]
    )
    with pytest.raises(StoreError, match="schema version"):
        open_store(Settings())


def test_foreign_collection_with_another_embedder_is_detected(store: KnowledgeStore) -> None:
    # Chroma's own default embedder: a store written by something else.
    store.client.delete_collection(RUBRIC)
    store.client.create_collection(RUBRIC)
    with pytest.raises(StoreError, match="cannot be read"):
        open_store(Settings())


def test_unreachable_server_is_a_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANELIST_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        open_store(Settings())


def test_corrupted_store_is_rebuilt_with_a_message(indexed_home: Path) -> None:
    settings = Settings()
    sqlite = settings.store_dir / "chroma.sqlite3"
    sqlite.write_bytes(b"this is not a database" * 100)
    ready = ensure_index(settings)
    assert any("rebuilt" in m for m in ready.messages)
    assert ready.store.counts()["questions"] > 0
    assert (
        Retriever(ready.store).find_question("what is concept drift")[0].item_id == "concept-drift"
    )
    assert list(settings.home.glob("store.broken-*"))


def test_missing_store_is_built_and_then_left_alone(home: Path) -> None:
    settings = Settings()
    first = ensure_index(settings)
    assert any("Indexed the shipped corpus" in m for m in first.messages)
    second = ensure_index(settings)
    assert second.messages == []
    assert second.store.counts() == first.store.counts()
    assert second.store.counts()["passages"] > 0
