"""The frozen description of a training: everything needed to run it again exactly."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("plateau", "cosine", "none")


@dataclass(frozen=True)
class TrainConfig:
    """A training's settings. The CLI builds one from flags; ``config.json`` in the run stores it."""

    arch: str = "small_cnn"
    arch_options: dict[str, Any] = field(default_factory=dict)
    #: A dataset path, or ``None`` for the built-in synthetic set.
    data: str | None = None
    #: A dataset plugin name, to override the one picked from the path.
    dataset: str | None = None
    backend: str | None = None
    #: (name, options) per augmentation, applied in this order.
    augmentations: tuple[tuple[str, dict[str, Any]], ...] = ()
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    schedule: str = "plateau"
    label_smoothing: float = 0.0
    #: ``float32`` or ``mixed_bfloat16`` (bfloat16 compute, float32 weights; see ``emokit.builder``).
    precision: str = "float32"
    patience: int = 8
    class_weights: bool = False
    seed: int = 0
    val_fraction: float = 0.1
    image_size: int = 48
    channels: int = 1
    #: The seed that draws the data (generated faces, carved validation and test splits); ``None``: ``seed``.
    #: A seed group's runs share their first run's, so they are tested on the same faces.
    data_seed: int | None = None
    #: The seed group this run belongs to (``emokit train --seeds N``), or ``None`` for a run trained alone.
    group: str | None = None
    #: The sweep (Optuna study) and trial number this run is a trial of (``emokit sweep``), else ``None``.
    study: str | None = None
    trial: int | None = None

    @property
    def split_seed(self) -> int:
        """The seed the dataset is drawn and split with (see :attr:`data_seed`)."""
        return self.seed if self.data_seed is None else self.data_seed

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["augmentations"] = [[name, opts] for name, opts in self.augmentations]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        data = dict(data)
        data["augmentations"] = tuple((name, dict(opts)) for name, opts in data.get("augmentations", ()))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})
