"""Drop known noise that native libraries print straight to the process's standard error.

LiteRT's C++ code writes ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` to file
descriptor 2 the first time a model's tensors are allocated: a line of noise in the middle of
``emokit predict``'s answer that Python's ``sys.stderr`` cannot catch. :func:`without_native_lines`
points descriptor 2 at a temporary file around such a call, then writes back every line but the
known ones, so real warnings and errors still show (a moment later, in their order).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

#: LiteRT's announcement that it runs the model with XNNPACK (it always does on CPU).
XNNPACK_INFO = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU."


@contextmanager
def without_native_lines(*prefixes: bytes) -> Iterator[None]:
    """Run the body with descriptor 2 captured; afterwards write back the lines that start with none of ``prefixes``."""
    sys.stderr.flush()  # what Python buffered goes out before the swap, in order
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().splitlines(keepends=True) if not line.startswith(prefixes)]
            if kept:
                os.write(2, b"".join(kept))
