"""Importing emokit changes nothing process-wide (issue #19): no signal handler, no matplotlib
backend switch, no OpenCV log level. A host application (a notebook, a web server) that imports
emokit keeps its own Ctrl-C handling, its interactive plots and OpenCV's warnings.

Each check runs in a fresh interpreter: this test process has imported emokit long ago.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

#: Imports every module of emokit and of its built-in plugins (but ``__main__``), and prints what each setting was
#: before and after. ``MPLBACKEND=svg`` makes the starting backend a known, non-Agg one.
SCRIPT = r"""
import importlib, json, pkgutil, signal, sys
import cv2, matplotlib

def settings():
    return {
        "signals": {name: repr(signal.getsignal(getattr(signal, name))) for name in ("SIGINT", "SIGTERM", "SIGHUP")},
        "wakeup_fd": signal.set_wakeup_fd(-1),
        "matplotlib_backend": matplotlib.get_backend(),
        "pyplot_imported": "matplotlib.pyplot" in sys.modules,
        "opencv_log_level": cv2.utils.logging.getLogLevel(),
    }

before = settings()
import emokit, emokit_plugins
imported = []
for package in (emokit, emokit_plugins):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.endswith(".__main__"):  # `python -m emokit`: running the CLI is its job
            continue
        importlib.import_module(info.name)
        imported.append(info.name)
print(json.dumps({"before": before, "after": settings(), "imported": imported}))
"""


def test_importing_every_emokit_module_leaves_process_settings_unchanged():
    env = {**os.environ, "MPLBACKEND": "svg"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "emokit.plots" in found["imported"] and "emokit.preprocess" in found["imported"]
    assert "emokit.training.interrupts" in found["imported"] and "emokit_plugins.synthetic_faces" in found["imported"]
    assert found["after"] == found["before"]
    assert found["after"]["matplotlib_backend"] == "svg"


def test_plots_and_decoding_leave_process_settings_unchanged(tmp_path):
    """Using them changes nothing either: plots draw without pyplot, a bad image's decode restores the log level."""
    script = r"""
import json, sys, cv2, matplotlib
from pathlib import Path
from emokit.plots import plot_confusion
from emokit.preprocess import decode_image
from emokit.errors import EmokitError
level = cv2.utils.logging.getLogLevel()
plot_confusion([[3, 1], [0, 4]], ["a", "b"], Path(sys.argv[1]), "t")
png = cv2.imencode(".png", cv2.UMat(8, 8, cv2.CV_8UC3).get())[1].tobytes()
try:
    decode_image(png[: len(png) // 2], "half.png")
except EmokitError:
    pass
print(json.dumps([level, cv2.utils.logging.getLogLevel(), matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules]))
"""
    out = tmp_path / "confusion.png"
    env = {**os.environ, "MPLBACKEND": "svg"}
    done = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    before, after, backend, pyplot = json.loads(done.stdout.strip().splitlines()[-1])
    assert after == before
    assert (backend, pyplot) == ("svg", False)
    assert out.read_bytes().startswith(b"\x89PNG")
    assert "PNG input buffer is incomplete" not in done.stderr.replace("libpng error: PNG input buffer is incomplete", "")
