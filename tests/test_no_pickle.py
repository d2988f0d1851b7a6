"""Nothing in the project unpickles, and FAISS reads are capped by a byte limit from the manifest.

Unpickling an index file runs whatever code the file names (CVE-2024-5998 in a popular FAISS
wrapper); a crafted FAISS header can make ``read_index`` allocate gigabytes. The first tests scan
the project's own source with ``ast`` (so a docstring saying "no pickle" is not a hit, while
``import pickle``, ``joblib.load``, ``allow_pickle=True`` and ``torch.load`` without
``weights_only=True`` are).
"""

from __future__ import annotations

import ast
import hashlib
import resource
import struct
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

from bench.faults.fuzz import write_resigned_copy
from index.build import ingest
from index.dense import read_dense, read_limit_bytes
from index.errors import IndexCorruptedError
from index.layout import current_version
from index.load import load_index
from ingest.embedding import HashingEmbedder
from tests.support.paths import REPO

PACKAGES = ("ingest", "index", "service", "eval", "grounded", "bench")
PICKLING_MODULES = frozenset({"pickle", "_pickle", "cPickle", "cloudpickle", "dill", "joblib", "shelve", "marshal"})
PICKLING_CALLS = frozenset({"read_pickle", "to_pickle"})


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def pickle_uses(source: str, filename: str = "<source>") -> list[str]:
    """Every pickling import or call in ``source``, as ``line: description``."""
    findings = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            findings += [f"{node.lineno}: import {alias.name}" for alias in node.names
                         if alias.name.split(".")[0] in PICKLING_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PICKLING_MODULES:
            findings.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            owner = function.value if isinstance(function, ast.Attribute) else None
            owner_name = getattr(owner, "id", "")
            allow_pickle = _keyword(node, "allow_pickle")
            explicitly_off = isinstance(allow_pickle, ast.Constant) and allow_pickle.value is False
            if allow_pickle is not None and not explicitly_off:
                findings.append(f"{node.lineno}: {name}(allow_pickle=<not False>)")
            if name in PICKLING_CALLS or owner_name in PICKLING_MODULES:
                findings.append(f"{node.lineno}: {owner_name + '.' if owner_name else ''}{name}()")
            if name == "load" and owner_name == "torch" and not _is_true(_keyword(node, "weights_only")):
                findings.append(f"{node.lineno}: torch.load() without weights_only=True")
    return findings


def project_sources() -> list[Path]:
    """The project's own Python files (not the virtualenv, not the tests)."""
    return sorted(path for package in PACKAGES for path in (REPO / package).rglob("*.py"))


def test_the_detector_finds_every_kind_of_pickling() -> None:
    source = "\n".join([
        "import pickle", "from joblib import load", "import numpy as np", "import torch",
        "np.load('x', allow_pickle=True)", "np.save('x', a, allow_pickle=flag)", "torch.load('m.pt')",
        "torch.load('m.pt', weights_only=False)", "df.to_pickle('x')", "dill.loads(b'')",
        "np.load('x', allow_pickle=False)", "torch.load('m.pt', weights_only=True)",
        '"""nothing here is ever pickled; saved without pickle"""',
    ])
    found = pickle_uses(source)
    assert [line.split(":")[0] for line in found] == ["1", "2", "5", "6", "7", "8", "9", "10"], found


def test_the_project_never_pickles() -> None:
    sources = project_sources()
    assert len(sources) > 30, "the scan found too few files: did the packages move?"
    assert REPO / "index" / "load.py" in sources and REPO / "service" / "app.py" in sources
    findings = [f"{path.relative_to(REPO)}:{finding}" for path in sources
                for finding in pickle_uses(path.read_text(encoding="utf-8"), str(path))]
    assert findings == []


# ------------------------------------------------------------------------------- FAISS byte limit

def _flat_file(path: Path, rows: int, dimension: int) -> bytes:
    index = faiss.IndexFlatIP(dimension)
    index.add(np.random.default_rng(0).random((rows, dimension), dtype=np.float32))
    faiss.write_index(index, str(path))
    return path.read_bytes()


def _declare_huge_vector(data: bytes, rows: int, dimension: int, declared_bytes: int) -> bytes:
    """Rewrite the length field of the stored vectors (the 8 bytes before them) to ``declared_bytes``.

    FAISS counts that field in 4-byte words for IndexFlat codes.
    """
    offset = len(data) - rows * dimension * 4 - 8
    assert struct.unpack("<Q", data[offset : offset + 8]) == (rows * dimension,)
    return data[:offset] + struct.pack("<Q", declared_bytes // 4) + data[offset + 8 :]


def test_a_faiss_file_declaring_a_huge_vector_is_refused_quickly_without_allocating(tmp_path: Path) -> None:
    rows, dimension = 5, 8
    path = tmp_path / "dense.faiss"
    path.write_bytes(_declare_huge_vector(_flat_file(path, rows, dimension), rows, dimension, 64 * 2**30))
    assert path.stat().st_size < 1024
    limit_before = faiss.get_deserialization_vector_byte_limit()
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="deserialization_vector_byte_limit"):
        read_dense(path, count=rows, dimension=dimension)
    assert time.perf_counter() - started < 1.0
    # ru_maxrss is in KiB: the 64 GiB the header claims were never allocated.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before < 64 * 1024
    assert faiss.get_deserialization_vector_byte_limit() == limit_before


def test_load_index_caps_faiss_reads_at_a_limit_derived_from_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number in range(3):
        (corpus / f"story{number}.txt").write_text(
            f"Story {number} tells of a harbour. The ferry left at dawn. Crews counted {number} boats.\n",
            encoding="utf-8")
    index_dir = tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder(384))
    real_set = faiss.set_deserialization_vector_byte_limit
    limits: list[int] = []

    def record(limit: int) -> None:
        limits.append(limit)
        real_set(limit)

    # index.dense calls faiss through the module object, so patching the module attribute is seen there.
    monkeypatch.setattr(faiss, "set_deserialization_vector_byte_limit", record)
    index = load_index(index_dir)
    manifest = index.manifest
    assert limits == [read_limit_bytes(manifest.chunk_count, manifest.dimension),
                      faiss.get_deserialization_vector_byte_limit()]
    assert limits[0] < 2 * 2**20 + manifest.chunk_count * manifest.dimension * 4 * 2
    # The limit is read from the manifest, so a crafted dense.faiss is refused even when its
    # checksum was re-signed: the loader names the file.
    version_dir = index_dir / "versions" / str(current_version(index_dir))
    original = (version_dir / "dense.faiss").read_bytes()
    crafted = _declare_huge_vector(original, manifest.chunk_count, manifest.dimension, 64 * 2**30)
    resigned = tmp_path / "resigned"
    write_resigned_copy(resigned, version_dir, "dense.faiss", crafted)
    assert hashlib.sha256(crafted).hexdigest() != hashlib.sha256(original).hexdigest()
    with pytest.raises(IndexCorruptedError, match=r"dense\.faiss"):
        load_index(resigned)
