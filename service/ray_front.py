"""The front of a sharded index served on Ray Serve: the usual engine, its shards searched remotely.

The front is the ordinary process (``service.app.create_app`` under uvicorn): it holds the
records, encodes questions, merges, rescores and answers exactly as the single-process service
does; only the shard searches travel, as ``index.shards.ShardQuery`` messages to Ray Serve
deployments (``index.ray_shards``). A reload deploys the new version's shards beside the old
ones before the engine swap, so every answer comes from one version.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from service.engine import IndexLoader, QueryEngine, load_engine, reload_engine
from service.engine_protocol import QueryEngineProtocol
from service.errors import ReloadUnsupportedError
from service.settings import Settings

if TYPE_CHECKING:
    from index import Index, RayServeOptions
    from service.reload import EngineReloader


def ray_index_loader(options: RayServeOptions) -> IndexLoader:
    """An ``IndexLoader`` whose shards are deployed on (and searched through) Ray Serve."""
    from index import load_ray_index

    def load(root: Path, *, expected_model_id: str | None = None,
             expected_dimension: int | None = None) -> Index:
        return load_ray_index(root, options, expected_model_id=expected_model_id,
                              expected_dimension=expected_dimension)

    return load


def load_ray_engine(settings: Settings, options: RayServeOptions) -> QueryEngine:
    """The engine ``grounded serve --ray`` serves: ``load_engine`` over the Ray-served shards."""
    return load_engine(settings.index_dir, config=settings.engine_config(),
                       threads=settings.threads, query_runtime=settings.query_runtime,
                       index_loader=ray_index_loader(options))


def ray_reloader(options: RayServeOptions) -> EngineReloader:
    """The reloader of a Ray-served engine: the new version's shards deployed, then one swap."""
    loader = ray_index_loader(options)

    def reload(engine: QueryEngineProtocol) -> QueryEngineProtocol:
        if not isinstance(engine, QueryEngine):
            raise ReloadUnsupportedError(f"this server's engine ({type(engine).__name__}) cannot reload")
        return reload_engine(engine, index_loader=loader)

    return reload
