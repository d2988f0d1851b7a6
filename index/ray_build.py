"""Building an index version on a Ray cluster: the same steps and index as ``index.build``, spread out.

Reading and cleaning (``read_document``) and chunking (``split_document``) run as Ray tasks; the
model runs on a pool of actors (Ray Data ``map_batches`` with a callable class, the model loaded
once per actor). The cross-document steps (repeated lines, near-duplicate chunks, the vector cache)
and publishing stay on the driver, in document order, so the published ``index_version`` equals
the single-process one: the actors run exactly the model batches a local run would
(``index.model_calls``). A killed actor is restarted and its batch retried; a run that fails
raises before publishing, so the previous version keeps serving. Ray is imported only here.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from index.build import Built, IngestReport, ModelIdentity, combine_splits, publish_ingest
from index.errors import BuildError
from index.load import load_previous_vectors
from index.model_calls import Answer, ModelCall, ReplayEmbedder
from ingest import (
    DEFAULT_MAX_BYTES,
    ChunkingParams,
    Document,
    Embedder,
    PooledVectors,
    Rejection,
    SplitDocument,
    StageLines,
    corpus_files,
    embed_texts,
    gather_corpus,
    load_embedder,
    mark_duplicate_lines,
    read_document,
    split_document,
    token_counter,
)

LoadEmbedder = Callable[[], Embedder]
Item = TypeVar("Item")
# Texts in one forward pass: the single-process path's batch, which fixes the vectors' last bits.
MODEL_BATCH = 64
# Files read, or documents chunked, per Ray task.
FILES_PER_TASK = 64
# Replay rounds: model batches, then sentences no chunk could pool; a third finds nothing new.
MAX_ROUNDS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class RayOptions:
    """Where and how wide to run: ``address`` is ``local`` (start one here), ``auto`` or ``HOST:PORT``."""

    address: str = "local"
    actors: int = 2
    batch_size: int = 256
    """Texts per actor task, in whole model batches of ``MODEL_BATCH``."""
    max_restarts: int = 3
    """Restarts of a dead actor, each retrying its batch, before the run fails."""


def _describe(load: LoadEmbedder) -> ModelIdentity:
    embedder = load()
    return ModelIdentity.of(embedder)


def _read_files(files: Sequence[tuple[Path, Path]], max_bytes: int) -> list[Document | Rejection]:
    return [read_document(path, root, max_bytes=max_bytes) for path, root in files]


def _split_documents(documents: Sequence[Document], params: ChunkingParams) -> list[SplitDocument]:
    count = token_counter(params.encoding)
    return [split_document(document, params, count) for document in documents]


def _groups(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    return [items[first : first + size] for first in range(0, len(items), size)]


class EmbedCalls:
    """A Ray Data actor: loads the model once, then answers batches of ``ModelCall`` rows."""

    def __init__(self, load: LoadEmbedder) -> None:
        self._embedder = load()

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        rows = batch.to_pylist()
        text_vectors: list[bytes] = []
        span_vectors: list[bytes] = []
        span_pooled: list[bytes] = []
        for row in rows:
            texts = list(row["texts"])
            if not row["pooled"]:
                vectors = self._embedder.encode(texts, batch_size=row["batch_size"])
                text_vectors.append(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
                span_vectors.append(b"")
                span_pooled.append(b"")
                continue
            spans, flat = [], 0
            for count in row["span_counts"]:
                spans.append(list(zip(row["span_starts"][flat : flat + count],
                                      row["span_ends"][flat : flat + count], strict=True)))
                flat += count
            pooled = self._embedder.encode_with_spans(texts, spans, batch_size=row["batch_size"])  # type: ignore[attr-defined]
            text_vectors.append(pooled.text_vectors.tobytes())
            span_vectors.append(pooled.span_vectors.tobytes())
            span_pooled.append(pooled.span_pooled.tobytes())
        return pa.table({"call": [row["call"] for row in rows], "text_vectors": text_vectors,
                         "span_vectors": span_vectors, "span_pooled": span_pooled})


def _call_row(number: int, call: ModelCall) -> dict[str, Any]:
    spans = call.spans or ()
    return {"call": number, "texts": list(call.texts), "pooled": call.spans is not None,
            "batch_size": call.batch_size, "span_counts": [len(text_spans) for text_spans in spans],
            "span_starts": [start for text_spans in spans for start, _ in text_spans],
            "span_ends": [end for text_spans in spans for _, end in text_spans]}


def _answer(call: ModelCall, row: dict[str, Any], dimension: int) -> Answer:
    text_vectors = np.frombuffer(row["text_vectors"], dtype=np.float32).reshape(len(call.texts), dimension)
    if call.spans is None:
        return text_vectors.copy()
    spans = sum(len(text_spans) for text_spans in call.spans)
    return PooledVectors(
        text_vectors=text_vectors.copy(),
        span_vectors=np.frombuffer(row["span_vectors"], dtype=np.float32).reshape(spans, dimension).copy(),
        span_pooled=np.frombuffer(row["span_pooled"], dtype=np.bool_).copy())


def run_model_calls(calls: Sequence[ModelCall], load: LoadEmbedder, dimension: int,
                    options: RayOptions) -> dict[str, Answer]:
    """Answer ``calls`` on a pool of ``options.actors`` actors; ``ModelCall.key`` -> answer."""
    import ray.data

    per_task = max(1, options.batch_size // MODEL_BATCH)
    tasks = max(1, math.ceil(len(calls) / per_task))
    dataset = ray.data.from_items([_call_row(number, call) for number, call in enumerate(calls)],
                                  override_num_blocks=tasks)
    with warnings.catch_warnings():
        # Ray 2.60 has no named parameter for actor restarts yet and warns on the remote-args
        # form; its default (restart forever) would loop on an actor that always dies.
        warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
        answered = dataset.map_batches(
            EmbedCalls, fn_constructor_kwargs={"load": load}, batch_size=per_task, batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=min(options.actors, tasks)), num_cpus=1,
            max_restarts=options.max_restarts, max_task_retries=options.max_restarts)
    answers: dict[str, Answer] = {}
    for row in answered.iter_rows():
        call = calls[int(row["call"])]
        answers[call.key] = _answer(call, row, dimension)
    if len(answers) != len({call.key for call in calls}):
        raise BuildError(f"the actors answered {len(answers)} of {len(calls)} model calls; nothing was published")
    return answers


def _connect(address: str) -> bool:
    """Join or start the cluster ``address`` names; True when this call started Ray here."""
    import ray

    if ray.is_initialized():
        return False
    if address == "local":
        ray.init(include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=address, log_to_driver=False)
    return True


def ray_ingest(paths: Sequence[Path], index_dir: Path, *, model: str | None, options: RayOptions,
               precision: str = "auto", params: ChunkingParams | None = None,
               max_bytes: int = DEFAULT_MAX_BYTES, sentence_method: str | None = None,
               shards: int | None = None,
               load: LoadEmbedder | None = None, stages: StageLines | None = None) -> IngestReport:
    """``index.build.ingest`` on Ray: the same index_version, reusing unchanged vectors, published atomically.

    ``load`` builds the embedder on each actor (default: ``load_embedder(model, precision=...)``).
    ``stages`` reports the driver's long steps (``grounded ingest --ray`` passes stderr's).
    Raises ``CorpusError`` before touching the index when a corpus path is unreadable; a failed
    run raises without publishing.
    """
    import ray

    stages = stages or StageLines(None)
    params = params or ChunkingParams()
    load = load or functools.partial(load_embedder, model, precision=precision)
    files = corpus_files(paths)
    try:
        started = _connect(options.address)
    except ConnectionError as error:
        raise BuildError(f"cannot join the Ray cluster at {options.address!r} ({error}); start one with "
                         "`ray start --head`, or pass --ray local") from error
    try:
        identity_ref = ray.remote(_describe).remote(load)
        read_task = ray.remote(_read_files)
        with stages.stage("reading on Ray"):
            read = ray.get([read_task.remote(group, max_bytes) for group in _groups(files, FILES_PER_TASK)])
        corpus = gather_corpus([item for group in read for item in group])
        with stages.stage("marking repeated lines"):
            marked = mark_duplicate_lines(corpus.documents)
        split_task = ray.remote(_split_documents)
        with stages.stage("chunking on Ray"):
            splits = ray.get([split_task.remote(group, params) for group in _groups(marked, FILES_PER_TASK)])
        segmented = combine_splits(marked, [split for group in splits for split in group], stages=stages)
        identity: ModelIdentity = ray.get(identity_ref)
        method = sentence_method or identity.default_method
        cache = load_previous_vectors(index_dir, identity.model_id)
        answers: dict[str, Answer] = {}
        for _ in range(MAX_ROUNDS):
            replay = ReplayEmbedder(model_id=identity.model_id, dimension=identity.dimension,
                                    precision=identity.precision, answers=answers)
            embedded = embed_texts(replay, segmented.chunks, segmented.sentences, cache, method=method)
            if not replay.missing:
                break
            with stages.stage("embedding on Ray"):
                answers = {**answers, **run_model_calls(list(replay.missing.values()), load,
                                                        identity.dimension, options)}
        else:
            raise BuildError(f"model calls still missing after {MAX_ROUNDS} rounds; nothing was published")
    except ray.exceptions.RayError as error:
        raise BuildError(f"the Ray ingest failed and published nothing; the previous version keeps serving. "
                         f"{type(error).__name__}: {error}") from error
    finally:
        if started:
            ray.shutdown()
    built = Built(corpus=corpus, segmented=segmented, embedded=embedded, model=identity, params=params,
                  sentence_method=method)
    return publish_ingest(index_dir, built, shards=shards, stages=stages)
