"""The benchmark's pure statistics: percentiles, summaries, recall, overlap, slow-down (no timing)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.common.stats import (
    concurrency_slowdown,
    local_intrinsic_dimension,
    mean,
    overlap_at_k,
    percentile,
    recall_at_k,
    safe_ratio,
    summarise,
)

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(st.lists(finite, min_size=1, max_size=200), st.floats(min_value=0.0, max_value=1.0))
def test_percentile_matches_numpy_linear(values: list[float], fraction: float) -> None:
    expected = float(np.percentile(np.asarray(values, dtype=np.float64), fraction * 100))
    assert percentile(values, fraction) == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_percentile_interpolates_between_order_statistics() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([10.0, 20.0], 0.25) == 12.5
    assert percentile([7.0], 0.99) == 7.0


@given(st.lists(finite, min_size=1, max_size=100))
def test_summary_is_ordered_and_bounded(values: list[float]) -> None:
    summary = summarise(values)
    assert summary.count == len(values)
    assert summary.minimum <= summary.p50 <= summary.p95 <= summary.p99 <= summary.maximum
    assert summary.minimum <= summary.mean + 1e-6
    assert summary.mean <= summary.maximum + 1e-6


def test_summary_of_nothing_is_nan_and_serialisable() -> None:
    summary = summarise([])
    assert summary.count == 0
    assert math.isnan(summary.p50)
    assert summary.as_dict()["count"] == 0


def test_summary_as_dict_rounds_to_microseconds() -> None:
    assert summarise([1.23456789]).as_dict()["p50"] == 1.235


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_percentile_rejects_fraction_outside_unit_interval(fraction: float) -> None:
    with pytest.raises(ValueError, match="fraction"):
        percentile([1.0, 2.0], fraction)


def test_percentile_rejects_empty_and_nan() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 0.5)
    with pytest.raises(ValueError, match="NaN"):
        percentile([1.0, math.nan], 0.5)


def test_recall_counts_exact_neighbours_found_and_ignores_padding() -> None:
    assert recall_at_k([1, 2, 3, 9], [1, 2, 3, 4], k=4) == 0.75
    assert recall_at_k([3, 2, 1], [1, 2, 3], k=3) == 1.0
    # FAISS pads short results with -1: padding is never a neighbour.
    assert recall_at_k([1, -1, -1], [1, 2, -1], k=3) == 0.5
    assert math.isnan(recall_at_k([1], [-1], k=1))


def test_overlap_is_order_free_and_bounded_by_k() -> None:
    assert overlap_at_k([1, 2, 3], [3, 2, 1], k=3) == 1.0
    assert overlap_at_k([1, 2, 3, 4], [1, 2, 5, 6], k=4) == 0.5
    assert overlap_at_k([1, 2], [1, 2, 3], k=10) == pytest.approx(2 / 3)
    assert math.isnan(overlap_at_k([], [], k=10))


def test_slowdown_is_one_when_cores_explain_the_wait() -> None:
    # 4 clients on 2 cores: each request ideally takes twice as long as alone.
    assert concurrency_slowdown(10.0, 20.0, clients=4, cores=2) == 1.0
    assert concurrency_slowdown(10.0, 10.0, clients=2, cores=2) == 1.0
    assert concurrency_slowdown(10.0, 30.0, clients=4, cores=2) == 1.5
    with pytest.raises(ValueError, match="at least 1"):
        concurrency_slowdown(10.0, 10.0, clients=0, cores=2)


def test_safe_ratio_and_mean_handle_degenerate_input() -> None:
    assert safe_ratio(3.0, 2.0) == 1.5
    assert math.isnan(safe_ratio(1.0, 0.0))
    assert math.isnan(safe_ratio(math.nan, 1.0))
    assert mean([1.0, math.nan, 3.0]) == 2.0
    assert math.isnan(mean([]))


def _neighbour_distances(dimension: int, seed: int = 3) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    points = rng.random((20_000, dimension))
    queries = rng.random((60, dimension)) * 0.5 + 0.25  # away from the cube's faces
    distances = np.sqrt(((queries[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    nearest: list[list[float]] = np.sort(distances, axis=1)[:, :10].tolist()
    return nearest


def test_intrinsic_dimension_recovers_the_dimension_of_uniform_points() -> None:
    low, high = (local_intrinsic_dimension(_neighbour_distances(d)) for d in (2, 6))
    assert 1.5 < low < 2.7
    assert 4.5 < high < 7.5


def test_intrinsic_dimension_skips_degenerate_rows() -> None:
    assert math.isnan(local_intrinsic_dimension([[0.0, 1.0], [1.0]]))


def test_profile_samples_are_attributed_to_threads_and_stages() -> None:
    from bench.perf.profile_query import stage_of, summarise_raw

    lines = [
        "thread (11): grounded-query_0;_compute (service/admission.py:151);"
        "OnnxQueryEmbedder.encode (ingest/onnx_query.py:70);run (onnxruntime/capi/session.py:1) 30",
        "thread (11): grounded-query_0;_compute (service/admission.py:151);select_answer (service/answer.py:9) 10",
        "thread (12): MainThread;run (uvicorn/server.py:1);serialize (pydantic/main.py:2) 20",
        "not a sample line",
    ]
    total, threads, stages = summarise_raw(lines)
    assert total == 60
    assert threads == {"grounded-query_0": 40, "MainThread": 20}
    assert stages == {"model forward": 30, "answer": 10, "event loop (HTTP, validation, JSON)": 20}
    assert stage_of("thread (1): x;unknown (a.py:1)") == "other"
