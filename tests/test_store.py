"""The index folder: atomic, content-addressed publishing, verified loading, crash safety."""

from __future__ import annotations

import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index import publish as publishing
from index import unsharded as loading
from index.errors import (
    IndexCorruptedError,
    IndexMissingError,
    ModelMismatchError,
    PublishError,
)
from index.layout import current_version
from index.load import load_index, load_previous_vectors
from index.manifest import manifest_from_json, manifest_to_json
from index.publish import clean_leftovers, publish
from index.records import IndexContent
from index.unsharded import read_manifest
from ingest.embedding import text_key
from ingest.records import Chunk
from tests.support.index_content import DIMENSION, make_content, variant
from tests.support.paths import REPO


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def version_names(root: Path) -> set[str]:
    return {path.name for path in (root / "versions").iterdir()}


# ------------------------------------------------------------------------------------ round trip

def test_publish_then_load_gives_back_the_content(tmp_path: Path) -> None:
    content = make_content()
    manifest = publish(tmp_path, content)
    index = load_index(tmp_path, expected_model_id=content.model_id, expected_dimension=DIMENSION)

    assert index.index_version == manifest.index_version == current_version(tmp_path)
    assert index.version_dir == tmp_path / "versions" / manifest.index_version
    assert index.manifest == manifest
    assert tuple(index.documents.values()) == content.documents
    assert index.chunks == content.chunks
    assert index.sentences == content.sentences
    np.testing.assert_array_equal(index.chunk_vectors, content.chunk_vectors)
    np.testing.assert_array_equal(index.sentence_vectors, content.sentence_vectors)
    assert manifest.model_id == content.model_id and manifest.dimension == DIMENSION
    assert manifest.chunking == content.chunking and manifest.faiss_index == "IndexFlatIP"
    assert manifest.bm25_params["method"] == "lucene" and manifest.bm25_params["k1"] == 1.2
    assert (manifest.chunk_count, manifest.sentence_count) == (len(content.chunks),
                                                               len(content.sentences))
    assert [(entry.doc_id, entry.chunk_count) for entry in manifest.documents] == [
        (doc.doc_id, sum(chunk.doc_id == doc.doc_id for chunk in content.chunks))
        for doc in content.documents
    ]
    assert read_manifest(tmp_path) == manifest


def test_manifest_json_is_canonical_and_round_trips(tmp_path: Path) -> None:
    manifest = publish(tmp_path, make_content())
    data = (tmp_path / "versions" / manifest.index_version / "manifest.json").read_bytes()
    assert data == manifest_to_json(manifest)
    assert data.endswith(b"}\n")
    assert data.decode() == json.dumps(json.loads(data), sort_keys=True, indent=2) + "\n"
    assert manifest_from_json(data, tmp_path / "manifest.json") == manifest


@pytest.mark.parametrize("mutate", [
    lambda body: body.update(format_version=2),
    lambda body: body.pop("model_id"),
    lambda body: body.update(dimension="32"),
    lambda body: body.update(chunk_count=True),
    lambda body: body.update(surprise=1),
    lambda body: body["files"]["chunks.jsonl"].pop("sha256"),
    lambda body: body["documents"][0].update(chunk_count=-1),
    lambda body: body["chunking"].pop("max_tokens"),
])
def test_malformed_manifest_is_refused_naming_the_file(tmp_path: Path, mutate: object) -> None:
    manifest = publish(tmp_path, make_content())
    body = json.loads(manifest_to_json(manifest))
    mutate(body)  # type: ignore[operator]
    path = tmp_path / "manifest.json"
    with pytest.raises(IndexCorruptedError, match=re.escape(str(path))):
        manifest_from_json(json.dumps(body).encode(), path)
    with pytest.raises(IndexCorruptedError, match="not valid JSON"):
        manifest_from_json(b"{", path)


# --------------------------------------------------------------------------- content addressing

def test_same_content_twice_is_a_no_op_with_byte_identical_files(tmp_path: Path) -> None:
    first = publish(tmp_path, make_content())
    folder = tmp_path / "versions" / first.index_version
    before = folder_bytes(folder)
    second = publish(tmp_path, make_content())
    assert second == first
    assert version_names(tmp_path) == {first.index_version}
    assert folder_bytes(folder) == before


def test_same_content_gives_the_same_bytes_in_another_process_and_folder(tmp_path: Path) -> None:
    manifest = publish(tmp_path / "here", make_content())
    # Another hash seed: bm25s numbers its vocabulary in set order unless we sort it.
    script = ("import sys; from pathlib import Path; from index.publish import publish; "
              "from tests.support.index_content import make_content; "
              "print(publish(Path(sys.argv[1]), make_content()).index_version)")
    environment = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "there")], cwd=REPO, env=environment,
        capture_output=True, text=True, check=True, timeout=120,
    )
    assert result.stdout.strip() == manifest.index_version
    assert folder_bytes(tmp_path / "there" / "versions" / manifest.index_version) == folder_bytes(
        tmp_path / "here" / "versions" / manifest.index_version
    )


def test_new_content_switches_current_and_keeps_only_the_newest_versions(tmp_path: Path) -> None:
    versions = [publish(tmp_path, variant(number)).index_version for number in range(3)]
    assert len(set(versions)) == 3
    assert current_version(tmp_path) == versions[2]
    assert version_names(tmp_path) == {versions[1], versions[2]}
    assert "variant 2" in load_index(tmp_path).documents["delta"].text

    # Going back to the previous content reuses its folder and makes it current again.
    assert publish(tmp_path, variant(1)).index_version == versions[1]
    assert current_version(tmp_path) == versions[1]
    assert version_names(tmp_path) == {versions[1], versions[2]}
    assert "variant 1" in load_index(tmp_path).documents["delta"].text


def test_model_identity_is_part_of_the_version(tmp_path: Path) -> None:
    first = publish(tmp_path, make_content())
    second = publish(tmp_path, make_content(model_id="another-model"))
    assert first.index_version != second.index_version


def test_a_damaged_copy_of_the_version_is_replaced_on_republish(tmp_path: Path) -> None:
    manifest = publish(tmp_path, make_content())
    damaged = tmp_path / "versions" / manifest.index_version / "chunks.jsonl"
    damaged.write_bytes(b"garbage\n")
    publish(tmp_path, make_content())
    assert load_index(tmp_path).chunks == make_content().chunks


# ----------------------------------------------------------------------------------- corruption

def _forbid_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file was parsed before every checksum was verified")

    for name in ("_read_records", "read_dense", "load_sparse"):
        monkeypatch.setattr(loading, name, refuse)


def _data_files(root: Path) -> list[Path]:
    manifest = read_manifest(root)
    assert manifest is not None
    folder = root / "versions" / manifest.index_version
    return [folder / "manifest.json", *(folder / name for name in sorted(manifest.files))]


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_every_damaged_file_is_refused_by_name_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str,
) -> None:
    content = make_content()
    publish(tmp_path, content)
    files = _data_files(tmp_path)
    assert len(files) == 12  # manifest, 3 jsonl, 2 npy, dense.faiss, 5 bm25 files
    random_bytes = random.Random(7)
    for path in files:
        original = path.read_bytes()
        if damage == "flip":
            position = random_bytes.randrange(len(original))
            path.write_bytes(original[:position] + bytes([original[position] ^ 0x01])
                             + original[position + 1:])
        elif damage == "truncate":
            path.write_bytes(original[: len(original) // 2])
        else:
            path.unlink()
        with monkeypatch.context() as patches:
            _forbid_parsing(patches)
            with pytest.raises(IndexCorruptedError) as caught:
                load_index(tmp_path)
        assert str(path) in str(caught.value), caught.value
        assert f"grounded ingest --index {tmp_path}" in str(caught.value)
        assert read_manifest(tmp_path) is None
        assert load_previous_vectors(tmp_path, content.model_id) == {}
        path.write_bytes(original)
        assert load_index(tmp_path).chunks == content.chunks


def test_damaged_current_pointer_is_refused(tmp_path: Path) -> None:
    manifest = publish(tmp_path, make_content())
    (tmp_path / "CURRENT").write_text("not-a-version\n")
    with pytest.raises(IndexCorruptedError, match="CURRENT"):
        load_index(tmp_path)
    (tmp_path / "CURRENT").write_text("0" * 64 + "\n")
    with pytest.raises(IndexCorruptedError, match="does not exist"):
        load_index(tmp_path)
    # Publishing repairs the pointer.
    assert publish(tmp_path, make_content()) == manifest
    assert load_index(tmp_path).index_version == manifest.index_version


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    folder = tmp_path / "nothing-here"
    with pytest.raises(IndexMissingError) as caught:
        load_index(folder)
    assert str(caught.value) == f"no index at {folder}: run `grounded ingest --index {folder}`"
    assert read_manifest(folder) is None
    assert current_version(folder) is None
    assert load_previous_vectors(folder, "hashing:32") == {}


def test_model_or_dimension_mismatch_is_refused_naming_both_models(tmp_path: Path) -> None:
    content = make_content()
    publish(tmp_path, content)
    with pytest.raises(ModelMismatchError) as caught:
        load_index(tmp_path, expected_model_id="sentence-transformers/all-MiniLM-L6-v2")
    assert content.model_id in str(caught.value)
    assert "sentence-transformers/all-MiniLM-L6-v2" in str(caught.value)
    with pytest.raises(ModelMismatchError, match="384-d"):
        load_index(tmp_path, expected_dimension=384)


# ------------------------------------------------------------------------- failures and crashes

def test_leftovers_of_interrupted_publishes_are_cleaned(tmp_path: Path) -> None:
    publish(tmp_path, variant(0))
    staging = tmp_path / "versions" / ".staging-deadbeef"
    staging.mkdir()
    (staging / "chunks.jsonl").write_bytes(b"half")
    (tmp_path / "versions" / ".trash-cafe").mkdir()
    (tmp_path / ".CURRENT.tmp-1234").write_bytes(b"x")
    clean_leftovers(tmp_path)
    assert not staging.exists() and not (tmp_path / "versions" / ".trash-cafe").exists()
    assert not (tmp_path / ".CURRENT.tmp-1234").exists()
    staging.mkdir()
    manifest = publish(tmp_path, variant(1))
    assert version_names(tmp_path) == {publish(tmp_path, variant(0)).index_version,
                                       manifest.index_version}


@pytest.mark.parametrize("failure", [errno.ENOSPC, errno.EIO])
@pytest.mark.parametrize("step", ["write", "fsync"])
def test_disk_failure_raises_publish_error_and_keeps_the_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: int, step: str,
) -> None:
    old = publish(tmp_path, variant(0))

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(failure, os.strerror(failure))

    monkeypatch.setattr(publishing, "write_bytes" if step == "write" else "fsync_tree", fail)
    with pytest.raises(PublishError, match="previous version is still current"):
        publish(tmp_path, variant(1))
    assert current_version(tmp_path) == old.index_version
    assert version_names(tmp_path) == {old.index_version}
    assert load_index(tmp_path).index_version == old.index_version


def test_a_failing_current_switch_keeps_the_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = publish(tmp_path, variant(0))
    real_fsync = os.fsync
    calls = {"count": 0}

    def flaky_fsync(descriptor: int) -> None:
        calls["count"] += 1
        if "CURRENT.tmp" in os.readlink(f"/proc/self/fd/{descriptor}"):
            raise OSError(errno.EIO, "fsync failed")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", flaky_fsync)
    with pytest.raises(PublishError):
        publish(tmp_path, variant(1))
    assert calls["count"] > 0
    assert current_version(tmp_path) == old.index_version
    assert not list(tmp_path.glob(".CURRENT.tmp-*"))
    assert load_index(tmp_path).index_version == old.index_version


def test_empty_content_is_refused(tmp_path: Path) -> None:
    content = make_content({})
    with pytest.raises(PublishError, match="no chunks"):
        publish(tmp_path, content)
    assert current_version(tmp_path) is None


def test_content_breaking_its_invariants_is_a_bug_not_a_publish(tmp_path: Path) -> None:
    content = make_content()
    broken_chunk = content.chunks[0]
    broken = IndexContent(
        documents=content.documents,
        chunks=(Chunk(chunk_id=broken_chunk.chunk_id, doc_id=broken_chunk.doc_id, ordinal=0,
                      start=broken_chunk.start + 1, end=broken_chunk.end, text=broken_chunk.text,
                      token_count=1, sentence_start=0, sentence_end=1), *content.chunks[1:]),
        sentences=content.sentences, chunk_vectors=content.chunk_vectors,
        sentence_vectors=content.sentence_vectors, model_id=content.model_id,
        dimension=content.dimension, precision=content.precision, chunking=content.chunking,
    )
    with pytest.raises(ValueError, match="does not match"):
        publish(tmp_path, broken)
    assert current_version(tmp_path) is None


_CRASH_CHILD = """
import sys
from pathlib import Path
from index.publish import publish
from tests.support.index_content import variant
root, number = Path(sys.argv[1]), int(sys.argv[2])
contents = [variant(number + step) for step in range(40)]
print("ready", flush=True)
for step, content in enumerate(contents):
    publish(root, content)
    sys.stdout.write(f"published {number + step}\\n")
    sys.stdout.flush()
"""


def _loaded_variant(root: Path) -> int:
    match = re.search(r"variant (\d+)", load_index(root).documents["delta"].text)
    assert match is not None
    return int(match.group(1))


def test_sigkill_during_publish_leaves_the_old_or_the_new_version(tmp_path: Path) -> None:
    publish(tmp_path, variant(0))
    last = 0
    chooser = random.Random(20240601)
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(15):
        child = subprocess.Popen(
            [sys.executable, "-c", _CRASH_CHILD, str(tmp_path), str(last + 1)],
            cwd=REPO, env=environment, stdout=subprocess.PIPE, text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(chooser.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        output = child.stdout.read()
        child.wait(timeout=30)
        child.stdout.close()
        # A SIGKILL can land mid-write: only whole "published N" lines count.
        published = [int(match.group(1)) for line in output.splitlines()
                     if (match := re.fullmatch(r"published (\d+)", line))]
        done = published[-1] if published else last
        loaded = _loaded_variant(tmp_path)
        # The version being written when the kill came may or may not have been switched in.
        assert loaded in (done, done + 1), (loaded, done)
        last = loaded
    publish(tmp_path, variant(last + 1))
    assert not [name for name in version_names(tmp_path) if name.startswith(".")]
    assert len(version_names(tmp_path)) == 2


# ------------------------------------------------------------------------------ reuse and safety

def test_previous_vectors_map_text_hashes_to_vectors_of_the_same_model(tmp_path: Path) -> None:
    content = make_content()
    publish(tmp_path, content)
    cache = load_previous_vectors(tmp_path, content.model_id)
    for chunk, vector in zip(content.chunks, content.chunk_vectors, strict=True):
        np.testing.assert_array_equal(cache[text_key(chunk.text)], vector)
    for sentence, vector in zip(content.sentences, content.sentence_vectors, strict=True):
        np.testing.assert_array_equal(cache[text_key(sentence.text)], vector)
    assert load_previous_vectors(tmp_path, "another-model") == {}


def test_nothing_in_a_version_folder_is_a_pickle(tmp_path: Path) -> None:
    manifest = publish(tmp_path, make_content())
    folder = tmp_path / "versions" / manifest.index_version
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        assert not data.startswith(b"\x80"), f"{path} looks like a pickle"
        if path.suffix == ".npy":
            array = np.load(path, allow_pickle=False)
            assert array.dtype != object
        elif path.suffix == ".json":
            json.loads(data)
        elif path.suffix == ".jsonl":
            for line in data.splitlines():
                json.loads(line)
        else:
            assert path.name == "dense.faiss"
    sources = "\n".join(path.read_text() for path in (REPO / "index").glob("*.py"))
    assert not re.search(r"^\s*(import|from)\s+(c?pickle|joblib|dill)\b", sources, re.MULTILINE)
    assert "allow_pickle=True" not in sources
