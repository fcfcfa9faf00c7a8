"""Shared helpers for the benchmark scripts: fast mode, child processes per backend, results files.

Keras picks its backend once per process, so every script measures each backend in its own child
process (``python benchmarks/X.py --worker B ...``) that prints one ``RESULT {json}`` line.

``--pause PID`` (every script) sends SIGSTOP to another process (e.g. a long background training)
while a child measures and SIGCONT right after, in a ``finally``; each pause is capped by the
child's timeout. Whatever else was using the CPU is recorded in the results file (``load``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / ".benchmarks"
FAST_ENV = "EMOKIT_BENCH_FAST"
BACKENDS = ("tensorflow", "torch", "jax")
#: Each child is killed after this long, so a paused process is never left stopped for longer.
CHILD_TIMEOUT_S = 170

if str(REPO) not in sys.path:  # run as `python benchmarks/X.py` without installing
    sys.path.insert(0, str(REPO))


def fast() -> bool:
    """Whether ``EMOKIT_BENCH_FAST=1``: tiny sizes and one repeat, for CI."""
    return os.environ.get(FAST_ENV) == "1"


def installed_backends() -> list[str]:
    return [b for b in BACKENDS if importlib.util.find_spec(b) is not None]


def machine() -> dict[str, Any]:
    import numpy as np

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "numpy": np.__version__}


def load_snapshot() -> dict[str, Any]:
    """Load average and the processes using CPU right now (other than this benchmark's own)."""
    mine = {os.getpid(), os.getppid()}
    try:
        out = subprocess.run(["ps", "-eo", "pid,pcpu,stat,args", "--sort=-pcpu"], capture_output=True, text=True,
                             timeout=10).stdout.splitlines()[1:]
    except (OSError, subprocess.SubprocessError):
        out = []
    busy = []
    for line in out:
        pid, pcpu, stat, args = (line.split(None, 3) + ["", "", "", ""])[:4]
        if float(pcpu or 0) >= 5 and int(pid) not in mine:
            busy.append(f"{pid} {pcpu}% {stat} {args[:140]}")
    loadavg = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    return {"loadavg": loadavg, "busy": busy[:6]}


@contextmanager
def paused(pid: int | None) -> Iterator[None]:
    """SIGSTOP ``pid`` for the duration of the block and always SIGCONT it afterwards."""
    if not pid:
        yield
        return
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def run_child(script: Path, args: list[str], env: dict[str, str] | None = None, pause: int | None = None,
              timeout: float = CHILD_TIMEOUT_S) -> dict[str, Any]:
    """Run ``script --worker ...`` in a fresh process; its ``RESULT`` line as a dict, or ``{"error": ...}``."""
    command = [sys.executable, str(script), *args]
    child_env = {**os.environ, **(env or {})}
    started = time.perf_counter()
    with paused(pause):
        before = load_snapshot()
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=child_env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s", "command": " ".join(args)}
    line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        tail = (done.stderr or done.stdout)[-1500:]
        return {"error": f"exit {done.returncode}: {tail}", "command": " ".join(args)}
    result = json.loads(line[len("RESULT "):])
    result["child_wall_s"] = round(time.perf_counter() - started, 1)
    result["load_at_start"] = before
    return result


def emit(result: dict[str, Any]) -> None:
    """A worker's answer to its parent."""
    print("RESULT " + json.dumps(result), flush=True)


def write_results(name: str, record: dict[str, Any], out: Path | None = None) -> Path:
    path = out or RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"fast": fast(), "machine": machine(), "time": time.strftime("%Y-%m-%d %H:%M:%S"), **record}
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def command_line(script: str, argv: list[str] | None = None) -> str:
    argv = sys.argv[1:] if argv is None else argv
    prefix = f"{FAST_ENV}=1 " if fast() else ""
    return prefix + " ".join(["python", f"benchmarks/{script}", *argv])


def time_ms(fn: Callable[[], Any], repeat: int, warmup: int) -> dict[str, float]:
    """Median/min/p90 wall milliseconds of ``fn()`` over ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    samples.sort()
    return {"median_ms": round(statistics.median(samples), 4), "min_ms": round(samples[0], 4),
            "p90_ms": round(samples[int(0.9 * (len(samples) - 1))], 4), "n": repeat}


def random_faces(images: int, seed: int = 0) -> tuple[Any, Any]:
    """``images`` random 48x48x1 faces as float32 0-255 and one-hot labels over the 7 FER classes."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (images, 48, 48, 1)).astype("float32")
    y = np.eye(7, dtype="float32")[rng.integers(0, 7, images)]
    return x, y


def training_model(registry: Any, keras: Any, backend: str, arch: str, *, fused: bool = True,
                   compile_options: dict[str, Any] | None = None) -> Any:
    """``arch`` built and compiled as ``emokit train`` does on ``backend`` (its training layers and compile
    options: fused batch norm, steps per call); ``fused=False`` keeps Keras's own layers, and
    ``compile_options`` replaces the backend's options (for A/B variants)."""
    from emokit.builder import build_model
    from emokit.specs import spec_for

    record = registry.get("backend", backend)
    model = build_model(spec_for(registry, arch), keras, "float32", record.training_layer if fused else None)
    options = record.compile_options if compile_options is None else compile_options
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"], **options)
    return model


def fresh_run(folder: Path, arch: str, registry: Any, keras: Any) -> Path:
    """A run folder holding ``arch``'s spec and freshly initialised weights (latency does not depend on the values)."""
    from emokit import FER_CLASSES
    from emokit.builder import build_model
    from emokit.specs import spec_for

    spec = spec_for(registry, arch, input_shape=(48, 48, 1), class_names=FER_CLASSES)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"arch": arch}))
    (folder / "spec.json").write_text(spec.to_json())
    build_model(spec, keras).save_weights(folder / "model.weights.h5")
    return folder


def summarize(epoch_seconds: list[float], images: int) -> dict[str, Any]:
    """Training throughput from per-epoch wall times: the first epoch (tracing) dropped, median of the rest."""
    measured = epoch_seconds[1:] or epoch_seconds
    median = statistics.median(measured)
    return {"epoch_s": [round(s, 3) for s in epoch_seconds], "median_epoch_s": round(median, 3),
            "img_s": round(images / median, 1), "repeats": len(measured)}


def epoch_timer(keras: Any) -> Any:
    """A Keras callback whose ``seconds`` list gets each epoch's wall time."""

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.seconds.append(time.perf_counter() - self.started)

    return EpochTimer()
