"""The public Python API (emokit.load -> Analyzer): same answers as `emokit predict`, shapes people know,
one-line errors, and it works in a fresh virtual environment after `pip install -e .`."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli_utils import run_cli

REPO = Path(__file__).resolve().parents[1]
skimage_data = pytest.importorskip("skimage.data")


def test_import_emokit_is_light_and_offers_load():
    code = ("import sys, emokit; assert callable(emokit.load) and emokit.load is emokit.inference.api.load; "
            "heavy = [m for m in ('keras', 'torch', 'tensorflow', 'jax', 'cv2', 'gradio') if m in sys.modules]; "
            "print(heavy)")
    # `emokit.load` imports the API (and OpenCV) only when first used, never Keras or a backend.
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['cv2']"


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("api") / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


@pytest.mark.slow
def test_analyze_gives_what_emokit_predict_gives(trained_run, photo, capsys):
    from emokit.inference import load

    analyzer = load(str(trained_run.path), runtime="keras", backend="torch")
    faces = analyzer.analyze(photo)
    code, out, _ = run_cli(capsys, "predict", str(trained_run.path), str(photo), "--backend", "torch", "--json")
    assert code == 0
    (predicted,) = json.loads(out)
    assert len(faces) == len(predicted["faces"]) == 1
    face, cli = faces[0], predicted["faces"][0]
    assert face.emotion == cli["emotion"] and [face.box.x, face.box.y, face.box.w, face.box.h] == cli["box"]
    assert face.score == pytest.approx(cli["score"], abs=1e-4) and 0.5 < face.score <= 1.0
    for name, p in cli["probabilities"].items():
        assert face.probabilities[name] == pytest.approx(p, abs=1e-5)
    # An array gives the same as its file; fer's shape for people who know it.
    same = analyzer.analyze(skimage_data.astronaut())[0]
    assert same.emotion == face.emotion and same.box == face.box
    shaped = face.to_dict()
    assert shaped["box"] == cli["box"] and set(shaped["emotions"]) == set(analyzer.class_names)
    # classify: crops of any size and channels, one row per crop, columns in class_names order.
    crops = [skimage_data.astronaut()[60:180, 170:280], skimage_data.camera()[:100, :100]]
    probs = analyzer.classify(crops)
    assert probs.shape == (2, len(analyzer.class_names)) and np.allclose(probs.sum(axis=1), 1, atol=1e-4)
    assert analyzer.classify(np.zeros((0, 48, 48), np.uint8)).shape == (0, len(analyzer.class_names))


@pytest.mark.slow
def test_api_errors_are_one_line(trained_run, tmp_path):
    from emokit.errors import EmokitError
    from emokit.inference import load

    for call, words in [
        (lambda: load("no-such-run", runs=tmp_path), "no-such-run"),
        (lambda: load(str(trained_run.path), runtime="fast"), "Unknown runtime 'fast'"),
        (lambda: load(str(trained_run.path), detector="hair"), "hair"),
    ]:
        with pytest.raises(EmokitError, match=words) as caught:
            call()
        assert "\n" not in str(caught.value)
    analyzer = load(str(trained_run.path), runtime="keras", backend="torch")
    for bad, words in [(tmp_path / "missing.png", "does not exist"), (np.zeros((4, 4), np.float64), "uint8"),
                       ([1, 2], "path or a numpy array")]:
        with pytest.raises(EmokitError, match=words):
            analyzer.analyze(bad)
    with pytest.raises(EmokitError, match="batch of faces"):
        analyzer.classify(np.zeros((48, 48), np.uint8))


@pytest.mark.slow
def test_the_api_works_in_a_fresh_venv_after_pip_install_e(trained_run, photo, tmp_path):
    """A new virtual environment sees the dependencies already installed here (a .pth file, so nothing is
    downloaded) but not emokit, until ``pip install --no-deps -e`` installs it from the repository.
    (No pip of its own: ensurepip's bundled setuptools is too old for pyproject.toml; this one's pip and
    setuptools are seen through the .pth file.)"""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True,
                   timeout=300)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "_emokit_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    script = tmp_path / "use_api.py"
    script.write_text(textwrap.dedent(f"""
        import json, emokit
        from emokit.inference import load
        analyzer = load({str(trained_run.path)!r}, runtime="keras", backend="torch")
        faces = analyzer.analyze({str(photo)!r})
        print(json.dumps({{"module": emokit.__file__, "faces": [f.to_dict() for f in faces]}}))
    """))
    before = subprocess.run([str(python), str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert before.returncode != 0 and "No module named 'emokit'" in before.stderr  # the venv starts without emokit
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    "-e", str(REPO)], check=True, capture_output=True, timeout=600)
    done = subprocess.run([str(python), str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["module"]).resolve().is_relative_to(REPO)
    (face,) = result["faces"]
    assert set(face) == {"box", "score", "emotions", "dominant_emotion"} and len(face["box"]) == 4
