"""One math thread per model call for interactive inference, set before a backend is imported."""

from __future__ import annotations

import os
import sys

#: One math thread per model call: a frame's or a batch's few 48x48 faces are
#: too small for intra-op parallelism to pay, and on a busy CPU the threads' synchronisation costs up
#: to 10x (measured on a shared 2-core machine, keras+torch, one video frame's faces: 100-145 ms per
#: call with the default threads, 10-19 ms with one). The ONNX and LiteRT runtimes use one thread already.
ONE_MATH_THREAD_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
#: The libraries that read those variables once, when imported.
_MATH_LIBRARIES = ("torch", "tensorflow", "jax")


def prefer_one_math_thread() -> bool:
    """Set :data:`ONE_MATH_THREAD_ENV` where the user has not, if no backend is imported yet (it is read
    at import); returns whether it could still take effect. ``emokit predict`` and ``emokit demo`` call
    it before a model loads."""
    if any(name in sys.modules for name in _MATH_LIBRARIES):
        return False
    for key, value in ONE_MATH_THREAD_ENV.items():
        os.environ.setdefault(key, value)
    return True
