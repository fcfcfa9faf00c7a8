"""Issue #18's demo changes in a real headless Chromium against `emokit demo` serving a runs folder that
holds a trained run and a newer run still training: the run that can answer is the default, the page
says what answers (data, test accuracy, runtime), and replacing a photo without Clear shows no error."""

from __future__ import annotations

import json
import shutil
import time

import cv2
import numpy as np
import pytest

from browser_utils import CHROMIUM_ARGS, chromium_path, running_demo, webcam_frame

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = chromium_path()
if CHROMIUM is None:
    pytest.skip("Chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

FORGET_AFTER_S = 2
IN_PROGRESS = "zz-still-training"


@pytest.fixture(scope="module")
def demo(trained_run, tmp_path_factory):
    """`emokit demo --runs FOLDER` (no run named: the default is the demo's choice). The bundled model is
    blocked: with it, the default would be the bundled model (tests/test_demo_bundled.py checks that)."""
    runs = tmp_path_factory.mktemp("runs-issue18")
    shutil.copytree(trained_run.path, runs / trained_run.name, ignore=shutil.ignore_patterns("checkpoint"))
    newer = runs / IN_PROGRESS
    newer.mkdir()
    for name in ("config.json", "spec.json"):
        shutil.copyfile(trained_run.path / name, newer / name)  # copied now: the newest run by config time
    (newer / "status.json").write_text(json.dumps({"state": "running", "epoch": 0}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMOKIT_BLOCK_PLUGINS", "models")
        with running_demo(None, tmp_path_factory.mktemp("demo-tmp-issue18"), "--runs", str(runs),
                          "--forget-after", str(FORGET_AFTER_S)) as process:
            yield process


@pytest.fixture(scope="module")
def page(demo, tmp_path_factory):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(demo.url)
            page.wait_for_selector("#photo-input", timeout=60_000)
            yield page
        finally:
            browser.close()


def test_the_page_says_what_answers_and_the_run_still_training_is_not_the_default(demo, page, trained_run):
    printed = "".join(demo.output)
    assert f"Serving run {trained_run.name}" in printed and "runtime " in printed  # `emokit demo` says it too
    page.wait_for_function("() => /Answering/.test(document.querySelector('#run-info').innerText)", timeout=60_000)
    info = page.locator("#run-info").inner_text()
    assert "trained on synthetic faces" in info and "test accuracy" in info and "runtime" in info
    assert "Synthetic model" in info  # said plainly
    assert trained_run.name in page.locator("#run-select input").input_value()
    page.locator("#run-select input").click()
    options = page.locator("[role=option]").all_inner_texts()
    page.keyboard.press("Escape")
    listed = [o for o in options if IN_PROGRESS in o]
    assert listed and "cannot answer" in listed[0] and "no trained weights yet" in listed[0], options


def test_replacing_a_photo_without_clear_shows_no_error(demo, page, tmp_path):
    frame = webcam_frame()
    paths = []
    for i, shift in enumerate((0, 60)):
        path = tmp_path / f"photo-{i}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(np.roll(frame, shift, axis=1), cv2.COLOR_RGB2BGR))
        paths.append(path)
    for path in paths:  # the second replaces the first: no Clear in between
        page.locator("#photo-input input[type=file]").set_input_files(str(path))
        page.wait_for_function(
            "() => /^Found 1 face/.test(document.querySelector('#photo-status').innerText.trim())", timeout=120_000)
        time.sleep(FORGET_AFTER_S + 2)  # the first photo's file is swept before the second one comes
    assert page.locator("#photo-preview img, #photo-input img").count() >= 1  # the preview still shows
    errors = [t for t in page.locator(".toast-wrap").all_inner_texts() if t.strip()]
    assert errors == [], errors
    assert "Traceback" not in "".join(demo.output)
    assert demo.user_files() == []  # nothing of either photo is left
