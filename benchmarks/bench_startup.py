"""Start-up of ``emokit predict`` on one photo, as a new user meets it: the bundled model (LiteRT, no Keras, no
backend) against a run on Keras, wall time of the whole command and where it goes.

Two measurements per model, each in fresh processes:

* **wall**: the real command (the venv's ``emokit`` script), photo to printed answer, median of
  ``--repeat`` runs: ``emokit predict photo.png`` with the bundled model (``emokit predict MODEL.tflite
  photo.png --runtime litert`` while the predict CLI still needs a model argument, or ``--model FILE``),
  and ``emokit predict RUN photo.png --runtime keras``;
* **breakdown**: a worker process that does the same steps and times each: python start (``python -c
  pass``, measured apart), emokit import, registry, model load (for Keras: Keras, the backend and the
  model), detection, classification.

The photo is scikit-image's astronaut (one face). From the repository root:

    python benchmarks/bench_startup.py                              # the bundled model vs the newest run
    python benchmarks/bench_startup.py --model /path/standin.tflite --run RUN
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_startup.py          # one repeat; makes its own models if needed

Without a bundled model installed and no ``--model``, a stand-in is made: a fresh (untrained) small_cnn run
exported with ``emokit export --format litert --int8`` and bundled beside it (its latency is the same as a
trained one's). Results: ``.benchmarks/bench_startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, command_line, emit, fast, load_snapshot, run_child, write_results  # puts the repo on sys.path

SCRIPT = Path(__file__).resolve()
#: Fresh-process runs of each command (median reported); one in fast mode.
REPEAT = 5
KERAS_REPEAT = 3
#: Libraries whose import the bundled model's path must not pay for.
HEAVY = ("keras", "torch", "tensorflow", "jax")


def emokit_command() -> list[str]:
    """The ``emokit`` console script of this interpreter's environment (as a user runs it), else ``python -m emokit``."""
    script = Path(sys.executable).with_name("emokit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "emokit"]


def write_photo(folder: Path) -> Path:
    import cv2
    from skimage import data

    path = folder / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def predict_takes_no_model() -> bool:
    """Whether ``emokit predict photo.png`` (no model) is supported by this checkout's predict CLI."""
    source = (REPO / "emokit" / "cli" / "predict.py").read_text()
    return "split_model_argument" in source or "names_model" in source


def bundled_default() -> str | None:
    """The installed default bundled model's name, or ``None``."""
    from emokit.errors import EmokitError
    from emokit.inference.source import default_model
    from emokit.registry import build_registry

    try:
        return default_model(build_registry()).name
    except EmokitError:
        return None


def fresh_keras_run(folder: Path) -> Path:
    """A fresh (untrained) small_cnn run, made in a subprocess: its start-up on Keras is a trained one's."""
    run = folder / "standin-run"
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from common import fresh_run\n"
            "from emokit.backend import load_keras\nfrom emokit.registry import build_registry\n"
            "registry = build_registry(); _, keras = load_keras(registry, 'torch')\n"
            "fresh_run(__import__('pathlib').Path(%r), 'small_cnn', registry, keras)\n") % (str(SCRIPT.parent), str(run))
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=170)
    (run / "metadata.json").write_text(json.dumps({"dataset": "synthetic"}))
    return run


def make_standin(folder: Path) -> tuple[Path, Path]:
    """(run, bundled .tflite): a fresh small_cnn run exported to LiteRT int8 in a subprocess, then bundled."""
    run = fresh_keras_run(folder)
    done = subprocess.run([*emokit_command(), "export", str(run), "--format", "litert", "--int8"],
                          capture_output=True, text=True, timeout=170)
    if done.returncode != 0:
        raise SystemExit(f"could not export the stand-in: {done.stderr[-1500:]}")
    from emokit.inference.bundled import write_bundle
    from emokit.runs import Run

    target = folder / "standin.tflite"
    write_bundle(Run(run), target)
    return run, target


def wall_seconds(command: list[str], repeat: int) -> dict:
    """Median/min wall seconds of ``command`` in fresh processes; the last run's answer kept as a check."""
    times, answer = [], None
    env = {**os.environ, "COLUMNS": "200"}
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            return {"error": done.stderr[-1500:], "command": " ".join(command)}
        answer = json.loads(done.stdout)
    emotions = [face["emotion"] for item in answer for face in item["faces"]]
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "runs_s": [round(t, 3) for t in times], "emotions": emotions}


def python_start_s(repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def worker(model: str, runtime: str, photo: str) -> None:
    """The steps of ``emokit predict`` one by one in this fresh process, each timed (seconds)."""
    steps: dict[str, float] = {}
    mark = time.perf_counter()

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[name] = round(now - mark, 4)
        mark = now

    import emokit.cli  # noqa: F401 - what `emokit` imports before any command runs

    step("emokit_import_s")
    from emokit.registry import build_registry

    registry = build_registry()
    step("registry_s")
    from emokit.inference.api import open_model
    from emokit.inference.frames import FramePipeline, detector_pool

    loaded = open_model(model, registry, runtime, "torch" if runtime == "keras" else None)
    pipeline = FramePipeline(loaded, detector_pool(registry, "haar"))
    step("model_load_s")
    from emokit.inference.image_files import image_bytes

    analysis = pipeline.analyze(image_bytes(Path(photo)), source=photo)
    step("analyze_s")
    steps["detection_s"] = round(analysis.timings["detect"] / 1e3, 4)
    steps["classification_s"] = round(analysis.timings["classify"] / 1e3, 4)
    steps["decode_preprocess_s"] = round((analysis.timings.get("decode", 0) + analysis.timings["preprocess"]) / 1e3, 4)
    emit({"steps": steps, "runtime": getattr(loaded, "runtime", loaded.label),
          "heavy_imported": sorted(m for m in HEAVY if m in sys.modules), "faces": len(analysis.faces)})


def measure(model: str | None, run: str | None, out: Path | None) -> dict:
    repeat = 1 if fast() else REPEAT
    keras_repeat = 1 if fast() else KERAS_REPEAT
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        photo = write_photo(folder)
        standin = None
        if model is None and bundled_default() is None:
            standin_run, standin = make_standin(folder)
            model, run = str(standin), run or str(standin_run)
        if run is None:
            from emokit.errors import EmokitError
            from emokit.runs import latest_usable_run, runs_root

            try:
                run = str(latest_usable_run(runs_root()).path)
            except EmokitError:  # no run here (a fresh clone, CI): a fresh small_cnn run stands in on Keras
                run = str(fresh_keras_run(folder))
        emokit = emokit_command()
        if model is None and predict_takes_no_model():
            bundled_command = [*emokit, "predict", str(photo), "--json"]
            breakdown_model = None
        else:
            from emokit.inference.bundled import model_file

            if model is None:  # the bundled model, named by its file while predict needs a model argument
                from emokit.inference.source import default_model
                from emokit.registry import build_registry

                model = str(model_file(default_model(build_registry())))
            bundled_command = [*emokit, "predict", model, str(photo), "--json", "--runtime", "litert"]
            breakdown_model = model
        keras_command = [*emokit, "predict", run, str(photo), "--json", "--runtime", "keras"]
        result = {
            "command": command_line("bench_startup.py"),
            "photo": "skimage.data.astronaut (512x512, one face)",
            "model": "stand-in (fresh small_cnn, LiteRT int8)" if standin else (model or bundled_default()),
            "run": run,
            "load_at_start": load_snapshot(),
            "python_start_s": python_start_s(repeat),
            "bundled": {"command": " ".join(["emokit", *bundled_command[len(emokit):]]), "wall": wall_seconds(bundled_command, repeat),
                        "breakdown": run_child(SCRIPT, ["--worker", "--model", breakdown_model or "", "--runtime", "auto",
                                                        "--photo", str(photo)])},
            "keras": {"command": " ".join(["emokit", *keras_command[len(emokit):]]), "wall": wall_seconds(keras_command, keras_repeat),
                      "breakdown": run_child(SCRIPT, ["--worker", "--model", run, "--runtime", "keras", "--photo", str(photo)])},
        }
    path = write_results("bench_startup", result, out)
    print(json.dumps(result, indent=2))
    print(f"Wrote {path}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="The bundled model's file or name (default: the installed default bundled model).")
    parser.add_argument("--run", help="The run to start on Keras (default: the newest usable run, or the stand-in's).")
    parser.add_argument("--runtime", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--photo", help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help="Results file (default .benchmarks/bench_startup.json).")
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.model or None, args.runtime, args.photo)
        return 0
    result = measure(args.model, args.run, args.out)
    failed = any("error" in result[side]["wall"] or "error" in result[side]["breakdown"] for side in ("bundled", "keras"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
