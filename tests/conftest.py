"""Shared fixtures. Real-data tests use the FER-2013 copy in ../shared and skip cleanly without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def fer2013_dir() -> Path | None:
    """The folder with fer2013.zip and fer2013-sample.csv: ``$EMOKIT_FER2013_DIR`` or ../shared/data/fer2013."""
    candidates = [os.environ.get("EMOKIT_FER2013_DIR"), REPO.parent / "shared" / "data" / "fer2013"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "fer2013.zip").exists():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def fer2013() -> Path:
    """The real FER-2013 folder; the test is skipped where it is absent."""
    found = fer2013_dir()
    if found is None:
        pytest.skip("real FER-2013 not available (set EMOKIT_FER2013_DIR or provide ../shared/data/fer2013)")
    return found


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep every test's dataset cache out of the user's real cache folder."""
    monkeypatch.setenv("EMOKIT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "emokit-cache"))


#: A small, fast configuration for tests that need a real trained run (synthetic data, torch backend).
TINY_TRAINING = dict(arch="small_cnn", arch_options={"width": 0.5, "dense_units": 128}, epochs=3, batch_size=64,
                     backend="torch", seed=1, patience=3)


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """A real run trained for a few epochs on the synthetic faces with the torch backend (about a minute)."""
    from rich.console import Console

    from emokit.registry import build_registry
    from emokit.training.config import TrainConfig
    from emokit.training.trainer import train

    root = tmp_path_factory.mktemp("runs")
    return train(TrainConfig(**TINY_TRAINING), build_registry(), root=root, console=Console(quiet=True))
