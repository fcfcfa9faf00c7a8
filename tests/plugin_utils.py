"""Install test plugins through real entry points, and run the CLI that sees them.

Entry points are tested without pip: a ``<name>-0.1.dist-info`` folder (METADATA +
entry_points.txt) on ``sys.path`` is a distribution to ``importlib.metadata``, exactly as
pip would leave it. The plugin modules stay in ``tests/plugins``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from emokit.registry import BLOCK_ENV

PLUGINS = Path(__file__).with_name("plugins")
#: Every built-in plugin but the backends: blocked, ``plugins --check`` checks only the test plugins.
BUILT_INS = "architectures,augmentations,fer2013,image_folder,synthetic,haar"


def install_entry_point(site: Path, distribution: str, plugin_name: str, module: str) -> None:
    """Write what pip writes for a package with one ``emokit`` entry point (the module stays in tests/plugins)."""
    info = site / f"{distribution.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[emokit]\n{plugin_name} = {module}\n")


def run_emokit(site: Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """``emokit ARGS`` in a new process that sees ``site`` and the test plugins; wide, so no cell wraps."""
    inherited = {k: v for k, v in os.environ.items() if k != BLOCK_ENV}  # a developer's own blocks must not leak in
    environment = {**inherited, "PYTHONPATH": os.pathsep.join([str(site), str(PLUGINS)]), "COLUMNS": "250", **env}
    return subprocess.run([sys.executable, "-c", "from emokit.cli import main; main()", *args],
                          env=environment, capture_output=True, text=True, timeout=timeout)


def table_rows(stdout: str, key_column: int = 1) -> dict[str, str]:
    """The rows of the rich tables in ``stdout``, by the text of one column."""
    rows = {}
    for line in stdout.splitlines():
        cells = line.split("│")
        if len(cells) > key_column + 1:
            rows[cells[key_column].strip()] = line
    return rows
