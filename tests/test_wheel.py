"""The bundled model travels with the package: a wheel built with ``python -m build`` and installed (not
editable) into a fresh venv answers a photo with it.

Offline and quick: the wheel is built from a copy of the sources without build isolation (this venv's
setuptools), and installed with ``pip install --no-deps`` into a venv that sees this venv's packages
through a path file (its own site-packages come first, so ``emokit`` and its entry points are the
wheel's, never this checkout's). Until the trained ``fer2013`` file is in the repository, the copy gets
the stand-in (tests/standin_model.py) as ``fer2013.tflite`` and its SHA-256 in ``plugins/models.py``:
the mechanics are the same.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import cv2
import pytest

from emokit.inference.bundled import sidecar_path
from standin_model import NAME, make_standin

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("build") is None, reason="needs the build package: pip install 'emokit[dev]'"),
]

REPO = Path(__file__).resolve().parents[1]
MODEL = Path("plugins") / "models" / "fer2013.tflite"
#: Whether the trained model is in this checkout (else the wheel carries the stand-in).
REAL_MODEL = (REPO / MODEL).is_file()


def _source_copy(folder: Path, standin: Path | None) -> Path:
    """The files a wheel is built from, copied; with ``standin``, it is the bundled model of the copy."""
    source = folder / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "examples")
    for name in ("emokit", "plugins"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    if standin is not None:
        (source / MODEL).parent.mkdir(exist_ok=True)  # git keeps no empty folder: a clone has none before the model
        shutil.copy(standin / f"{NAME}.tflite", source / MODEL)
        shutil.copy(sidecar_path(standin / f"{NAME}.tflite"), sidecar_path(source / MODEL))
        digest = json.loads((standin / "record.json").read_text())["sha256"]
        plugin = source / "plugins" / "models.py"
        text, count = re.subn(r'^SHA256(: str \| None)? = .*$', f'SHA256 = "{digest}"', plugin.read_text(), count=1, flags=re.MULTILINE)
        assert count == 1, "plugins/models.py has no SHA256 line to set"
        plugin.write_text(text)
    return source


@pytest.fixture(scope="module")
def installed(trained_run, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its ``bin`` folder."""
    folder = tmp_path_factory.mktemp("wheel")
    standin = None if REAL_MODEL else make_standin(trained_run, folder / "standin")
    source = _source_copy(folder, standin)
    dist = folder / "dist"
    done = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(source)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (wheel,) = dist.glob("emokit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "emokit_plugins/models/fer2013.tflite" in names and "emokit_plugins/models/fer2013.tflite.json" in names
    assert "emokit_plugins/models.py" in names
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # This venv's packages (numpy, OpenCV, ai-edge-litert...) after the fresh venv's own: a path line only, so
    # this venv's editable-install hook (a .pth there) never runs and `emokit` is the wheel's.
    (site / "zz_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                           "--no-index", "--quiet", str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return venv / "bin"


def _in_venv(bin_dir: Path, *command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "COLUMNS": "200", "HOME": str(cwd)}
    return subprocess.run(list(command), capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory) -> Path:
    from skimage import data

    path = tmp_path_factory.mktemp("photo") / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def test_the_installed_wheel_carries_and_runs_the_bundled_model(installed, astronaut):
    cwd = astronaut.parent  # not the repository: nothing of this checkout is importable from here
    code = ("import emokit, emokit_plugins, json\n"
            "analyzer = emokit.load()\n"
            "faces = analyzer.analyze(%r)\n"
            "print(json.dumps({'emokit': emokit.__file__, 'plugins': emokit_plugins.__file__, 'label': analyzer.label,"
            " 'model': analyzer.runtime.bundled.name, 'emotions': [f.emotion for f in faces]}))\n") % str(astronaut)
    done = _in_venv(installed, str(installed / "python"), "-c", code, cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    venv = installed.parent
    assert Path(found["emokit"]).is_relative_to(venv) and Path(found["plugins"]).is_relative_to(venv), found
    assert found["model"] == "fer2013" and found["label"] == "litert-int8" and len(found["emotions"]) == 1
    if REAL_MODEL:  # the trained model (not the stand-in, which never saw a real face): a smiling face is happy
        assert found["emotions"] == ["happy"], found


def test_emokit_predict_runs_from_the_installed_wheel(installed, astronaut):
    cwd = astronaut.parent
    command = ["emokit", "predict", str(astronaut), "--json"]  # no model named: the bundled one
    done = _in_venv(installed, *command, cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]
    (result,) = json.loads(done.stdout)
    assert len(result["faces"]) == 1
    if REAL_MODEL:
        assert result["faces"][0]["emotion"] == "happy", result
