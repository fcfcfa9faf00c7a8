"""The example third-party package really installs: a fresh virtual environment, ``pip install``
of emokit and ``plugins/examples/emokit-example-plugin``, its plugins listed, its command in
``emokit --help`` and run, one epoch trained through the CLI with its architecture and augmentation.

How the venv gets Keras, torch, numpy... without downloading gigabytes: it is created without
pip, and a ``.pth`` file in its site-packages appends this interpreter's site-packages (where
``.ci/run`` installed emokit's dependencies) to its ``sys.path``. Plain path lines in a ``.pth``
are only appended, so the venv's own site-packages comes first: emokit and the example are
imported from what pip installed there, and ``importlib.metadata`` (which keeps the first
distribution of each name on ``sys.path``) reads their entry points, not this checkout's.
``--system-site-packages`` would not do: it exposes the base interpreter's packages, not the
CI venv's. pip itself also comes through the ``.pth`` (faster than ``ensurepip``), installs with
``--no-deps`` and, when setuptools is importable, ``--no-build-isolation --no-index``, so
nothing is fetched from the network.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "plugins" / "examples" / "emokit-example-plugin"
#: Build outputs must not be copied in (a stale build/ would be installed instead of the source).
IGNORE = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", "examples", ".pytest_cache")

pytestmark = pytest.mark.slow


def copy_sources(root: Path) -> tuple[Path, Path]:
    """emokit and the example copied out of the checkout, so building them writes nothing into it."""
    emokit_src, example_src = root / "emokit-src", root / "example-src"
    emokit_src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, emokit_src / name)
    for folder in ("emokit", "plugins"):
        shutil.copytree(REPO / folder, emokit_src / folder, ignore=IGNORE)
    shutil.copytree(EXAMPLE, example_src, ignore=IGNORE)
    return emokit_src, example_src


def make_venv(path: Path) -> Path:
    """A venv without pip whose sys.path ends with this interpreter's site-packages; returns its bin folder."""
    venv.EnvBuilder(with_pip=False).create(path)
    bin_dir = path / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    parents = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(site) / "emokit_test_parent_site.pth").write_text("\n".join(parents) + "\n")
    return bin_dir


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would let the checkout leak into the venv."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "KERAS_BACKEND", "EMOKIT_BLOCK_PLUGINS"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "COLUMNS": "250", **extra}


def run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(bin folder of the fresh venv with emokit and the example installed, a scratch folder)."""
    root = tmp_path_factory.mktemp("fresh-venv")
    emokit_src, example_src = copy_sources(root)
    bin_dir = make_venv(root / "venv")
    offline = importlib.util.find_spec("setuptools") is not None
    flags = ["--no-build-isolation", "--no-index"] if offline else []  # else pip fetches setuptools to build
    run([str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", *flags,
         str(emokit_src), str(example_src)], cwd=root)
    return bin_dir, root


def test_packages_are_imported_from_the_fresh_venv(installed):
    bin_dir, root = installed
    proc = run([str(bin_dir / "python"), "-c", "import emokit, emokit_example; print(emokit.__file__); print(emokit_example.__file__)"], cwd=root)
    for line in proc.stdout.split():
        assert Path(line).is_relative_to(root / "venv"), line


def test_example_plugins_are_listed(installed):
    bin_dir, root = installed
    proc = run([str(bin_dir / "emokit"), "plugins"], cwd=root)
    rows = {line.split("│")[2].strip(): line for line in proc.stdout.splitlines() if line.count("│") == 6}
    for kind, name in (("architecture", "lenet"), ("augmentation", "gamma"), ("face detector", "whole_image"),
                       ("command", "faces-count")):
        assert kind in rows[name] and "example" in rows[name] and "emokit-example-plugin" in rows[name], proc.stdout
    assert "small_cnn" in rows, "the built-in plugins are installed too"


def test_example_command_is_in_the_help_and_runs(installed):
    bin_dir, root = installed
    help_text = run([str(bin_dir / "emokit"), "--help"], cwd=root).stdout
    (panel,) = [part for part in help_text.split("╭─")[1:] if part.startswith(" Commands from plugins")]
    assert "faces-count" in panel and "Count the faces a detector finds" in panel, help_text
    assert "train" not in panel, "emokit's own commands stay in their own panel"
    from PIL import Image  # noqa: PLC0415

    photo = root / "crop.png"
    Image.new("L", (60, 100), 128).save(photo)
    out = run([str(bin_dir / "emokit"), "faces-count", str(photo), "--detector", "whole_image"], cwd=root).stdout
    assert f"{photo}: 1 face" in out and "x=0 y=20 w=60 h=60 score=1.00" in out, out
    blank = run([str(bin_dir / "emokit"), "faces-count", str(photo)], cwd=root).stdout  # the built-in haar detector
    assert f"{photo}: 0 faces" in blank, blank


def test_trains_one_epoch_with_the_example_architecture_and_augmentation(installed):
    bin_dir, root = installed
    runs = root / "runs"
    run([str(bin_dir / "emokit"), "train", "--arch", "lenet", "--set", "width=0.25", "--set", "dense_units=32",
         "--aug", "gamma=max_gamma=1.8", "--epochs", "1", "--backend", "torch", "--out", str(runs)], cwd=root)
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    spec = json.loads((run_dir / "spec.json").read_text())
    assert spec["name"] == "lenet" and spec["options"]["width"] == 0.25
    config = json.loads((run_dir / "config.json").read_text())
    assert config["augmentations"] == [["gamma", {"max_gamma": 1.8}]]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs_run"] == 1 and metrics["dataset"] == "synthetic"
    plugins = json.loads((run_dir / "metadata.json").read_text())["plugins"]
    # the run records which plugin, package and version provided the architecture and each augmentation
    assert plugins["architecture"] == {"plugin": "example", "package": "emokit-example-plugin", "version": "0.1.0"}
    assert plugins["augmentation:gamma"]["package"] == "emokit-example-plugin"
