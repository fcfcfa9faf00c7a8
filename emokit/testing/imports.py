"""Check that importing a plugin module leaves Keras unimported, in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

from emokit.testing.results import CheckResult

#: Keras picks its backend once per process, when it is first imported; a plugin that imports it
#: at module level would fix the backend before ``--backend`` is read.
FORBIDDEN = ("keras",)

_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.argv[2:] if m in sys.modules)))
"""


def check_plugin_module(module_name: str, plugin: str | None = None, forbidden: tuple[str, ...] = FORBIDDEN,
                        timeout: float = 120) -> CheckResult:
    """Import ``module_name`` in a new Python process and fail if any ``forbidden`` module got imported.

    A fresh process is needed because the test session itself has usually imported Keras already.
    """
    plugin = plugin or module_name
    check = "imports without " + ", ".join(forbidden)
    proc = subprocess.run([sys.executable, "-c", _PROBE, module_name, *forbidden],
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return CheckResult(plugin, "plugin", module_name, check, "fail", f"importing {module_name} failed: {last}")
    imported = json.loads(proc.stdout.strip().splitlines()[-1])
    if imported:
        return CheckResult(plugin, "plugin", module_name, check, "fail",
                           f"importing {module_name} imported {', '.join(imported)}; import it inside the function "
                           "that needs it (emokit passes the keras module to build functions).")
    return CheckResult(plugin, "plugin", module_name, check, "pass")
