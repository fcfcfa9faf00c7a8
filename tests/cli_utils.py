"""Run the emokit CLI in-process (fast) or as a real subprocess (for other backends and signals)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from emokit.cli import main


def run_cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """Run ``emokit ARGS`` in this process; returns (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def emokit_process(*args: str, backend: str | None = None, timeout: float = 900, **kwargs) -> subprocess.CompletedProcess:
    """Run ``emokit ARGS`` as a subprocess with a wide terminal, so rich output is not wrapped."""
    env = {**os.environ, "COLUMNS": "200"}
    if backend:
        env["KERAS_BACKEND"] = backend
    return subprocess.run([sys.executable, "-m", "emokit", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, **kwargs)
