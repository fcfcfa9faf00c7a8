"""The decoded-array cache: where it lives, that a second load reads it, and when it is rebuilt."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

import emokit.data.image_layout as image_layout
from emokit.data.cache import cache_dir
from emokit.records import DataRequest
from emokit_plugins.image_folder import load_image_folder


def make_folder(root: Path, per_class: int = 6) -> Path:
    for k, name in enumerate(("a", "b")):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            cv2.imwrite(str(root / name / f"{i}.png"), np.full((20, 20), 50 * k + i, dtype=np.uint8))
    return root


def cache_files() -> list[Path]:
    return sorted((cache_dir() / "datasets").glob("*"))


def test_cache_location_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EMOKIT_CACHE_DIR", str(tmp_path / "explicit"))
    assert cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("EMOKIT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "emokit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "emokit"


def test_second_load_reads_the_cache_and_a_change_rebuilds_it(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOKIT_CACHE_DIR", str(tmp_path / "cache"))
    root = make_folder(tmp_path / "data")
    first = load_image_folder(DataRequest(source=root))
    assert [p.suffix for p in cache_files()] == [".npz"]  # written atomically: no temp file left

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again instead of reading the cache")

    monkeypatch.setattr(image_layout, "decode_many", no_decoding)
    progress: list[tuple[int, int]] = []
    second = load_image_folder(DataRequest(source=root, progress=lambda d, t: progress.append((d, t))))
    assert progress == [(12, 12)]
    assert second.fingerprint == first.fingerprint
    for name in first.splits:
        assert np.array_equal(second.splits[name].images, first.splits[name].images)
        assert np.array_equal(second.splits[name].labels, first.splits[name].labels)

    # Anything the arrays depend on is part of the key: a new image size or a changed source misses.
    with pytest.raises(AssertionError, match="decoded again"):
        load_image_folder(DataRequest(source=root, image_size=(32, 32)))
    cv2.imwrite(str(root / "a" / "extra.png"), np.zeros((20, 20), dtype=np.uint8))
    with pytest.raises(AssertionError, match="decoded again"):
        load_image_folder(DataRequest(source=root))


def test_use_cache_false_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOKIT_CACHE_DIR", str(tmp_path / "cache"))
    load_image_folder(DataRequest(source=make_folder(tmp_path / "data"), use_cache=False))
    assert cache_files() == []


def test_a_damaged_cache_entry_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("EMOKIT_CACHE_DIR", str(tmp_path / "cache"))
    root = make_folder(tmp_path / "data")
    first = load_image_folder(DataRequest(source=root))
    (entry,) = cache_files()
    entry.write_bytes(b"garbage")
    again = load_image_folder(DataRequest(source=root))
    assert np.array_equal(again.splits["train"].images, first.splits["train"].images)


def test_the_skipped_warning_is_repeated_on_a_cache_hit(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("EMOKIT_CACHE_DIR", str(tmp_path / "cache"))
    root = make_folder(tmp_path / "data", per_class=30)
    (root / "a" / "0.png").write_bytes(b"junk")
    for _ in range(2):
        caplog.clear()
        dataset = load_image_folder(DataRequest(source=root))
        assert dataset.skipped == 1
        assert "skipped 1 of 60 images" in caplog.text and "0.png" in caplog.text
    caplog.clear()
    load_image_folder(DataRequest(source=make_folder(tmp_path / "clean")))
    assert not caplog.records  # no warning when none skipped
