"""A sharded index gives the unsharded index's results exactly; it is published and verified as a whole."""

from __future__ import annotations

import dataclasses
import gc
import json
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from bench.common.corpus import NewsWriter
from eval.cli import run_eval
from grounded.cli import build_parser, main
from index.build import ingest
from index.errors import IndexCorruptedError, PublishError
from index.layout import CURRENT_NAME, SHARDS_MANIFEST_NAME, VERSIONS_NAME, current_version
from index.load import load_index
from index.manifest import (
    MANIFEST_NAME,
    address_of_canonical,
    compute_index_version,
    manifest_from_json,
    manifest_to_json,
)
from index.publish import publish
from index.records import IndexContent
from index.searcher import Index
from index.shard_manifest import (
    compute_shards_version,
    shard_folder_name,
    shards_manifest_from_json,
    shards_manifest_to_json,
)
from index.shard_publish import publish_sharded
from index.sharded import ShardedIndex
from index.sharding import shard_of
from index.shards import ShardQuery, ShardResult, ShardSearcher
from ingest.embedding import HashingEmbedder
from ranking import RetrievalConfig
from ranking.stages import retrieve
from service.engine import QueryEngine, load_engine, reload_engine
from service.records import Query, QueryResult
from tests.support.index_content import make_content

SEED_QUESTIONS = (
    "What sanctions relief did the United States offer?",
    "Who won the election and by how much?",
    "storm flooding damage",
    "What did the central bank decide about interest rates?",
    "the the of",  # only stop words: BM25 finds nothing, dense still ranks
    "zzyzx unknownword",
)
CONFIGS = tuple(
    RetrievalConfig(mode=mode, fusion=fusion, rescore=rescore, max_per_document=per_document)
    for mode in ("hybrid", "dense", "sparse")
    for fusion in (("max_z", "rrf", "convex") if mode == "hybrid" else ("max_z",))
    for rescore in (False, True)
    for per_document in (0, 2)
)


@pytest.fixture(autouse=True)
def _unfreeze_afterwards() -> Iterator[None]:
    """Loading an engine freezes the process's objects; give them back to the collector."""
    yield
    gc.unfreeze()


@pytest.fixture(scope="module")
def seed_indexes(tmp_path_factory: pytest.TempPathFactory, seed_corpus: Path) -> tuple[Path, Path]:
    """The seeds ingested unsharded and as three shards (hashing embedder)."""
    root = tmp_path_factory.mktemp("seed-shards")
    ingest([seed_corpus], root / "flat", HashingEmbedder())
    ingest([seed_corpus], root / "sharded", HashingEmbedder(), shards=3)
    return root / "flat", root / "sharded"


def _assert_same_retrieval(flat: Index, sharded: Index, questions: tuple[str, ...],
                           vectors: npt.NDArray[np.float32], *, top_k: int = 10) -> None:
    """Every config, with and without a document filter: same rows, sentences and scores."""
    doc_ids = sorted(flat.documents)
    filters = [None, flat.rows_for_documents(doc_ids[::3])]
    for question, vector in zip(questions, vectors, strict=True):
        for config in CONFIGS:
            for rows in filters:
                expected = retrieve(flat, question, vector, top_k=top_k, config=config, rows=rows)
                got = retrieve(sharded, question, vector, top_k=top_k, config=config, rows=rows)
                where = (question, config, rows is not None)
                assert [(p.row, p.best_sentence_row) for p in got] == \
                       [(p.row, p.best_sentence_row) for p in expected], where
                assert [p.score for p in got] == pytest.approx([p.score for p in expected], abs=1e-6), where


def test_seed_shards_hold_the_unsharded_records(seed_indexes: tuple[Path, Path]) -> None:
    flat, sharded = (load_index(path) for path in seed_indexes)
    assert isinstance(sharded, ShardedIndex) and len(sharded.shards) >= 2
    assert sharded.chunks == flat.chunks and sharded.sentences == flat.sentences
    assert dict(sharded.documents) == dict(flat.documents)
    assert np.array_equal(sharded.chunk_vectors, flat.chunk_vectors)
    assert np.array_equal(sharded.sentence_vectors, flat.sentence_vectors)
    assert [sharded.sentence_rows(row) for row in range(len(flat.chunks))] == \
           [flat.sentence_rows(row) for row in range(len(flat.chunks))]
    for shard, part in zip(sharded.shards_manifest.shards, sharded.shards, strict=True):
        assert {shard_of(doc_id, 3) for doc_id in part.documents} == {shard.shard}
    assert sharded.manifest.chunk_count == flat.manifest.chunk_count
    assert sharded.manifest.documents == flat.manifest.documents
    terms = ["sanction", "elect", "bank", "zzyzx", "us"]
    assert sharded.term_weights(terms) == flat.term_weights(terms)


def test_seed_retrieval_is_identical_in_every_mode(seed_indexes: tuple[Path, Path]) -> None:
    flat, sharded = (load_index(path) for path in seed_indexes)
    vectors = HashingEmbedder().encode(list(SEED_QUESTIONS))
    _assert_same_retrieval(flat, sharded, SEED_QUESTIONS, vectors)


def _comparable(result: QueryResult) -> tuple[object, ...]:
    return (result.answer, result.abstention_reason, result.passages, result.answer_score)


def test_seed_answers_through_the_engine_are_identical(seed_indexes: tuple[Path, Path]) -> None:
    flat, sharded = (QueryEngine(load_index(path), HashingEmbedder()) for path in seed_indexes)
    some_documents = tuple(sorted(flat.index.documents)[:2])
    for question in SEED_QUESTIONS:
        for mode in ("hybrid", "dense", "sparse"):
            for doc_ids in (None, some_documents):
                query = Query(question=question, top_k=5, mode=mode, doc_ids=doc_ids)
                assert _comparable(sharded.query(query)) == _comparable(flat.query(query)), query


def test_one_shard_equals_the_unsharded_index(seed_corpus: Path, tmp_path: Path) -> None:
    ingest([seed_corpus], tmp_path / "flat", HashingEmbedder())
    ingest([seed_corpus], tmp_path / "one", HashingEmbedder(), shards=1)
    flat, one = load_index(tmp_path / "flat"), load_index(tmp_path / "one")
    assert isinstance(one, ShardedIndex) and len(one.shards) == 1
    vectors = HashingEmbedder().encode(list(SEED_QUESTIONS[:3]))
    _assert_same_retrieval(flat, one, SEED_QUESTIONS[:3], vectors)
    # The single shard is the unsharded version itself: same records, same BM25, same files.
    assert one.shards[0].index_version == flat.index_version


def test_reingest_reuses_vectors_and_is_byte_identical(seed_corpus: Path, tmp_path: Path) -> None:
    first = ingest([seed_corpus], tmp_path / "index", HashingEmbedder(), shards=2)
    again = ingest([seed_corpus], tmp_path / "index", HashingEmbedder(), shards=2)
    assert again.manifest.index_version == first.manifest.index_version and not again.published
    assert again.embedded_texts == 0
    elsewhere = ingest([seed_corpus], tmp_path / "elsewhere", HashingEmbedder(), shards=2)
    assert elsewhere.manifest.index_version == first.manifest.index_version
    # Switching between sharded and unsharded reuses every vector too.
    flat = ingest([seed_corpus], tmp_path / "index", HashingEmbedder())
    assert flat.embedded_texts == 0
    resharded = ingest([seed_corpus], tmp_path / "index", HashingEmbedder(), shards=4)
    assert resharded.embedded_texts == 0 and resharded.published


def test_changed_document_reembeds_only_that_document(seed_corpus: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(seed_corpus, corpus)
    first = ingest([corpus], tmp_path / "index", HashingEmbedder(), shards=2)
    target = corpus / "001_3872696573969c47.txt"
    text = target.read_text(encoding="utf-8")
    assert "Norway mediated" in text
    target.write_text(text.replace("Norway mediated", "Norway brokered"), encoding="utf-8")
    second = ingest([corpus], tmp_path / "index", HashingEmbedder(), shards=2)
    assert second.published and second.manifest.index_version != first.manifest.index_version
    assert 0 < second.embedded_texts < second.chunk_count + second.sentence_count


# ------------------------------------------------------------------------ format and integrity

def _sharded_version(root: Path) -> Path:
    return root / VERSIONS_NAME / str(current_version(root))


def test_layout_lists_every_shard_with_its_checksum(seed_indexes: tuple[Path, Path]) -> None:
    version_dir = _sharded_version(seed_indexes[1])
    listing = json.loads((version_dir / SHARDS_MANIFEST_NAME).read_text(encoding="utf-8"))
    assert listing["index_version"] == version_dir.name and listing["shard_count"] == 3
    for entry in listing["shards"]:
        shard_root = version_dir / shard_folder_name(entry["shard"])
        # Each shard is a complete unsharded index folder: it loads and serves on its own.
        assert current_version(shard_root) == entry["index_version"]
        alone = load_index(shard_root)
        assert alone.manifest.chunk_count == entry["chunk_count"]


@pytest.mark.parametrize("target", ["chunks.jsonl", "bm25/data.csc.index.npy", "manifest.json"])
def test_a_damaged_shard_refuses_the_whole_load(seed_corpus: Path, tmp_path: Path, target: str) -> None:
    ingest([seed_corpus], tmp_path / "index", HashingEmbedder(), shards=2)
    version_dir = _sharded_version(tmp_path / "index")
    shard_root = version_dir / shard_folder_name(1)
    path = shard_root / VERSIONS_NAME / str(current_version(shard_root)) / target
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptedError) as caught:
        load_index(tmp_path / "index")
    message = str(caught.value)
    assert "shard 1 of the sharded index" in message and target in message
    assert "--shards 2" in message


def test_a_damaged_top_level_manifest_refuses_the_load(seed_corpus: Path, tmp_path: Path) -> None:
    ingest([seed_corpus], tmp_path / "index", HashingEmbedder(), shards=2)
    path = _sharded_version(tmp_path / "index") / SHARDS_MANIFEST_NAME
    path.write_text(path.read_text(encoding="utf-8").replace('"chunk_count": ', '"chunk_count": 1'),
                    encoding="utf-8")
    with pytest.raises(IndexCorruptedError, match=SHARDS_MANIFEST_NAME):
        load_index(tmp_path / "index")


def test_a_failed_sharded_publish_publishes_nothing(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import index.shard_publish as shard_publish

    root = tmp_path / "index"
    publish_sharded(root, make_content(), 2)
    before = current_version(root)
    calls = []

    def fail_on_second_shard(shard_root: Path, content: IndexContent, **options: object) -> object:
        calls.append(shard_root)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return publish(shard_root, content, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(shard_publish, "publish", fail_on_second_shard)
    changed = make_content({"alpha": "A different harbour story. It has new words.",
                            "beta": "Another auction story. Gold again.", "gamma": "Rain. River."})
    with pytest.raises(PublishError, match="previous version is still current"):
        publish_sharded(root, changed, 2)
    assert len(calls) == 2
    assert current_version(root) == before
    assert sorted(path.name for path in (root / VERSIONS_NAME).iterdir()) == [before]
    assert isinstance(load_index(root), ShardedIndex)


def test_publishing_the_current_content_again_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "index"
    first = publish_sharded(root, make_content(), 2)
    version_dir = root / VERSIONS_NAME / first.index_version
    files = {path: path.read_bytes() for path in version_dir.rglob("*") if path.is_file()}
    again = publish_sharded(root, make_content(), 2)
    assert again == first
    assert {path: path.read_bytes() for path in version_dir.rglob("*") if path.is_file()} == files
    assert (root / CURRENT_NAME).read_text() == f"{first.index_version}\n"


# ------------------------------------------------------------------------------- the shard API

def test_shard_messages_pickle_and_carry_exact_scores(seed_indexes: tuple[Path, Path]) -> None:
    flat, sharded = (load_index(path) for path in seed_indexes)
    assert isinstance(sharded, ShardedIndex)
    vector = HashingEmbedder().encode([SEED_QUESTIONS[0]])[0]
    searcher = ShardSearcher(sharded.shards_manifest.shards[0].shard, sharded.shards[0])
    query = ShardQuery(question=SEED_QUESTIONS[0], query_vector=vector, dense_k=5, sparse_k=5,
                       score_rows=np.arange(3, dtype=np.int64), terms=("sanction",))
    result = searcher.search(pickle.loads(pickle.dumps(query)))
    copy = pickle.loads(pickle.dumps(result))
    assert isinstance(copy, ShardResult)
    assert [np.array_equal(getattr(copy, name), getattr(result, name))
            for name in ("dense_rows", "sparse_rows", "scored_rows", "scored_vectors")] == [True] * 4
    # The coordinator's dense scores from the shard's vectors equal the unsharded index's.
    global_rows = np.flatnonzero(sharded.chunk_shards == searcher.shard)[result.scored_rows]
    assert np.array_equal(result.scored_vectors, flat.chunk_vectors[global_rows])
    assert np.array_equal(result.scored_sparse, flat.sparse_scores(SEED_QUESTIONS[0], global_rows))


# ------------------------------------------------------------------------------ CLI and serving

def test_cli_shards_flag_builds_a_sharded_index(seed_corpus: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    index_dir = tmp_path / "index"
    assert main(["ingest", str(seed_corpus), "--index", str(index_dir), "--model", "hashing:384",
                 "--shards", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["index_version"] == current_version(index_dir)
    assert isinstance(load_index(index_dir), ShardedIndex)
    assert main(["ingest", str(seed_corpus), "--index", str(index_dir), "--model", "hashing:384",
                 "--shards", "0"]) == 2
    assert "--shards must lie in 1.." in capsys.readouterr().err


def test_reload_swaps_every_shard_at_once(seed_corpus: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(seed_corpus, corpus)
    ingest([corpus], tmp_path / "index", HashingEmbedder(), shards=2)
    engine = load_engine(tmp_path / "index")
    assert reload_engine(engine) is engine
    sorted(corpus.iterdir())[-1].unlink()
    report = ingest([corpus], tmp_path / "index", HashingEmbedder(), shards=2)
    fresh = reload_engine(engine)
    assert fresh.index_version == report.manifest.index_version != engine.index_version
    assert isinstance(fresh.index, ShardedIndex)
    assert len(fresh.index.documents) == len(engine.index.documents) - 1


def test_eval_runs_on_a_sharded_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.eval_corpus import CORPUS, write_texts

    ingest([write_texts(tmp_path / "corpus")], tmp_path / "index", HashingEmbedder(), shards=2)
    text = CORPUS["alpha"]
    evidence = "Volcanoes erupt when magma rises through the crust."
    line = {"query_id": "q1", "question": "Why do volcanoes erupt with magma?", "kind": "direct",
            "evidence": [{"doc_id": "alpha", "start": text.index(evidence),
                          "end": text.index(evidence) + len(evidence), "text": evidence}]}
    (tmp_path / "gold.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    args = build_parser().parse_args(["eval", "--index", str(tmp_path / "index"), "--gold",
                                      str(tmp_path / "gold.jsonl"), "--out", str(tmp_path / "out"),
                                      "--fail-under", "evidence_hit@1=1.0"])
    assert run_eval(args) == 0, capsys.readouterr().err


# --------------------------------------------------------------------- a generated 20k-chunk corpus

def test_generated_corpus_of_20k_chunks_is_identical_sharded(tmp_path: Path) -> None:
    writer = NewsWriter(12)
    texts = {f"news_{number:05d}": writer.document() for number in range(720)}
    # 64 dimensions: more near-ties between rows than 384, so the tie-breaks are exercised too.
    content = make_content(texts, dimension=64)
    assert len(content.chunks) >= 20_000
    publish(tmp_path / "flat", content)
    publish_sharded(tmp_path / "sharded", content, 4)
    flat, sharded = load_index(tmp_path / "flat"), load_index(tmp_path / "sharded")
    assert isinstance(sharded, ShardedIndex) and len(sharded.shards) == 4
    assert sharded.chunks == flat.chunks
    questions = tuple(content.sentences[row].text for row in range(0, len(content.sentences), 2521))
    questions += ("Who protested on Monday?", "exports fell", "festival weather")
    vectors = HashingEmbedder(64).encode(list(questions))
    _assert_same_retrieval(flat, sharded, questions, vectors, top_k=10)
    terms = list(dict.fromkeys(term for question in questions for term in question.lower().split()))
    assert sharded.term_weights(terms) == flat.term_weights(terms)
    config = dataclasses.replace(RetrievalConfig(), candidates=200)
    for question, vector in zip(questions[:3], vectors[:3], strict=True):
        assert retrieve(sharded, question, vector, top_k=50, config=config) == \
               retrieve(flat, question, vector, top_k=50, config=config)



def test_content_addresses_from_canonical_bytes_match_reserialising(seed_indexes: tuple[Path, Path]) -> None:
    # Loading checks a manifest's address from its bytes; it must be the address publishing gave.
    flat_dir, sharded_dir = seed_indexes
    flat_current, sharded_current = current_version(flat_dir), current_version(sharded_dir)
    assert flat_current is not None and sharded_current is not None
    flat_version = flat_dir / VERSIONS_NAME / flat_current
    flat = manifest_from_json((flat_version / MANIFEST_NAME).read_bytes(), flat_version / MANIFEST_NAME)
    assert address_of_canonical(manifest_to_json(flat), flat.index_version) == compute_index_version(flat)
    sharded_version = sharded_dir / VERSIONS_NAME / sharded_current
    shards = shards_manifest_from_json((sharded_version / SHARDS_MANIFEST_NAME).read_bytes(),
                                       sharded_version / SHARDS_MANIFEST_NAME)
    assert len(shards.shards) > 1  # each shard entry holds an index_version of its own
    assert address_of_canonical(shards_manifest_to_json(shards), shards.index_version) == (
        compute_shards_version(shards))
