"""The demo with a bundled model: served by default over a synthetic-trained run, named with its accuracy
on the page and in the terminal, and the photo tab's test-time augmentation choice with its measured cost.

Against the real app in this process (``gradio_client`` on 127.0.0.1), and once in a real Chromium against
``emokit demo`` (the acceptance check: the bundled model named on the page, a real face answered). The
bundled model is the stand-in (tests/standin_model.py) until the trained ``fer2013`` file is added.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import cv2
import pytest

from emokit.demo.engine import BUNDLED, ModelCache, run_choices
from standin_model import NAME, install_standin, make_standin, standin_environment, standin_registry

pytestmark = pytest.mark.slow
gradio_client = pytest.importorskip("gradio_client")
pytest.importorskip("skimage")

KEY = BUNDLED + NAME
#: The trained model that ships (absent before it is bundled).
REAL_MODEL = Path(__file__).resolve().parents[1] / "plugins" / "models" / "fer2013.tflite"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def standin(trained_run, tmp_path_factory):
    return make_standin(trained_run, tmp_path_factory.mktemp("standin"))


@pytest.fixture(scope="module")
def runs(trained_run, tmp_path_factory):
    """A runs folder holding a copy of the synthetic-trained run."""
    root = tmp_path_factory.mktemp("runs")
    shutil.copytree(trained_run.path, root / trained_run.name, ignore=shutil.ignore_patterns("checkpoint"))
    return root


@pytest.fixture(scope="module")
def registry(standin):
    with pytest.MonkeyPatch.context() as patch:
        yield standin_registry(standin, patch)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    from skimage import data

    path = tmp_path_factory.mktemp("photo") / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def test_the_bundled_model_is_chosen_over_a_synthetic_run_but_a_named_run_wins(runs, registry, trained_run):
    choice = run_choices(runs, None, registry)
    assert choice.selected == KEY and choice.names == [KEY, trained_run.name]
    assert run_choices(runs, trained_run.name, registry).selected == trained_run.name
    assert run_choices(runs, NAME, registry).selected == KEY
    assert run_choices(runs, None).selected == trained_run.name  # no bundled model known: the newest run, as before


def test_serving_line_names_the_bundled_model_and_its_accuracy(runs, registry):
    from emokit.demo.app import serving_line

    line = serving_line(run_choices(runs, None, registry), ModelCache(registry))
    assert line.startswith(f"Serving bundled model {NAME} · trained on synthetic faces (stand-in) · accuracy synthetic test ")
    assert line.endswith("runtime litert-int8.")


@pytest.fixture(scope="module")
def app(runs, registry, tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo-bundled")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_TEMP_DIR", str(folder / "gradio"))
        patch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        from emokit.demo.app import build_demo
        from emokit.demo.launch import local_theme

        demo = build_demo(runs, registry=registry, forget_after_s=5)
        demo.queue()
        demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True,
                    ssr_mode=False, theme=local_theme(), max_file_size="5mb")
        try:
            yield gradio_client.Client(demo.local_url, verbose=False, download_files=False)
        finally:
            demo.close()


def test_the_page_says_which_model_answers_with_its_accuracy(app):
    info, summary, curves, confusion = app.predict(KEY, api_name="/run")
    assert f"**Answering:** bundled model {NAME} · trained on synthetic faces (stand-in) · accuracy synthetic test" in info
    assert "runtime litert-int8" in info and "docs/model-card.md" in info
    assert f"### {NAME} (bundled model)" in summary and "| measured on | accuracy |" in summary


def test_the_photo_tab_offers_tta_with_its_cost(app, photo, trained_run):
    costs = {}
    for mode, calls in (("none", 1), ("flip", 2), ("ten-crop", 10)):
        annotated, saliency, status, first, *_ = app.predict(gradio_client.handle_file(str(photo)), KEY, mode,
                                                             api_name="/analyze")
        assert "Found 1 face" in status, status
        assert f"Test-time augmentation: **{mode}** · {calls} model input" in status and f"(x{calls})" in status
        costs[mode] = float(status.rsplit("took ", 1)[1].split(" ms")[0])
        confidences = {c["label"]: c["confidence"] for c in first["value"]["confidences"]}
        assert set(confidences) == set(trained_run.spec().class_names)
    assert all(ms > 0 for ms in costs.values()), costs
    # A run still answers when chosen, and the mode defaults to none for callers that do not send it.
    *_, status, first, _, _, _ = app.predict(gradio_client.handle_file(str(photo)), trained_run.name, api_name="/analyze")
    assert "Found 1 face" in status and "**none**" in status


def _answer_in_browser(demo_url: str, photo, name: str, *, try_tta: bool = False) -> str:
    """Open the demo in Chromium, check the page names the bundled model ``name``, upload ``photo``; the status."""
    from browser_utils import CHROMIUM_ARGS, chromium_path

    chromium = chromium_path()
    if chromium is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(demo_url)
            page.wait_for_selector("#photo-input", timeout=60_000)
            page.wait_for_function("document.querySelector('#run-info').innerText.includes('bundled model')",
                                   timeout=60_000)
            assert f"bundled model {name}" in page.locator("#run-info").inner_text()
            page.locator("#photo-input input[type=file]").set_input_files(str(photo))
            page.wait_for_selector("#face-label-0", state="visible", timeout=60_000)
            status = page.locator("#photo-status").inner_text()
            if try_tta:
                page.locator("#photo-tta").get_by_test_id("ten-crop-radio-label").click()
                page.wait_for_function("document.querySelector('#photo-status').innerText.includes('x10')", timeout=60_000)
            return status
        finally:
            browser.close()


def test_emokit_demo_in_a_browser_names_the_bundled_model_and_answers_a_real_face(standin, runs, photo, tmp_path, monkeypatch):
    from browser_utils import running_demo
    from plugin_utils import PLUGINS

    site = tmp_path / "site"
    install_standin(site)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(PLUGINS)]))
    for key, value in standin_environment(standin).items():
        monkeypatch.setenv(key, value)
    with running_demo(None, tmp_path / "demo-tmp", "--runs", str(runs)) as demo:
        assert any(f"Serving bundled model {NAME}" in line for line in demo.output), demo.output
        assert "Found 1 face" in _answer_in_browser(demo.url, photo, NAME, try_tta=True)


@pytest.mark.skipif(not REAL_MODEL.is_file(), reason="the trained fer2013 model is not in this checkout")
def test_emokit_demo_serves_the_trained_bundled_model_and_the_astronaut_is_happy(photo, tmp_path):
    """The acceptance check with the file that ships: no run anywhere, `emokit demo` serves fer2013, names it, and
    a smiling face is happy."""
    from browser_utils import running_demo

    empty = tmp_path / "no-runs"
    empty.mkdir()
    with running_demo(None, tmp_path / "demo-tmp", "--runs", str(empty)) as demo:
        assert any("Serving bundled model fer2013 · trained on FER-2013" in line for line in demo.output), demo.output
        status = _answer_in_browser(demo.url, photo, "fer2013")
    assert status.startswith("Found 1 face: 1. happy ("), status
