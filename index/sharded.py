"""``ShardedIndex``: a sharded index version loaded as one ``Index`` with the unsharded rows.

The coordinator holds the records of every shard merged into the global order (chunks by
``(doc_id, ordinal)``, sentences by ``(doc_id, start)``), so every row number, record and vector
row is exactly what the unsharded index of the same corpus has, and everything above the index
(retrieval, fusion, de-crowding, answers, grounding) runs unchanged. Searches go to the shards
as ``index.shards.ShardQuery`` messages over a ``ShardTransport`` (a bounded thread pool here;
FAISS and bm25s release the GIL) and come back merged exactly (``index.shards.merge_hits``).
"""

from __future__ import annotations

import heapq
import weakref
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from index.errors import IndexCorruptedError, IndexFolderError, IndexMissingError, ModelMismatchError
from index.fsutil import sha256_file
from index.layout import SHARDS_MANIFEST_NAME, VERSIONS_NAME, current_version, fix_hint
from index.manifest import MANIFEST_NAME
from index.records import Hit, Manifest, Vectors
from index.searcher import Index
from index.shard_manifest import (
    ShardEntry,
    ShardsManifest,
    combined_manifest,
    shard_folder_name,
    shards_manifest_from_json,
)
from index.shards import ShardQuery, ShardResult, ShardSearcher, merge_hits
from index.sparse import lucene_idf
from index.tables import ChunkTable, DocumentTexts, SentenceTable
from index.unsharded import load_unsharded, unsharded_vectors, verified_manifest_file

DEFAULT_SEARCH_THREADS = 4
"""Upper bound of threads searching shards in parallel for one index (queries share them)."""


class ShardTransport(Protocol):
    """How the coordinator reaches its shards: one ``ShardQuery`` per shard number, answers in order."""

    def search_all(self, queries: Mapping[int, ShardQuery]) -> list[ShardResult]:
        """Answer every query (keyed by shard number), in the mapping's order."""
        ...


class ThreadPoolTransport:
    """Shards searched in-process by a bounded thread pool (one query's shards run in parallel)."""

    def __init__(self, searchers: Sequence[ShardSearcher], threads: int = DEFAULT_SEARCH_THREADS) -> None:
        self._searchers = {searcher.shard: searcher for searcher in searchers}
        self._pool = (ThreadPoolExecutor(max_workers=min(max(threads, 1), len(searchers)),
                                         thread_name_prefix="shard-search")
                      if len(searchers) > 1 else None)
        if self._pool is not None:
            # Idle pool threads would outlive a reloaded-away index otherwise.
            weakref.finalize(self, self._pool.shutdown, wait=False)

    def search_all(self, queries: Mapping[int, ShardQuery]) -> list[ShardResult]:
        """Answer every query; in parallel when more than one shard is asked."""
        if self._pool is None or len(queries) <= 1:
            return [self._searchers[shard].search(query) for shard, query in queries.items()]
        futures = [self._pool.submit(self._searchers[shard].search, query)
                   for shard, query in queries.items()]
        return [future.result() for future in futures]


def _sentence_keys(index: Index) -> list[tuple[str, int, int]]:
    """``(doc_id, start, end)`` of every sentence of ``index``, in row order, without building them."""
    sentences = index.sentences
    return [(sentences.doc_id(row), int(start), int(end))
            for row, (start, end) in enumerate(zip(sentences.starts, sentences.ends, strict=True))]


class ShardedIndex(Index):
    """A verified sharded version in memory: merged records plus one searcher per shard.

    Rows, records and vectors are the unsharded index's; ``dense_search``, ``sparse_search``,
    ``sparse_scores``, ``term_weights`` and ``document_frequencies`` ask the shards and merge.
    ``shards`` are the loaded shard indexes (ascending shard number), owned by this index from then
    on (their sentence vectors are released once merged); read-only after construction.
    """

    def __init__(self, *, root: Path, version_dir: Path, manifest: Manifest,
                 shards_manifest: ShardsManifest, shards: Sequence[Index],
                 transport: ShardTransport | None = None) -> None:
        numbers = [entry.shard for entry in shards_manifest.shards]
        chunk_keys = [[(shard.chunks.doc_id(row), int(ordinal)) for row, ordinal in enumerate(shard.chunks.ordinals)]
                      for shard in shards]
        merged = list(heapq.merge(*[[(key, number, row) for row, key in enumerate(keys)]
                                    for number, keys in zip(numbers, chunk_keys, strict=True)]))
        self.chunk_shards = np.asarray([number for _, number, _ in merged], dtype=np.int64)
        self.chunk_local_rows = np.asarray([row for _, _, row in merged], dtype=np.int64)
        position = {number: place for place, number in enumerate(numbers)}
        documents = {doc_id: document for shard in shards for doc_id, document in shard.documents.items()}
        texts = DocumentTexts(sorted(documents), [documents[doc_id].text for doc_id in sorted(documents)])
        chunks = ChunkTable.from_chunks(
            [shards[position[number]].chunks[row] for _, number, row in merged], texts)
        sentence_order = list(heapq.merge(*[[(key, place, row) for row, key in enumerate(_sentence_keys(shard))]
                                            for place, shard in enumerate(shards)]))
        sentences = SentenceTable(
            documents=texts,
            doc_rows=[texts.row_of[doc_id] for (doc_id, _, _), _, _ in sentence_order],
            starts=[start for (_, start, _), _, _ in sentence_order],
            ends=[end for (_, _, end), _, _ in sentence_order])
        dimension = manifest.dimension
        chunk_vectors = np.empty((len(chunks), dimension), dtype=np.float32)
        sentence_vectors = np.empty((len(sentences), dimension), dtype=np.float32)
        sentence_places = np.asarray([place for _, place, _ in sentence_order], dtype=np.int64)
        for place, shard in enumerate(shards):
            # Boolean masks keep ascending global rows, which is each shard's own row order.
            chunk_vectors[self.chunk_shards == numbers[place]] = shard.chunk_vectors[:]
            sentence_vectors[sentence_places == place] = shard.sentence_vectors[:]
        chunk_vectors.flags.writeable = False
        sentence_vectors.flags.writeable = False
        for shard in shards:
            # The shard indexes are private to this one and their searchers never read sentence
            # vectors: keep only the merged copy (sentences are most of an index's vectors).
            # A fresh empty array, not a slice: a view would keep the whole buffer alive (and
            # dropping the shard's ``VectorFile`` closes its file).
            shard.sentence_vectors = np.zeros((0, dimension), dtype=np.float32)
        # The dense and sparse structures live in the shards; every method reading them is overridden.
        super().__init__(root=root, version_dir=version_dir, manifest=manifest, documents=documents,
                         chunks=chunks, sentences=sentences, chunk_vectors=chunk_vectors,
                         sentence_vectors=sentence_vectors,
                         dense=None, sparse=None)  # type: ignore[arg-type]
        self.shards_manifest = shards_manifest
        self.shards = tuple(shards)
        self._global_rows = {
            number: np.flatnonzero(self.chunk_shards == number).astype(np.int64) for number in numbers
        }
        self._transport: ShardTransport = transport or ThreadPoolTransport(
            [ShardSearcher(number, shard) for number, shard in zip(numbers, shards, strict=True)])

    # ------------------------------------------------------------------------------ row mapping

    def _local_filters(self, rows: npt.ArrayLike | None) -> dict[int, npt.NDArray[np.int64] | None]:
        """Each shard's local rows among the global ``rows``; shards with none are left out."""
        if rows is None:
            return dict.fromkeys(self._global_rows)
        row_ids = np.unique(np.asarray(rows, dtype=np.int64).reshape(-1))
        row_ids = row_ids[(row_ids >= 0) & (row_ids < len(self.chunks))]
        filters: dict[int, npt.NDArray[np.int64] | None] = {}
        for number in self._global_rows:
            mine = row_ids[self.chunk_shards[row_ids] == number]
            if len(mine):
                filters[number] = self.chunk_local_rows[mine]
        return filters

    def _to_global(self, shard: int, local_rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return self._global_rows[shard][local_rows]

    # ---------------------------------------------------------------------------------- search

    def dense_search(self, query_vector: npt.ArrayLike, k: int,
                     rows: npt.ArrayLike | None = None) -> list[Hit]:
        """Top ``k`` rows by cosine similarity, merged from every shard's top ``k``."""
        vector = np.asarray(query_vector, dtype=np.float32)
        queries = {shard: ShardQuery(query_vector=vector, dense_k=int(k), rows=local)
                   for shard, local in self._local_filters(rows).items()}
        results = self._transport.search_all(queries)
        return merge_hits([(self._to_global(result.shard, result.dense_rows), result.dense_scores)
                           for result in results], k)

    def sparse_search(self, question: str, k: int,
                      rows: npt.ArrayLike | None = None) -> list[Hit]:
        """Top ``k`` rows by (global) BM25 score, merged from every shard's top ``k``."""
        queries = {shard: ShardQuery(question=question, sparse_k=int(k), rows=local)
                   for shard, local in self._local_filters(rows).items()}
        results = self._transport.search_all(queries)
        return merge_hits([(self._to_global(result.shard, result.sparse_rows), result.sparse_scores)
                           for result in results], k)

    def sparse_scores(self, question: str, rows: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Exact BM25 scores of ``question`` for the given global rows, each from its shard."""
        row_ids = np.asarray(rows, dtype=np.int64)
        scores = np.zeros(len(row_ids), dtype=np.float32)
        if len(row_ids) == 0:
            return scores
        shard_of_row = self.chunk_shards[row_ids]
        queries = {int(shard): ShardQuery(question=question,
                                          score_rows=self.chunk_local_rows[row_ids[shard_of_row == shard]])
                   for shard in dict.fromkeys(shard_of_row.tolist())}
        for result in self._transport.search_all(queries):
            scores[shard_of_row == result.shard] = result.scored_sparse
        return scores

    def document_frequencies(self, terms: Iterable[str]) -> list[int]:
        """How many chunks of all shards contain each analysed term."""
        listed = tuple(terms)
        totals = [0] * len(listed)
        if not listed:
            return totals
        queries = {shard: ShardQuery(terms=listed) for shard in self._global_rows}
        for result in self._transport.search_all(queries):
            totals = [total + count for total, count in zip(totals, result.term_frequencies, strict=True)]
        return totals

    def term_weights(self, terms: Iterable[str]) -> dict[str, float]:
        """BM25 idf of analysed query terms over all shards' chunks (the unsharded index's idf)."""
        listed = list(terms)
        total = len(self.chunks)
        return {term: lucene_idf(total, frequency)
                for term, frequency in zip(listed, self.document_frequencies(listed), strict=True)}


# ---------------------------------------------------------------------------------------- load

def _shards_manifest(version_dir: Path, root: Path) -> ShardsManifest:
    return verified_manifest_file(version_dir, root, SHARDS_MANIFEST_NAME, parse=shards_manifest_from_json)


def _sharded_hint(root: Path, count: int) -> str:
    return f"re-run `grounded ingest --index {root} --shards {count}`"


def _load_shard(root: Path, version_dir: Path, shards: ShardsManifest, entry: ShardEntry, *,
                expected_model_id: str | None, expected_dimension: int | None) -> Index:
    """Verify one shard against ``shards.json`` and load it; errors name the shard and the file."""
    shard_root = version_dir / shard_folder_name(entry.shard)
    hint = _sharded_hint(root, shards.shard_count)
    where = f"shard {entry.shard} of the sharded index {root}"
    try:
        name = current_version(shard_root)
        if name != entry.index_version:
            raise IndexCorruptedError(f"{shard_root / 'CURRENT'} names {name}, but "
                                      f"{version_dir / SHARDS_MANIFEST_NAME} lists {entry.index_version}")
        manifest_path = shard_root / VERSIONS_NAME / name / MANIFEST_NAME
        try:
            sha256, _ = sha256_file(manifest_path)
        except OSError as error:
            raise IndexCorruptedError(f"cannot read {manifest_path}: {error}") from error
        if sha256 != entry.manifest_sha256:
            raise IndexCorruptedError(f"{manifest_path} does not match its checksum in "
                                      f"{SHARDS_MANIFEST_NAME} (it was modified or damaged)")
        index = load_unsharded(shard_root, expected_model_id=expected_model_id,
                               expected_dimension=expected_dimension)
    except ModelMismatchError:
        raise
    except (IndexCorruptedError, IndexMissingError) as error:
        message = str(error).replace(fix_hint(shard_root), hint)
        raise IndexCorruptedError(f"{where} is damaged: {message}; {hint}") from error
    if index.manifest.chunk_count != entry.chunk_count:
        raise IndexCorruptedError(f"{where} holds {index.manifest.chunk_count} chunks, but "
                                  f"{SHARDS_MANIFEST_NAME} lists {entry.chunk_count}; {hint}")
    return index


def load_sharded(root: Path, version: str, *, expected_model_id: str | None = None,
                 expected_dimension: int | None = None,
                 threads: int = DEFAULT_SEARCH_THREADS,
                 transport: ShardTransport | None = None) -> ShardedIndex:
    """Verify and load the sharded version ``version`` of ``root`` (every shard, in parallel).

    ``transport`` reaches the shards for searches (default: this process's thread pool over the
    shards loaded here; ``index.ray_shards`` passes Ray Serve deployments of the same version).

    Raises ``IndexCorruptedError`` naming the shard and the file when any shard fails its checks
    (nothing is served then), or ``ModelMismatchError``.
    """
    version_dir = root / VERSIONS_NAME / version
    shards = _shards_manifest(version_dir, root)
    if (expected_model_id is not None and expected_model_id != shards.model_id) or (
            expected_dimension is not None and expected_dimension != shards.dimension):
        raise ModelMismatchError(
            f"the index at {root} was built with model {shards.model_id} ({shards.dimension}-d), but "
            f"model {expected_model_id or shards.model_id} ({expected_dimension or shards.dimension}-d) "
            f"was requested; serve with the index's model or {_sharded_hint(root, shards.shard_count)} "
            "with the new one")
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(shards.shards)))) as pool:
        futures = [pool.submit(_load_shard, root, version_dir, shards, entry,
                               expected_model_id=expected_model_id, expected_dimension=expected_dimension)
                   for entry in shards.shards]
        loaded = [future.result() for future in futures]
    manifest = combined_manifest(shards, tuple(index.manifest for index in loaded))
    return ShardedIndex(root=root, version_dir=version_dir, manifest=manifest, shards_manifest=shards,
                        shards=loaded, transport=transport)


def load_shard(root: Path, version: str, shard: int) -> Index:
    """Verify ``shards.json`` of ``version`` and load its shard ``shard`` alone (a remote replica's share)."""
    version_dir = root / VERSIONS_NAME / version
    shards = _shards_manifest(version_dir, root)
    entries = {entry.shard: entry for entry in shards.shards}
    if shard not in entries:
        raise IndexCorruptedError(f"{version_dir / SHARDS_MANIFEST_NAME} lists no shard {shard}; "
                                  f"{_sharded_hint(root, shards.shard_count)}")
    return _load_shard(root, version_dir, shards, entries[shard],
                       expected_model_id=None, expected_dimension=None)


def previous_shard_vectors(root: Path, version: str, model_id: str) -> dict[str, Vectors]:
    """``index.load.load_previous_vectors`` over every intact shard of a sharded version."""
    version_dir = root / VERSIONS_NAME / version
    try:
        shards = _shards_manifest(version_dir, root)
    except IndexFolderError:
        return {}
    cache: dict[str, Vectors] = {}
    for entry in shards.shards:
        cache.update(unsharded_vectors(version_dir / shard_folder_name(entry.shard), model_id))
    return cache
