"""``grounded bench scale-e2e --workdir DIR`` creates DIR when it does not exist yet (as --out is)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO


@pytest.mark.slow
def test_scale_e2e_creates_a_missing_workdir(tmp_path: Path) -> None:
    workdir, out = tmp_path / "not" / "there", tmp_path / "out"
    # Its own process: the bench starts and stops a server, none of this test's business.
    finished = subprocess.run([sys.executable, "-m", "grounded", "bench", "scale-e2e", "--chunks", "2k",
                               "--e2e-queries", "5", "--workdir", str(workdir), "--out", str(out)],
                              cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert workdir.is_dir()
    assert json.loads((out / "scale-e2e.json").read_text(encoding="utf-8"))
