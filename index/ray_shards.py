"""A sharded index served by Ray Serve: one deployment per shard and version, and its transport.

Each shard of a version runs as its own Serve application (``<prefix>-<version>-<id>-shard-<n>``)
whose replicas load that shard's folder read-only (``index.sharded.load_shard``, verified against
``shards.json``) and answer ``index.shards.ShardQuery`` messages, so replicas are stateless and
Ray may replace one at any time. The coordinator (``index.sharded.ShardedIndex``, in the process
that holds the records and runs the engine) reaches them through ``RayServeTransport``, one more
``ShardTransport`` beside the in-process thread pool: the merge, and everything above it, is the
same code.

Versions never mix: a replica is bound to one version at construction and refuses a query for
any other, and a coordinator holds handles to its own version's deployments only. A reload
deploys the new version's set beside the old one, loads a coordinator for it and lets the
service swap engines in one reference; the old set is deleted when the old coordinator is freed
(the last query on it has finished).

A shard that does not answer within ``timeout_s`` (its replica died and Ray has not replaced it
yet, or it is overloaded) raises ``ShardUnavailableError`` naming it: the query fails whole,
never ranking over the shards that did answer. Ray is imported only by this module.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray import serve
from ray.serve.handle import DeploymentHandle, DeploymentResponse

from index.errors import IndexFolderError, IndexMissingError, ShardUnavailableError
from index.layout import fix_hint, sharded_version
from index.sharded import ShardedIndex, load_shard, load_sharded
from index.shards import ShardQuery, ShardResult, ShardSearcher

logger = logging.getLogger(__name__)

RETRY_PAUSE_S = 0.05
"""Pause between two tries of a shard whose replica failed (a dead replica fails at once)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RayServeOptions:
    """How shards are deployed and called on Ray Serve."""

    address: str = "local"
    """``local`` (a private cluster for this process), ``auto`` or a head node ``HOST:PORT``."""
    replicas: int = 1
    """Replicas per shard deployment."""
    replica_cpus: float = 0.0
    """Logical CPUs each replica reserves; 0 so that a reload (two versions side by side) always fits."""
    timeout_s: float = 3.0
    """How long one fan-out round may wait for a shard, retries included, before 503 ``shard_unavailable``."""
    prefix: str = "grounded"
    """Application names start with it (then the version and a random id of the deployment)."""


class ShardReplica:
    """One replica of one shard deployment: the shard of one version, loaded read-only."""

    def __init__(self, root: str, version: str, shard: int) -> None:
        self._version = version
        self._searcher = ShardSearcher(shard, load_shard(Path(root), version, shard))

    def search(self, version: str, query: ShardQuery) -> ShardResult:
        """Answer ``query`` for ``version`` only (a query of another version is a bug upstream)."""
        if version != self._version:
            raise ValueError(f"shard {self._searcher.shard} holds version {self._version}, asked for {version}")
        return self._searcher.search(query)


def application_name(prefix: str, version: str, deployment: str, shard: int) -> str:
    """The Serve application of one shard of one deployment of a version.

    ``deployment`` tells apart two deployments of the same version (a reload back to a version
    whose old set is still being retired must not reuse, and then lose, its names).
    """
    return f"{prefix}-{version[:12]}-{deployment}-shard-{shard}"


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class RayServeTransport:
    """``ShardTransport`` over the Serve deployments of one version (one handle per shard)."""

    def __init__(self, *, version: str, handles: Mapping[int, DeploymentHandle[Any]], timeout_s: float) -> None:
        self.version = version
        self._handles = dict(handles)
        self._timeout_s = timeout_s

    def search_all(self, queries: Mapping[int, ShardQuery]) -> list[ShardResult]:
        """Send every query at once, then collect the answers in order; all of them or an error."""
        if _in_event_loop():
            # Serve's blocking result() refuses to run on an event loop (the service's start-up
            # warm-up does): wait on a helper thread instead.
            with ThreadPoolExecutor(max_workers=1) as helper:
                return helper.submit(self.search_all, queries).result()
        deadline = time.monotonic() + self._timeout_s
        sent = {shard: self._send(shard, query) for shard, query in queries.items()}
        return [self._receive(shard, query, sent[shard], deadline) for shard, query in queries.items()]

    def _send(self, shard: int, query: ShardQuery) -> DeploymentResponse[Any]:
        response = self._handles[shard].search.remote(self.version, query)
        assert isinstance(response, DeploymentResponse)  # a unary method, never a stream
        return response

    def _receive(self, shard: int, query: ShardQuery, response: DeploymentResponse[Any],
                 deadline: float) -> ShardResult:
        """The shard's answer, trying again (a replaced replica) until ``deadline``."""
        while True:
            try:
                result = response.result(timeout_s=max(deadline - time.monotonic(), 0.001))
            except (ray.exceptions.RayError, TimeoutError, RuntimeError) as error:
                response.cancel()  # type: ignore[no-untyped-call]
                if time.monotonic() + RETRY_PAUSE_S >= deadline:
                    raise ShardUnavailableError(
                        f"shard {shard} of index {self.version[:12]} did not answer within "
                        f"{self._timeout_s:g} s ({type(error).__name__}); Ray is restarting its replica, "
                        "retry shortly", shard=shard) from error
                time.sleep(RETRY_PAUSE_S)
                response = self._send(shard, query)
                continue
            if not isinstance(result, ShardResult):
                raise TypeError(f"shard {shard} answered {type(result).__name__}, not a ShardResult")
            return result


_deployed: set[str] = set()
"""Serve applications this process deployed and has not deleted yet (``shutdown_serving`` deletes them)."""
_deployed_lock = threading.Lock()


def _delete_applications(names: Sequence[str]) -> None:
    """Delete Serve applications without waiting (an old version's shards once nothing uses them)."""
    with _deployed_lock:
        _deployed.difference_update(names)

    def delete() -> None:
        if not ray.is_initialized():
            return  # the cluster (and its applications) went first
        for name in names:
            try:
                serve.delete(name, _blocking=False)
            except (ray.exceptions.RayError, ValueError) as error:
                # ValueError: Serve's controller is gone (Serve was shut down), and its applications with it.
                logger.warning("could not delete the Serve application %s: %s", name, error)

    threading.Thread(target=delete, name="grounded-retire-shards", daemon=True).start()


def deploy_shards(root: Path, version: str, shards: Sequence[int], options: RayServeOptions) -> RayServeTransport:
    """Deploy every shard of ``version`` (waiting until each replica has loaded) and connect to them.

    The applications are deleted when the returned transport is freed. Raises
    ``IndexFolderError`` when a deployment fails to start (its replicas could not load the shard).
    """
    deployment = serve.deployment(
        name="shard", num_replicas=options.replicas, max_ongoing_requests=64,
        ray_actor_options={"num_cpus": options.replica_cpus}, max_constructor_retry_count=3)(ShardReplica)
    generation = uuid.uuid4().hex[:8]
    names = [application_name(options.prefix, version, generation, shard) for shard in shards]
    targets = [serve.RunTarget(target=deployment.bind(str(root), version, shard), name=name, route_prefix=None)
               for shard, name in zip(shards, names, strict=True)]
    with _deployed_lock:
        _deployed.update(names)
    try:
        handles = serve.run_many(targets)
    except (RuntimeError, ray.exceptions.RayError) as error:
        _delete_applications(names)
        raise IndexFolderError(f"the shards of {version[:12]} did not start on Ray Serve: {error}; "
                               f"{fix_hint(root)}") from error
    transport = RayServeTransport(version=version, handles=dict(zip(shards, handles, strict=True)),
                                  timeout_s=options.timeout_s)
    finalizer = weakref.finalize(transport, _delete_applications, names)
    finalizer.atexit = False  # at exit the cluster goes first (local) or outlives us (shutdown_serving)
    return transport


class _DeployedLater:
    """The transport of an index verified before its shards are deployed (nothing deploys for a damaged one)."""

    def __init__(self) -> None:
        self.transport: RayServeTransport | None = None

    def search_all(self, queries: Mapping[int, ShardQuery]) -> list[ShardResult]:
        """``RayServeTransport.search_all`` once deployed."""
        if self.transport is None:
            raise RuntimeError("the shards are not deployed yet")  # a bug: load_ray_index deploys first
        return self.transport.search_all(queries)


def load_ray_index(root: Path, options: RayServeOptions, *, expected_model_id: str | None = None,
                   expected_dimension: int | None = None) -> ShardedIndex:
    """The current sharded version of ``root``, verified here and searched on Ray Serve deployments.

    Raises the errors of ``load_index`` (nothing is deployed for a damaged version),
    ``IndexMissingError`` for an unsharded index (``--ray`` serves sharded indexes only) and
    ``IndexFolderError`` when the deployments do not start.
    """
    version = sharded_version(root)
    if version is None:
        raise IndexMissingError(f"{root} holds no sharded index; `grounded serve --ray` serves one built by "
                                f"`grounded ingest --index {root} --shards N`")
    deferred = _DeployedLater()
    index = load_sharded(root, version, expected_model_id=expected_model_id,
                         expected_dimension=expected_dimension, transport=deferred)
    shards = [entry.shard for entry in index.shards_manifest.shards]
    deferred.transport = deploy_shards(root, version, shards, options)
    return index


def connect(options: RayServeOptions, *, code_path: Path | None = None) -> bool:
    """Join (or start, for ``local``) the Ray cluster and start Serve without HTTP proxies.

    ``code_path`` is put on the workers' PYTHONPATH of a local cluster (a checkout that is not
    installed). True when this call started Ray. Raises ``IndexFolderError`` when the cluster
    cannot be reached.
    """
    if ray.is_initialized():
        started = False
    else:
        runtime_env: dict[str, Any] | None = None
        if options.address == "local" and code_path is not None:
            paths = [str(code_path), *filter(None, [os.environ.get("PYTHONPATH")])]
            runtime_env = {"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}
        try:
            if options.address == "local":
                ray.init(include_dashboard=False, log_to_driver=False, runtime_env=runtime_env)
            else:
                ray.init(address=options.address, log_to_driver=False)
        except ConnectionError as error:
            raise IndexFolderError(f"cannot join the Ray cluster at {options.address!r} ({error}); start one "
                                   "with `ray start --head`, or pass --ray local") from error
        started = True
    serve.start(proxy_location="Disabled")
    return started


def shutdown_serving(*, started: bool) -> None:
    """Delete the applications this process deployed, or the whole cluster when this process started it.

    A local cluster goes with ``ray.shutdown`` alone (its Serve actors with it): asking its Serve
    controller first would hang when a Ctrl-C reached the cluster's processes too. On a shared
    cluster only this front's applications go; other fronts' stay.
    """
    if not started:
        with _deployed_lock:
            names = sorted(_deployed)
            _deployed.clear()
        for name in names:
            serve.delete(name)
    ray.shutdown()
