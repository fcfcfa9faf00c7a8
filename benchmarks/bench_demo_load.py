"""Load test of the demo's photo endpoint: concurrent users on a local ``emokit demo``, and no photo left behind.

Starts ``emokit demo RUN`` on 127.0.0.1 in a subprocess with a private temp folder (the browser tests'
``running_demo``), then sends
``--requests`` photo analyses from ``--threads`` threads through ``gradio_client`` (upload + queue +
answer, as the page does), twice: every request with the same photo (Gradio stores identical
uploads as one file) and every request with a distinct photo. Records each phase's errors and
p50/p95 latency, then waits for the demo's sweep (``--forget-after``) and checks that no uploaded
file is left in the demo's temp folder. Not a test: it measures and records. From the repository root:

    python benchmarks/bench_demo_load.py                     # the newest run that can answer
    python benchmarks/bench_demo_load.py --run RUN
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_demo_load.py # fewer requests, an untrained model (for CI)

Results are printed and written as JSON (default ``.benchmarks/bench_demo_load.json``). Exits 1
when a request failed or a photo was left on disk.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import REPO, RESULTS, command_line, fast, fresh_run, load_snapshot, write_results  # also puts the repository on sys.path

sys.path.insert(0, str(REPO / "tests"))
from browser_utils import running_demo  # noqa: E402 - the tests' way to run `emokit demo` in a subprocess, reused

#: Seconds an upload stays on the demo's disk in this benchmark (the demo's default is a minute).
FORGET_AFTER_S = 5
#: Seconds to wait for ``emokit demo`` to come up (model load on a busy machine).
START_TIMEOUT_S = 300.0


def cpu_flags() -> dict[str, object]:
    """The CPU model and whether it has the bfloat16 instructions that change inference speed."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    flags = set(re.search(r"^flags\s*:(.*)$", text, re.M).group(1).split()) if "flags" in text else set()
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    return {"model": model.group(1) if model else None, "avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
            "avx512_bf16": "avx512_bf16" in flags, "amx_bf16": "amx_bf16" in flags}


def photos(folder: Path, count: int) -> list[Path]:
    """``count`` distinct JPEG photos of one real face (scikit-image's astronaut, shifted a few pixels each)."""
    import cv2
    import numpy as np
    from skimage import data

    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    paths = []
    for i in range(count):
        path = folder / f"face-{i}.jpg"
        cv2.imwrite(str(path), np.roll(face, 3 * i, axis=1))
        paths.append(path)
    return paths


def phase(url: str, run_name: str, paths: list[Path], requests: int, threads: int) -> dict[str, object]:
    """``requests`` analyses from ``threads`` threads, photo ``i % len(paths)`` each: errors and latency."""
    from gradio_client import Client, handle_file

    local = threading.local()

    def one(i: int) -> tuple[float, str | None]:
        client = getattr(local, "client", None)
        if client is None:  # one client per thread, as one browser tab per user
            client = local.client = Client(url, verbose=False, download_files=False)
        start = time.perf_counter()
        try:
            status = client.predict(handle_file(str(paths[i % len(paths)])), run_name, api_name="/analyze")[2]
            error = None if status.startswith(("Found", "No face")) else status
        except Exception as exc:  # noqa: BLE001 - every failure is counted and its message kept
            error = f"{type(exc).__name__}: {exc}"
        return (time.perf_counter() - start) * 1e3, error

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, range(requests)))
    wall = time.perf_counter() - started
    latencies = sorted(ms for ms, _ in results)
    errors = [e for _, e in results if e]
    return {
        "requests": requests, "threads": threads, "errors": len(errors), "error_examples": sorted(set(errors))[:3],
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(latencies[min(len(latencies) - 1, int(round(0.95 * (len(latencies) - 1))))], 1),
        "max_ms": round(latencies[-1], 1), "wall_s": round(wall, 2), "requests_per_s": round(requests / wall, 2),
    }


def choose_run(ref: str | None, scratch: Path) -> Path:
    """``--run``, else the newest run that can answer; in fast mode without ``--run``, an untrained small_cnn."""
    if ref:
        from emokit.runs import find_run

        return find_run(ref).path
    if fast():
        from emokit.backend import load_keras
        from emokit.registry import build_registry

        registry = build_registry()
        _, keras = load_keras(registry, None)
        return fresh_run(scratch / "untrained", "small_cnn", registry, keras)
    from emokit.runs import latest_usable_run, runs_root

    return latest_usable_run(runs_root(None)).path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", help="Run folder or name (default: the newest run that can answer; fast mode: an untrained model).")
    parser.add_argument("--requests", type=int, default=None, help="Requests per phase (default 50; fast mode 10).")
    parser.add_argument("--threads", type=int, default=None, help="Concurrent clients (default 10; fast mode 5).")
    parser.add_argument("--forget-after", type=int, default=FORGET_AFTER_S, help="The demo's --forget-after, seconds.")
    parser.add_argument("--out", type=Path, default=RESULTS / "bench_demo_load.json")
    args = parser.parse_args()
    requests = args.requests or (10 if fast() else 50)
    threads = args.threads or (5 if fast() else 10)
    with tempfile.TemporaryDirectory(prefix="emokit-bench-load-") as scratch_name:
        scratch = Path(scratch_name)
        run = choose_run(args.run, scratch)
        (scratch / "photos").mkdir()
        (scratch / "tmp").mkdir()
        paths = photos(scratch / "photos", requests)
        load_before = load_snapshot()
        # --runs: the run is offered by its name (a run outside the runs folder is offered by its path).
        with running_demo(run, scratch / "tmp", "--runs", str(run.parent), "--forget-after", str(args.forget_after),
                          timeout=START_TIMEOUT_S) as server:
            results = {
                "same_photo": phase(server.url, run.name, paths[:1], requests, threads),
                "distinct_photos": phase(server.url, run.name, paths, requests, threads),
            }
            # Wait for the sweep: uploads older than --forget-after go within a sixth of that more.
            deadline = time.monotonic() + args.forget_after * 2 + 10
            while server.user_files() and time.monotonic() < deadline:
                time.sleep(0.5)
            left = [str(p.relative_to(scratch)) for p in server.user_files()]
            served = next((line.strip() for line in server.output if line.startswith("Serving")), None)
    record = {
        "command": command_line("bench_demo_load.py"),
        "run": str(run) if args.run or not fast() else "untrained small_cnn (fast mode)",
        "served": served, "forget_after_s": args.forget_after, "cpu": cpu_flags(),
        "load_before": load_before, **results, "files_left": left,
    }
    path = write_results("bench_demo_load", record, args.out)
    for name in ("same_photo", "distinct_photos"):
        r = results[name]
        print(f"{name:16s} {r['requests']} requests / {r['threads']} threads: {r['errors']} errors, "
              f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, {r['requests_per_s']:.1f} req/s")
    print(f"files left on disk after the sweep: {len(left)}; results: {path}")
    if left or any(results[n]["errors"] for n in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
