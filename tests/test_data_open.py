"""Choosing a dataset for a command: default, by name, by what the path looks like; bad paths."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from emokit.data import describe_counts, open_dataset
from emokit.errors import EmokitError, UnknownNameError
from emokit.records import DataRequest
from emokit.registry import build_registry

REQUEST = DataRequest(source=None)


@pytest.fixture(scope="module")
def registry():
    return build_registry()


def make_tree(root, classes, per_class=4):
    for k, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            cv2.imwrite(str(root / name / f"{i}.png"), np.full((16, 16), 30 * k, dtype=np.uint8))
    return root


def test_the_plugins_are_registered(registry):
    assert {"fer2013", "image_folder", "synthetic"} <= set(registry.names("dataset"))
    assert "haar" in registry.names("face_detector")


def test_fer_class_folders_pick_fer2013_others_pick_image_folder(registry, tmp_path):
    fer = make_tree(tmp_path / "fer", ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"))
    assert open_dataset(registry, fer, REQUEST).name == "fer2013"
    pets = make_tree(tmp_path / "pets", ("cat", "dog"))
    dataset = open_dataset(registry, str(pets), REQUEST)
    assert dataset.name == "image_folder" and dataset.source == str(pets)


def test_a_named_dataset_is_used(registry, tmp_path):
    fer = make_tree(tmp_path / "fer", ("angry", "happy"))
    assert open_dataset(registry, fer, REQUEST, dataset="image_folder").class_names == ("angry", "happy")
    with pytest.raises(UnknownNameError, match=r"Unknown dataset 'fer2031'\. Did you mean 'fer2013'\?"):
        open_dataset(registry, fer, REQUEST, dataset="fer2031")


def test_a_path_that_does_not_exist(registry, tmp_path):
    with pytest.raises(EmokitError, match=r"^Data path '.*missing\.zip' does not exist\.$"):
        open_dataset(registry, tmp_path / "missing.zip", REQUEST)


def test_nothing_can_open_it(registry, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(EmokitError, match=r"No dataset plugin can open '.*notes\.txt'\. Dataset plugins: fer2013: .*image_folder: .*synthetic: "):
        open_dataset(registry, notes, REQUEST)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"channels": 2}, r"channels must be 1 \(grayscale\) or 3 \(RGB\), got 2\."),
        ({"image_size": (0, 48)}, r"image_size must be \(height, width\)"),
        ({"val_fraction": 1.5}, r"val_fraction must be at least 0 and below 1, got 1\.5\."),
    ],
)
@pytest.mark.parametrize("dataset", ["synthetic", "image_folder"])
def test_bad_request_options_are_one_error(registry, tmp_path, options, message, dataset):
    data = make_tree(tmp_path / "pets", ("cat", "dog")) if dataset == "image_folder" else None
    with pytest.raises(EmokitError, match=message):
        open_dataset(registry, data, DataRequest(None, **options), dataset=dataset)


def test_describe_counts(registry, tmp_path):
    dataset = open_dataset(registry, make_tree(tmp_path / "pets", ("cat", "dog"), per_class=10), DataRequest(None, val_fraction=0.2))
    rows = describe_counts(dataset)
    assert rows[0] == {"class": "cat", "train": 6, "val": 2, "test": 2, "total": 10}
    assert rows[-1] == {"class": "total", "train": 12, "val": 4, "test": 4, "total": 20}


def test_each_built_in_dataset_plugin_holds_its_own_loader(registry):
    """Issue #19: a dataset plugin is not a thin wrapper over core; its loader lives in its own module,
    and emokit.data keeps only what several plugins share."""
    import emokit.data

    from emokit.records import LazyImport

    for name in ("fer2013", "image_folder", "synthetic"):
        record = registry.get("dataset", name)
        assert registry.provider("dataset", name).module == f"emokit_plugins.{name}"
        # The record may name its loader lazily (emokit --help imports the record's module): resolve it.
        load = record.load.resolve() if isinstance(record.load, LazyImport) else record.load
        assert load.__module__.startswith(f"emokit_plugins.{name}"), load.__module__
    for stem in ("fer2013", "fer_csv", "image_folder", "synthetic"):
        assert not Path(emokit.data.__file__).with_name(f"{stem}.py").exists(), stem
