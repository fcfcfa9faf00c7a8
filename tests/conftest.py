"""Shared fixtures and the test tiers.

* ``pytest -m "not slow"``: the fast tier; nothing trains and no server starts.
* ``pytest``: everything (CI). Tests that train or start servers are marked ``slow``.
* An optional backend or runtime that is not installed skips its tests with the pip line that
  installs it (:func:`needs_backend`), instead of failing; a test parametrized with ``backend``
  skips the backends that are missing by itself.
* Real-data tests use the FER-2013 copy in ../shared and skip cleanly without it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: Backend or runtime name -> (the module it needs, the emokit extra that installs it).
OPTIONAL_PACKAGES: dict[str, tuple[str, str]] = {
    "torch": ("torch", "torch"),
    "jax": ("jax", "jax"),
    "tensorflow": ("tensorflow", "tensorflow"),
    "litert": ("ai_edge_litert", "litert"),
    "onnx": ("onnxruntime", "onnx"),
}


def missing_backend(name: str) -> str | None:
    """Why backend or runtime ``name`` cannot be tested here (with the pip line to fix it), or ``None``."""
    module, extra = OPTIONAL_PACKAGES[name]
    if importlib.util.find_spec(module) is not None:
        return None
    return f"{name} not installed: pip install 'emokit[{extra}]'"


def needs_backend(*names: str) -> pytest.MarkDecorator:
    """Skip the test unless every named backend or runtime is installed; the reason says how to install it.

    Use as a decorator (``@needs_backend("jax")``) or in ``pytest.param(..., marks=needs_backend("jax"))``.
    """
    reasons = [reason for name in names if (reason := missing_backend(name))]
    return pytest.mark.skipif(bool(reasons), reason="; ".join(reasons))


def backend_params(*names: str) -> list:
    """``names`` as parameters, each skipped (with its pip line) where it is not installed."""
    return [pytest.param(name, marks=needs_backend(name)) for name in names]


def require_backend(name: str) -> None:
    """Inside a test or fixture: skip it, with the pip line, when ``name`` is not installed."""
    reason = missing_backend(name)
    if reason:
        pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test parametrized with ``backend`` (or ``runtime``) skips the values that are not installed."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        for key in ("backend", "runtime"):
            value = params.get(key)
            if isinstance(value, str) and value in OPTIONAL_PACKAGES and (reason := missing_backend(value)):
                item.add_marker(pytest.mark.skip(reason=reason))


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
