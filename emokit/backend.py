"""Choose the Keras backend, then import Keras: the one place Keras is imported.

Order: the ``--backend`` flag, else ``KERAS_BACKEND``, else the first installed of
torch, tensorflow, jax. Keras reads its backend once per process, so asking for a different
backend after Keras is imported is an error, not a silent mismatch. The same holds for a backend's
per-model training environment (a kernel cap): it must be in place before the backend first runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from emokit.errors import EmokitError
from emokit.records import BackendRecord
from emokit.registry import Registry

if TYPE_CHECKING:
    from emokit.spec import ModelSpec

#: Tried in this order when neither the flag nor KERAS_BACKEND names a backend.
DEFAULT_ORDER = ("torch", "tensorflow", "jax")


def is_installed(record: BackendRecord) -> bool:
    """Whether the backend's package can be imported."""
    return importlib.util.find_spec(record.module) is not None


def resolve_backend(registry: Registry, requested: str | None = None) -> BackendRecord:
    """The backend record to use; a missing package gives the exact install line."""
    name = requested or os.environ.get("KERAS_BACKEND")
    if name:
        record = registry.get("backend", name)
        if not is_installed(record):
            raise EmokitError(f"Backend '{name}' needs the '{record.module}' package, which is not installed. Run: {record.install}")
        return record
    backends = registry.records("backend")
    for candidate in DEFAULT_ORDER + tuple(sorted(backends)):
        record = backends.get(candidate)
        if record is not None and is_installed(record):
            return record
    lines = "; ".join(r.install for r in backends.values())
    raise EmokitError(f"No Keras backend is installed. Install one: {lines}")


def environment_for(record: BackendRecord, spec: ModelSpec | None = None) -> dict[str, str]:
    """The environment ``record`` sets before its import, for training ``spec`` (``None``: any model)."""
    environment = dict(record.environment)
    if record.training_environment is not None:
        environment.update(record.training_environment(spec))
    return environment


def check_precision(record: BackendRecord, spec: ModelSpec, precision: str) -> None:
    """Refuse, before any slow work, a precision the backend says it cannot train ``spec`` at."""
    if precision == "float32" or record.precision_limit is None:
        return
    reason = record.precision_limit(spec, precision)
    if reason:
        raise EmokitError(f"--precision {precision} cannot train '{spec.name}' on '{record.name}': {reason}")


def cpu_has_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool | None:
    """Whether the CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX); ``None`` where unknown.

    Without it oneDNN emulates bfloat16, and ``mixed_bfloat16`` trains slower than float32.
    """
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
    return bool(flags & {"avx512_bf16", "amx_bf16"}) if flags else None


def activate(record: BackendRecord, spec: ModelSpec | None = None) -> ModuleType:
    """Apply the backend's environment (for training ``spec``), import Keras on it, return ``keras``."""
    if "keras" in sys.modules:
        keras = sys.modules["keras"]
        active = keras.backend.backend()
        if active != record.name:
            raise EmokitError(
                f"Keras is already running on '{active}' in this process; start a new process for backend '{record.name}'."
            )
        if spec is not None:
            _check_training_environment(record, spec)
        return keras
    os.environ["KERAS_BACKEND"] = record.name
    for key, value in environment_for(record, spec).items():
        os.environ.setdefault(key, value)
    import keras  # noqa: PLC0415 - imported here, after the backend is chosen, on purpose

    return keras


def set_random_seed(keras: ModuleType, seed: int) -> None:
    """``keras.utils.set_random_seed(seed)``, without importing TensorFlow on the torch or JAX backend.

    Keras seeds TensorFlow whenever it is installed, and so imports it into a torch or JAX process:
    seconds of start-up and TensorFlow's oneDNN/CUDA/absl log lines on stderr of a run that never
    uses it. Keras asks its lazy ``tensorflow`` module whether TensorFlow is available; for the
    call, it is told "no" unless TensorFlow is the backend or already imported (then its seed is set
    as usual). Python, NumPy, Keras's own seed generator and the backend are seeded either way.
    """
    lazy_tensorflow = getattr(importlib.import_module("keras.src.utils.module_utils"), "tensorflow", None)
    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules or not hasattr(lazy_tensorflow, "_available"):
        keras.utils.set_random_seed(seed)
        return
    saved = lazy_tensorflow._available
    lazy_tensorflow._available = False
    try:
        keras.utils.set_random_seed(seed)
    finally:
        lazy_tensorflow._available = saved


def _check_training_environment(record: BackendRecord, spec: ModelSpec) -> None:
    """Refuse to train a model that needs a setting this process started without (after an uncapped one)."""
    if record.training_environment is None:
        return
    for key, value in record.training_environment(spec).items():
        if key not in os.environ:  # a value the user set, even another one, is the user's choice
            raise EmokitError(
                f"Training '{spec.name}' on '{record.name}' needs {key}={value}, which this process started without; "
                f"train it in a new process, or set {key}={value} before starting Python."
            )


def load_keras(registry: Registry, requested: str | None = None) -> tuple[BackendRecord, ModuleType]:
    """Resolve and activate in one step, for any model (training resolves, then activates with its spec)."""
    record = resolve_backend(registry, requested)
    return record, activate(record)
