"""``--workers N``: one sweep's trials in N processes on this machine, sharing its study through the storage.

Each worker is the same ``emokit sweep`` command with the study named explicitly and ``--worker-index
I`` (which offsets its sampler's seed, so workers do not all propose the same first values), run
with ``cores // N`` math threads (torch's OpenMP, TensorFlow's intra-op pool, XLA's CPU pool), so N
workers do not oversubscribe the cores. Their output is forwarded line by line, prefixed with the worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence


def thread_environment(workers: int, cores: int | None = None) -> dict[str, str]:
    """Environment variables that give each of ``workers`` processes its share of the cores."""
    share = max(1, (cores or os.cpu_count() or 1) // workers)
    return {
        "OMP_NUM_THREADS": str(share), "MKL_NUM_THREADS": str(share),
        "TF_NUM_INTRAOP_THREADS": str(share), "TF_NUM_INTEROP_THREADS": "1",
        "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_multi_thread_eigen=false "
                     f"intra_op_parallelism_threads={share}".strip(),
    }


def run_workers(arguments: Sequence[str], workers: int, say: Callable[[str], None]) -> list[int]:
    """Run ``emokit ARGUMENTS --worker-index I`` for I in 1..``workers`` at once; returns their exit codes."""
    env = {**os.environ, **thread_environment(workers), "PYTHONUNBUFFERED": "1"}
    processes = [subprocess.Popen([sys.executable, "-m", "emokit", *arguments, "--worker-index", str(index)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
                 for index in range(1, workers + 1)]

    def forward(index: int, process: subprocess.Popen) -> None:
        for line in process.stdout:
            say(f"[worker {index}] {line.rstrip()}")

    threads = [threading.Thread(target=forward, args=(i, p), daemon=True) for i, p in enumerate(processes, start=1)]
    for thread in threads:
        thread.start()
    try:
        codes = [process.wait() for process in processes]
    except KeyboardInterrupt:  # Ctrl-C reached the workers too (same process group): let them stop cleanly
        codes = [process.wait() for process in processes]
    for thread in threads:
        thread.join(timeout=5)
    return codes
