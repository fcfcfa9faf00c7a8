"""The records plugins return from their hooks: small frozen dataclasses, plain data plus a callable.

Records never hold Keras objects: a callable that needs Keras receives the module as an
argument, so a plugin module can be imported before the backend is chosen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from emokit.options import Option, OptionDefaults, declare_options, declared_options

if TYPE_CHECKING:  # numpy too: `import emokit` (every plugin, `emokit --help`) need not load it
    import numpy as np

    from emokit.spec import ModelSpec, Node


#: The ``metadata`` key of the field :func:`takes_options` marks.
OPTIONS_GO_TO = "emokit_takes_options"


def takes_options(*keywords: str) -> Any:
    """Marks a record's callable field as the one the record's ``options`` are passed to, as keywords.

    ``keywords`` are the other arguments emokit passes to it by keyword (an architecture's
    ``input_shape`` and ``class_names``). :func:`emokit.registry.record_problems` reads the mark to
    check that every declared option is a keyword the callable accepts; a new record type needs no
    other declaration.
    """
    return field(metadata={OPTIONS_GO_TO: keywords})


class _DeclaresOptions:
    """For records with ``options``: turns what the plugin gave into :class:`~emokit.options.OptionDefaults`.

    ``options`` may map names to plain defaults (the type is then the only rule) or to
    :class:`~emokit.options.Option` values that also declare a range or choices. Either way the
    record's ``options`` is afterwards a plain ``name -> default`` dict whose ``rules`` hold each
    option's declaration, which :func:`emokit.options.parse_options` checks every value against.
    """

    def __post_init__(self) -> None:
        options = getattr(self, "options")
        if isinstance(options, Mapping):  # anything else is reported by emokit.registry.record_problems
            where = f"{type(self).__name__} '{getattr(self, 'name', '?')}': "
            object.__setattr__(self, "options", declare_options(options, where))


@dataclass(frozen=True)
class ArchitectureRecord(_DeclaresOptions):
    """A CNN architecture. ``build(input_shape=..., class_names=..., **options) -> ModelSpec``."""

    name: str
    summary: str
    build: Callable[..., ModelSpec] = takes_options("input_shape", "class_names")
    #: The options ``build`` accepts: name -> default, or name -> :class:`~emokit.options.Option` (a
    #: default plus the range or choices it allows). ``--set key=value`` is converted to the default's
    #: type and checked against the declaration before anything runs.
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AugmentationRecord(_DeclaresOptions):
    """A training-time augmentation. ``build(keras, **options) -> list[keras.Layer]``.

    The layers see raw 0-255 pixels of shape (batch, H, W, C) and must be identity at inference.
    """

    name: str
    summary: str
    build: Callable[..., list[Any]] = takes_options()
    #: As :attr:`ArchitectureRecord.options`; ``--aug NAME=key=value,...`` is checked against it.
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BackendRecord:
    """A Keras 3 backend: the package it needs, the environment to set before Keras is imported."""

    name: str
    summary: str
    #: The module that must be importable for this backend (``torch``, ``jax``, ``tensorflow``).
    module: str
    #: The exact command that installs it, shown when it is missing.
    install: str
    #: Environment variables set (if not already set) before the backend library is imported.
    environment: Mapping[str, str] = field(default_factory=dict)
    #: Environment that depends on the model about to be trained (a kernel cap that only models with a
    #: crashing layer need), set like ``environment``. Called with ``None`` when the model is not known,
    #: so that answer must suit every model.
    training_environment: Callable[[ModelSpec | None], Mapping[str, str]] | None = None
    #: Extra keyword arguments for ``keras.Model.compile`` on this backend (e.g. ``jit_compile``).
    compile_options: Mapping[str, Any] = field(default_factory=dict)
    #: Why this backend cannot train a model at a ``--precision`` other than float32, or ``None`` if it
    #: can: called as ``precision_limit(spec, precision)`` before training; the reason is shown to the user.
    precision_limit: Callable[[ModelSpec, str], str | None] | None = None
    #: A faster Keras layer for a spec node while training on this backend, or ``None`` for emokit's
    #: standard layer: called as ``training_layer(keras, node, layer_kwargs)`` (``layer_kwargs``: the
    #: layer's ``name`` and ``dtype``). The layer must hold the same variables and compute the same
    #: function as the standard one: a run is saved as weights, and evaluated and served by the standard model.
    training_layer: Callable[[Any, Node, Mapping[str, Any]], Any] | None = None
    #: What ``model.fit`` is given for in-memory training or validation arrays on this backend, or
    #: ``None`` to give Keras the arrays: called as ``fit_data(images, one_hot_labels, batch_size,
    #: shuffle, seed)``; the result is passed as ``fit``'s ``x`` (e.g. a ``tf.data.Dataset`` of batches).
    #: The training data it returns may have an ``epoch`` attribute, a variable the trainer sets to the
    #: epoch index at each epoch's start, so its order can be a function of (seed, epoch) and a resumed
    #: run repeats an uninterrupted one.
    fit_data: Callable[[np.ndarray, np.ndarray, int, bool, int], Any] | None = None


@dataclass(frozen=True)
class Split:
    """One split of a dataset: uint8 images (N, H, W, C) as raw 0-255 pixels, int labels (N,)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset: class names in a fixed order, named splits, and where it came from."""

    name: str
    class_names: tuple[str, ...]
    splits: Mapping[str, Split]
    #: A short hash that changes whenever the source's content changes (used for caching and run metadata).
    fingerprint: str
    #: Human-readable origin: a path, or ``"synthetic"``.
    source: str
    #: How many unreadable items were skipped while loading.
    skipped: int = 0

    def counts(self, split: str) -> dict[str, int]:
        """Images per class in ``split``, in class order."""
        labels = self.splits[split].labels
        return {name: int((labels == i).sum()) for i, name in enumerate(self.class_names)}


@dataclass(frozen=True)
class DataRequest:
    """What a caller wants from a dataset plugin."""

    #: The file or folder given by the user; ``None`` for datasets that need none (synthetic).
    source: Path | None
    #: (height, width) every image is resized to.
    image_size: tuple[int, int] = (48, 48)
    #: 1 for grayscale, 3 for RGB.
    channels: int = 1
    #: Fraction of ``train`` carved out as a stratified, seeded ``val`` split when the source has none.
    val_fraction: float = 0.1
    seed: int = 0
    #: Whether the decoded-array cache may be used.
    use_cache: bool = True
    #: Report progress as (done, total); ``None`` for silent.
    progress: Callable[[int, int], None] | None = None


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset. ``load(request) -> Dataset``; ``can_open(path) -> bool`` picks it for ``--data PATH``."""

    name: str
    summary: str
    load: Callable[[DataRequest], Dataset]
    #: Whether ``load`` understands this path. ``False`` for other formats; for a path in its format that
    #: it still cannot open (an empty class folder, a CSV without ``pixels``), raise
    #: ``emokit.data.DatasetRejected(reason)`` so the user is told why.
    can_open: Callable[[Path], bool] = field(default=lambda path: False)


@dataclass(frozen=True)
class Box:
    """A face box in pixel coordinates of the image it was found in, with the detector's confidence."""

    x: int
    y: int
    w: int
    h: int
    #: The detector's confidence in this face, 0-1 (1.0 for detectors that give none, and for whole-image faces).
    score: float = 1.0


class FaceDetector(Protocol):
    """Finds faces: ``detect(image)`` takes uint8 (H, W) or (H, W, 3) RGB and returns boxes, largest first."""

    def detect(self, image: np.ndarray) -> list[Box]: ...


@dataclass(frozen=True)
class FaceDetectorRecord(_DeclaresOptions):
    """A face detector. ``create(**options) -> FaceDetector``."""

    name: str
    summary: str
    create: Callable[..., FaceDetector] = takes_options()
    #: As :attr:`ArchitectureRecord.options`.
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RuntimeRecord(_DeclaresOptions):
    """A way to run a trained model. ``open(model, registry, **options) -> emokit.inference.Runtime``.

    ``model`` is an :class:`emokit.inference.ModelSource` (a run folder, or an exported file); the
    runtime classifies batches of preprocessed faces. Its module is imported only when it is opened.
    """

    name: str
    summary: str
    open: Callable[..., Any] = takes_options()
    #: The module that must be importable to use this runtime (``onnxruntime``), or "" for none beyond emokit's.
    module: str = ""
    #: The exact command that installs it, shown when it is missing.
    install: str = ""
    #: File suffixes this runtime opens directly (``.onnx``), so a bare exported file picks its runtime.
    suffixes: tuple[str, ...] = ()
    #: Options ``open`` accepts (``threads``), as :attr:`ArchitectureRecord.options`.
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExporterRecord(_DeclaresOptions):
    """A format a run can be exported to. ``export(run, registry, target, **options) -> Path``.

    The exported file must be runnable by the runtime named ``runtime``: every export is checked
    against the run's Keras model on real faces through that runtime.
    """

    name: str
    summary: str
    export: Callable[..., Path] = takes_options()
    #: The runtime plugin that runs the exported file.
    runtime: str
    #: The exported file's suffix (``.onnx``); the file is ``RUN/model<suffix>``.
    suffix: str
    #: Options ``export`` accepts (``quantize``), as :attr:`ArchitectureRecord.options`.
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelRecord:
    """A pretrained model a package ships, opened by its short name (``emokit predict fer2013 photo.jpg``,
    ``emokit.load("fer2013")``); the ``default`` one answers when no model is named.

    The file is package data opened where it lies (``importlib.resources.files(__package__) / "models" /
    "x.tflite"`` is a real path once the package is installed, from a wheel too). What the runtime needs
    beyond the file (classes, input size, preprocessing) is in a JSON sidecar next to it, ``x.tflite.json``,
    written by ``python -m emokit.inference.bundling RUN TARGET`` (see :mod:`emokit.inference.bundling`).
    """

    name: str
    summary: str
    #: The model file inside the package, or a callable (a :class:`LazyImport`) that returns its path when the model is opened.
    file: Path | Callable[[], Path]
    #: The file's SHA-256 (64 hex digits), checked each time the model is opened: a changed or damaged file is refused.
    sha256: str
    #: The runtime plugin that runs the file (``litert``).
    runtime: str
    #: The dataset it learnt from, as people know it (``FER-2013``); shown wherever the model answers.
    trained_on: str = ""
    #: Measured accuracy, shown beside the model: what it was measured on -> share correct
    #: (``{"PublicTest": 0.70, "PublicTest, ten-crop": 0.72}``). Only figures measured on real held-out data.
    accuracy: Mapping[str, float] = field(default_factory=dict)
    #: Where the model card is (data, reproduction command, per-class figures, limits): a path in the
    #: repository or a URL.
    card: str = ""
    #: Whether this model answers when none is named (``emokit predict photo.jpg``, ``emokit demo``);
    #: emokit's own default wins over a third party's.
    default: bool = False


@dataclass(frozen=True)
class LazyImport:
    """A callable named as ``"package.module:attribute"``, imported the first time it is used.

    Lets a plugin list a command without importing the module that defines it, so ``emokit --help``
    (which calls every ``emokit_commands`` hook) stays fast: ``CommandRecord("train", "...",
    LazyImport("emokit.cli.train:train_command"))``.
    """

    target: str

    def resolve(self) -> Any:
        """The object ``target`` names (imports its module)."""
        import importlib  # noqa: PLC0415

        module, _, attribute = self.target.partition(":")
        found: Any = importlib.import_module(module)
        for part in attribute.split("."):
            found = getattr(found, part)
        return found

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)


@dataclass(frozen=True)
class CommandRecord:
    """A command of the ``emokit`` CLI, ``emokit NAME``; emokit's own commands come through this record too.

    ``function`` is a Typer command function (its parameters are the flags, its docstring the
    command's help), a ``typer.Typer`` (a group of sub-commands, like ``emokit runs``), or a
    :class:`LazyImport` naming either. Only ``name`` and ``summary`` are read for ``emokit --help``;
    ``function`` is turned into a command when that command runs. Import heavy modules inside the
    function, not at module level: ``emokit --help`` imports every plugin.
    """

    name: str
    #: The one line ``emokit --help`` shows beside the name.
    summary: str
    function: Callable[..., Any]


def default_options(
    build: Callable[..., Any], skip: tuple[str, ...] = ("input_shape", "class_names", "keras"), **declared: Option
) -> OptionDefaults:
    """The keyword options of ``build`` with their defaults, read from its signature.

    Lets a plugin declare options once, as ordinary keyword arguments, instead of twice.
    ``declared`` adds what an option allows, its default still read from the signature:
    ``default_options(lenet, width=Option(above=0), pooling=Option(choices=("max", "avg")))``.
    """
    import inspect

    defaults = {
        name: p.default
        for name, p in inspect.signature(build).parameters.items()
        if name not in skip and p.default is not inspect.Parameter.empty
    }
    return declared_options(build, defaults, declared)


def record_for(record_type: type, build: Callable[..., Any], summary: str, **declared: Option) -> Any:
    """A record named after ``build`` whose options are ``build``'s keyword defaults.

    ``record_for(ArchitectureRecord, small_cnn, "...", dropout=Option(at_least=0, below=1))`` is the
    usual way to declare an architecture or augmentation: the function is the single place its
    options' defaults are written, and ``declared`` adds the ranges and choices they allow.
    """
    return record_type(build.__name__, summary, build, default_options(build, **declared))
