"""Pretrained models a package ships (hook ``emokit_models``), and the JSON sidecar that lets a bare model file answer.

A LiteRT file holds tensors only: no class names, no input size, no face margin. The ONNX export stores
them as ONNX metadata; for every other format (and for LiteRT files, which have no metadata a plain
interpreter reads back) they live in a sidecar next to the file, ``NAME.tflite.json``::

    {"version": 1, "spec": {...ModelSpec...}, "preprocessing": {...}, "about": {"run": ..., "quantized": true, ...}}

A sidecar is plain JSON any tool can read, works for every runtime, and needs no flatbuffer surgery on
the model file; its one cost is a second file, which :func:`write_bundle` writes with the model.

    python -m emokit.inference.bundled RUN plugins/models/fer2013.tflite

copies the run's current LiteRT export there, writes the sidecar, and prints the SHA-256 that goes into
the :class:`~emokit.records.ModelRecord`.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emokit.errors import EmokitError
from emokit.inference.preprocessing import Preprocessing
from emokit.inference.runtime import ModelSource

if TYPE_CHECKING:
    from emokit.records import ModelRecord
    from emokit.registry import Registry
    from emokit.runs import Run

#: The sidecar's format version; a reader refuses a newer one by name instead of guessing.
VERSION = 1
#: The sidecar of ``x.tflite`` is ``x.tflite.json``.
SIDECAR_SUFFIX = ".json"
#: The format bundled models are exported in, and its exporter options.
BUNDLE_FORMAT = "litert"


def sidecar_path(file: Path) -> Path:
    """Where the description of ``file`` lives: ``x.tflite`` -> ``x.tflite.json``."""
    file = Path(file)
    return file.with_name(file.name + SIDECAR_SUFFIX)


def write_description(file: Path, spec_json: str, preprocessing: Preprocessing, about: dict[str, Any]) -> Path:
    """Write ``file``'s sidecar: its model spec (JSON text), preprocessing and ``about`` (provenance, shown to people)."""
    from emokit.atomic import write_json  # noqa: PLC0415

    path = sidecar_path(file)
    write_json(path, {"version": VERSION, "spec": json.loads(spec_json), "preprocessing": preprocessing.to_dict(),
                      "about": about})
    return path


def described_source(file: Path) -> ModelSource:
    """A model file outside any run folder: described by its sidecar when it has one, else bare
    (spec and preprocessing ``None``: a runtime reads them from the file itself, as ONNX can, or refuses it)."""
    file = Path(file)
    sidecar = sidecar_path(file)
    if not sidecar.is_file():
        return ModelSource(None, None, None, file)
    from emokit.spec import ModelSpec  # noqa: PLC0415

    try:
        data = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EmokitError(f"{sidecar} cannot be read as JSON ({exc}); write it again with "
                          "`python -m emokit.inference.bundled RUN FILE`.") from None
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, int) or version > VERSION:
        raise EmokitError(f"{sidecar}: description version {version!r} is newer than this emokit reads ({VERSION}); upgrade emokit.")
    try:
        spec = ModelSpec.from_json(json.dumps(data["spec"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise EmokitError(f"{sidecar}: malformed model spec ({type(exc).__name__}: {exc}).") from None
    preprocessing = Preprocessing.from_dict(data.get("preprocessing") or {}, str(sidecar))
    return ModelSource(spec, preprocessing, None, file, about=dict(data.get("about") or {}))


def model_file(record: ModelRecord) -> Path:
    """The path of a bundled model's file (a record's ``file`` may be a callable that gives it)."""
    file = record.file
    return Path(file() if callable(file) and not isinstance(file, Path) else file)


def is_available(record: ModelRecord) -> bool:
    """Whether the record's file is there (a package built without it, or a model not added yet, is not)."""
    try:
        return model_file(record).is_file()
    except Exception:  # noqa: BLE001 - a plugin's callable may fail in any way; then the model is not available
        return False


def bundled_source(record: ModelRecord) -> ModelSource:
    """The :class:`ModelSource` of a bundled model, after checking its file's SHA-256 against the record."""
    from emokit.artefacts import file_digest  # noqa: PLC0415

    file = model_file(record)
    if not file.is_file():
        raise EmokitError(f"Bundled model '{record.name}' has no file at {file}; reinstall the package that provides it.")
    digest = file_digest(file)
    if digest.lower() != record.sha256.lower():
        raise EmokitError(f"Bundled model '{record.name}': {file} has SHA-256 {digest[:12]}..., its record says "
                          f"{record.sha256[:12]}...; the file was changed or damaged: reinstall the package.")
    source = described_source(file)
    if source.spec is None and file.suffix != ".onnx":
        raise EmokitError(f"Bundled model '{record.name}' has no description {sidecar_path(file).name} beside {file}; "
                          "reinstall the package that provides it.")
    return ModelSource(source.spec, source.preprocessing, None, file, about=source.about, model=record)


def bundled_models(registry: Registry) -> dict[str, ModelRecord]:
    """name -> record for every bundled model the registry knows (installed or not)."""
    return registry.records("model") if "model" in registry.entries else {}


def write_bundle(run: Run, target: Path, registry: Registry | None = None) -> str:
    """Copy ``run``'s current LiteRT export to ``target`` with its sidecar, and return the file's SHA-256.

    The export must be current (made from the run's weights: ``emokit export RUN --format litert
    --int8``); the sidecar records the run, its data, architecture, whether the weights are int8,
    the export's parity figures and the run's test accuracy.
    """
    from emokit.artefacts import file_digest  # noqa: PLC0415
    from emokit.inference.export_records import checked_export  # noqa: PLC0415
    from emokit.inference.preprocessing import read_preprocessing  # noqa: PLC0415
    from emokit.runs import require_usable, trained_on  # noqa: PLC0415

    require_usable(run)
    export = run.path / "model.tflite"
    record = checked_export(run, BUNDLE_FORMAT, export, "LiteRT")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(export, target)
    test = ((run.metrics().get("splits") or {}).get("test") or {})
    about = {
        "run": run.name,
        "arch": run.config().get("arch"),
        "trained_on": trained_on(run),
        "quantized": bool(record.get("quantized")),
        "parity": record.get("parity"),
        "test_accuracy": test.get("accuracy"),
        "weights_sha256": record.get("weights_sha256"),
    }
    write_description(target, run.spec().to_json(), read_preprocessing(run), about)
    return file_digest(target)


def main(argv: list[str]) -> int:
    """``python -m emokit.inference.bundled RUN TARGET``: write the bundle and print the record's sha256 line."""
    from emokit.runs import find_run  # noqa: PLC0415

    if len(argv) != 2:
        print("usage: python -m emokit.inference.bundled RUN TARGET.tflite", file=sys.stderr)
        return 2
    try:
        digest = write_bundle(find_run(argv[0]), Path(argv[1]))
    except EmokitError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {argv[1]} and {sidecar_path(Path(argv[1])).name}. Put this in its ModelRecord:")
    print(f'    sha256="{digest}",')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
