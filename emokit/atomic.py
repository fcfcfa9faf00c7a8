"""Write files so that a crash never leaves one that looks complete but is not: write a temp file, then rename."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Every temporary sibling starts with this; nothing reads such a file, and a resume deletes stale ones.
TEMP_PREFIX = ".tmp-"


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write to; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the whole name at the end: Keras (".weights.h5") and matplotlib pick the format from it. A
    # random part as well as the pid: two threads of one process (a signal watchdog writing the status
    # while the main thread does) must not share a temp file.
    tmp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete the temp files a killed writer left under ``folder`` (call only when nobody writes there); returns them."""
    stale = [p for p in Path(folder).rglob(f"{TEMP_PREFIX}*") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def write_text(path: Path, text: str) -> None:
    """Atomically write ``text`` to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: Path, data: Any) -> None:
    """Atomically write ``data`` as indented JSON."""
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")
