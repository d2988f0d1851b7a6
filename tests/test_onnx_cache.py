"""The ONNX cache on disk: keys that change with every input, entries verified when read, published whole."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from index.onnx_cache import (
    ENTRY_FILE,
    GRAPH_FILE,
    LEFTOVER_SECONDS,
    ONNX_CACHE_ENV,
    STAGING_PREFIX,
    TOKENIZER_FILE,
    CacheKey,
    DamagedEntryError,
    EncoderEntry,
    cache_key,
    model_sha256,
    onnx_cache_home,
    read_entry,
    runtime_versions,
    write_entry,
)

ENTRY = EncoderEntry(dimension=3, max_length=8, probe_vectors=((1.0, 0.0, 0.0), (0.6, 0.8, 1 / 3)))
KEY = CacheKey(model_sha256="a" * 64, versions=(("onnxruntime", "1.0"), ("torch", "2.0")), export=(("opset", "17"),))


def _model(folder: Path) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text('{"mean": true}', encoding="utf-8")
    (folder / "model.safetensors").write_bytes(b"weights" * 100)
    return folder


def _publish(home: Path, key: CacheKey = KEY) -> Path:
    return write_entry(home, key, graph=b"graph bytes", tokenizer_json='{"model": "wordpiece"}', entry=ENTRY)


def test_the_home_follows_its_variable_then_grounded_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ONNX_CACHE_ENV, str(tmp_path / "onnx-here"))
    assert onnx_cache_home() == tmp_path / "onnx-here"
    monkeypatch.delenv(ONNX_CACHE_ENV)
    monkeypatch.setenv("GROUNDED_HOME", str(tmp_path / "home"))
    assert onnx_cache_home() == tmp_path / "home" / "onnx"


def test_the_model_digest_covers_every_file_and_only_those(tmp_path: Path) -> None:
    folder = _model(tmp_path / "model")
    digest = model_sha256(folder)
    assert digest == model_sha256(folder)
    (folder / ".grounded-installed").write_text("marker", encoding="ascii")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "lock").write_text("x", encoding="ascii")
    assert model_sha256(folder) == digest, "hidden files are not part of the model"
    (folder / "1_Pooling" / "config.json").write_text('{"mean": false}', encoding="utf-8")
    changed = model_sha256(folder)
    assert changed != digest
    (folder / "1_Pooling" / "config.json").rename(folder / "1_Pooling" / "other.json")
    assert model_sha256(folder) not in (digest, changed), "a renamed file is another model"
    with pytest.raises(NotADirectoryError, match="does not exist"):
        model_sha256(tmp_path / "absent")


def test_every_field_of_the_key_changes_its_digest(tmp_path: Path) -> None:
    variants = [
        KEY,
        CacheKey(model_sha256="b" * 64, versions=KEY.versions, export=KEY.export),
        CacheKey(model_sha256=KEY.model_sha256, versions=(("onnxruntime", "1.0"), ("torch", "2.1")), export=KEY.export),
        CacheKey(model_sha256=KEY.model_sha256, versions=KEY.versions, export=(("opset", "18"),)),
    ]
    assert len({variant.digest for variant in variants}) == len(variants)
    assert CacheKey(model_sha256="a" * 64, versions=KEY.versions, export=KEY.export).digest == KEY.digest
    folder = _model(tmp_path / "model")
    key = cache_key(folder, {"opset": "17", "precision": "float32"})
    assert key == cache_key(folder, {"precision": "float32", "opset": "17"}), "settings are sorted"
    assert dict(key.versions) == dict(runtime_versions())
    assert set(dict(key.versions)) >= {"onnx", "onnxruntime", "torch", "transformers", "tokenizers"}


def test_a_published_entry_reads_back_verified(tmp_path: Path) -> None:
    home = tmp_path / "onnx"
    assert read_entry(home, KEY) is None
    folder = _publish(home)
    assert folder == home / KEY.digest
    cached = read_entry(home, KEY)
    assert cached is not None
    assert cached.entry == ENTRY, "probe vectors survive JSON exactly"
    assert cached.graph.read_bytes() == b"graph bytes"
    assert cached.tokenizer.read_text(encoding="utf-8") == '{"model": "wordpiece"}'
    assert sorted(path.name for path in home.iterdir()) == [KEY.digest], "no staging folder is left"
    other = CacheKey(model_sha256="c" * 64, versions=KEY.versions, export=KEY.export)
    assert read_entry(home, other) is None, "another key never reads this entry"


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda folder: (folder / GRAPH_FILE).write_bytes(b"graph bytez"), "model.onnx has sha256"),
    (lambda folder: (folder / TOKENIZER_FILE).unlink(), "tokenizer.json is unreadable"),
    (lambda folder: (folder / ENTRY_FILE).unlink(), "has no entry.json"),
    (lambda folder: (folder / ENTRY_FILE).write_text("{trunc", encoding="utf-8"), "entry.json is unreadable"),
    (lambda folder: (folder / ENTRY_FILE).write_text("[]", encoding="utf-8"), "not a JSON object"),
])
def test_a_damaged_entry_is_refused_with_the_part_that_failed(tmp_path: Path, damage: Callable[[Path], object],
                                                              reason: str) -> None:
    folder = _publish(tmp_path)
    damage(folder)
    with pytest.raises(DamagedEntryError, match=reason):
        read_entry(tmp_path, KEY)


def test_an_entry_written_for_another_key_or_lacking_a_field_is_refused(tmp_path: Path) -> None:
    folder = _publish(tmp_path)
    record = json.loads((folder / ENTRY_FILE).read_text(encoding="utf-8"))
    record["key"]["versions"]["torch"] = "9.9"
    (folder / ENTRY_FILE).write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(DamagedEntryError, match="another key"):
        read_entry(tmp_path, KEY)
    record["key"]["versions"]["torch"] = "2.0"
    del record["encoder"]["dimension"]
    (folder / ENTRY_FILE).write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(DamagedEntryError, match="lacks a field"):
        read_entry(tmp_path, KEY)


def test_a_damaged_entry_is_replaced_whole(tmp_path: Path) -> None:
    folder = _publish(tmp_path)
    (folder / GRAPH_FILE).write_bytes(b"half")
    (folder / "stray").write_text("from the damaged entry", encoding="utf-8")
    assert _publish(tmp_path) == folder
    cached = read_entry(tmp_path, KEY)
    assert cached is not None and cached.graph.read_bytes() == b"graph bytes"
    assert not (folder / "stray").exists()


def test_an_entry_another_process_published_first_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rename = os.rename

    def publish_first_then_rename(source: str | Path, target: str | Path) -> None:
        if Path(target) == tmp_path / KEY.digest:
            rename(str(_publish(tmp_path / "other")), str(target))  # the other process wins the race
        rename(source, target)

    monkeypatch.setattr(os, "rename", publish_first_then_rename)
    (tmp_path / "other").mkdir()
    assert _publish(tmp_path) == tmp_path / KEY.digest
    monkeypatch.undo()
    assert read_entry(tmp_path, KEY) is not None
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(STAGING_PREFIX)]


def test_leftovers_of_a_killed_export_are_removed_once_old(tmp_path: Path) -> None:
    old, recent = tmp_path / f"{STAGING_PREFIX}old", tmp_path / f"{STAGING_PREFIX}recent"
    for folder in (old, recent):
        folder.mkdir()
        (folder / GRAPH_FILE).write_bytes(b"partial")
    long_ago = time.time() - LEFTOVER_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    _publish(tmp_path)
    assert not old.exists()
    assert recent.exists(), "a staging folder this young may belong to an export still running"
