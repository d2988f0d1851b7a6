"""The real engine's housekeeping: per-document chunk counts, and the frozen index after (re)loads."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.build import ingest
from index.errors import IndexCorruptedError
from ingest.embedding import HashingEmbedder
from service.app import create_app
from service.engine import QueryEngine, load_engine, reload_engine
from service.records import Query, QueryResult
from service.reload import WARM_UP_QUERY
from service.server import hand_over
from service.settings import load_settings
from tests.support.fakes import LIGHTHOUSE, ORCHARD, FakeDocument, write_fake_corpus

ADMIN_KEY = "admin-key-for-engine-tests-5b1e"
FERRY = FakeDocument(
    doc_id="island-ferry",
    title="Island ferry adds a winter crossing",
    source="fixtures/island-ferry.txt",
    text=(
        "The chain ferry to Holm island will run a third daily crossing this winter. "
        "The crossing takes eleven minutes. The council pays for the extra fuel."
    ),
)


@pytest.fixture(autouse=True)
def _unfreeze_afterwards() -> Iterator[None]:
    """Loading an engine freezes the whole process's objects; give them back to the collector."""
    yield
    gc.unfreeze()


def is_frozen(value: object) -> bool:
    """True when the collector's generations do not hold ``value`` (it is in the frozen one)."""
    assert gc.is_tracked(value)
    return all(candidate is not value for candidate in gc.get_objects())


def test_document_chunk_counts_match_the_manifest(tmp_path: Path) -> None:
    corpus = write_fake_corpus(tmp_path / "corpus", (LIGHTHOUSE, ORCHARD, FERRY))
    manifest = ingest([corpus], tmp_path / "index", HashingEmbedder()).manifest
    engine = load_engine(tmp_path / "index")
    counts = {info.doc_id: info.chunk_count for info in engine.documents()}
    assert counts == {entry.doc_id: entry.chunk_count for entry in manifest.documents}
    assert sum(counts.values()) == len(engine.index.chunks)


def test_load_engine_takes_the_index_out_of_the_collectors_scans(tmp_path: Path) -> None:
    corpus = write_fake_corpus(tmp_path / "corpus", (LIGHTHOUSE, ORCHARD))
    ingest([corpus], tmp_path / "index", HashingEmbedder())
    engine = load_engine(tmp_path / "index")
    assert gc.get_freeze_count() > len(engine.index.chunks)
    assert is_frozen(engine.index.chunks)
    # Chunks are columns built into records on access (index.tables): there is no stored chunk
    # object left to freeze, only the table's document texts.
    assert is_frozen(engine.index.chunks.document_texts)


def test_a_reload_releases_the_old_engine_and_freezes_the_new_one(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    corpus = write_fake_corpus(tmp_path / "corpus", (LIGHTHOUSE, ORCHARD))
    first = ingest([corpus], index_dir, HashingEmbedder()).manifest.index_version
    settings = load_settings(index_dir=index_dir, admin_key=ADMIN_KEY)
    old_engine = load_engine(index_dir)
    old_index = weakref.ref(old_engine.index)
    old_vectors = weakref.ref(old_engine.index.chunk_vectors)
    # What `grounded serve` does: load first, then hand the engine over to the app.
    app = create_app(settings, engine_loader=hand_over(old_engine))
    del old_engine
    with TestClient(app) as client:
        assert client.post("/query", json={"question": "How far does the beam reach?"}).json()["index_version"] == first
        write_fake_corpus(corpus, (FERRY,))
        second = ingest([corpus], index_dir, HashingEmbedder()).manifest.index_version
        reloaded = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        assert reloaded.json() == {"index_version": second, "changed": True}
        assert client.post("/query", json={"question": "How long is the ferry crossing?"}).status_code == 200
        # Frozen or not, the replaced engine holds no reference cycle: reference counting frees it
        # as soon as nothing serves it, before any collection.
        assert old_index() is None
        assert old_vectors() is None
        new_engine = app.state.engines.current().engine
        assert isinstance(new_engine, QueryEngine) and new_engine.index_version == second
        assert is_frozen(new_engine.index.chunks)


def test_a_failed_reload_leaves_the_served_index_frozen(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    corpus = write_fake_corpus(tmp_path / "corpus", (LIGHTHOUSE, ORCHARD))
    ingest([corpus], index_dir, HashingEmbedder())
    engine = load_engine(index_dir)
    write_fake_corpus(corpus, (FERRY,))
    second = ingest([corpus], index_dir, HashingEmbedder()).manifest.index_version
    vectors = index_dir / "versions" / second / "chunk_vectors.npy"
    damaged = bytearray(vectors.read_bytes())
    damaged[-8:] = bytes(8)
    vectors.write_bytes(bytes(damaged))
    with pytest.raises(IndexCorruptedError):
        reload_engine(engine)
    assert is_frozen(engine.index.chunks)


def test_hand_over_gives_the_engine_once(tmp_path: Path) -> None:
    corpus = write_fake_corpus(tmp_path / "corpus", (LIGHTHOUSE,))
    ingest([corpus], tmp_path / "index", HashingEmbedder())
    engine = load_engine(tmp_path / "index")
    loader = hand_over(engine)
    settings = load_settings(index_dir=tmp_path / "index")
    assert loader(settings) is engine
    with pytest.raises(RuntimeError, match="handed over already"):
        loader(settings)


def test_a_served_engine_is_warmed_up_exactly_once_at_start_and_after_a_reload(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    questions: list[str] = []
    original = QueryEngine.query

    def counting(self: QueryEngine, query: Query, **options: Any) -> QueryResult:
        questions.append(query.question)
        return original(self, query, **options)

    monkeypatch.setattr(QueryEngine, "query", counting)
    index_dir = tmp_path / "index"
    corpus = write_fake_corpus(tmp_path / "corpus", (LIGHTHOUSE, ORCHARD))
    ingest([corpus], index_dir, HashingEmbedder())
    settings = load_settings(index_dir=index_dir, admin_key=ADMIN_KEY)
    app = create_app(settings, engine_loader=hand_over(load_engine(index_dir)))
    with TestClient(app) as client:
        assert questions == [WARM_UP_QUERY.question]
        write_fake_corpus(corpus, (FERRY,))
        ingest([corpus], index_dir, HashingEmbedder())
        reloaded = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
        assert reloaded.json()["changed"] is True
        assert questions == [WARM_UP_QUERY.question] * 2
