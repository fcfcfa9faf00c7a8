"""Bad options give one clear line naming the option at fault, never a traceback."""

from __future__ import annotations

import pytest

from cli_utils import run_cli

CASES = [
    (["train", "--arch", "small_cn"], "Unknown architecture 'small_cn'. Did you mean 'small_cnn'? Available: mini_xception, resnet_fer, small_cnn, vgg_fer."),
    (["train", "--aug", "flipp"], "Unknown augmentation 'flipp'. Did you mean 'flip'?"),
    (["train", "--aug", "rotation=degres=5"], "Augmentation 'rotation' has no option 'degres'. Options: degrees, fill_mode."),
    (["train", "--aug", "zoom=factor=big"], "Augmentation 'zoom' option 'factor': 'big' is not a valid float."),
    (["train", "--backend", "tensorflw"], "Unknown backend 'tensorflw'. Did you mean 'tensorflow'?"),
    (["train", "--epochs", "0"], "--epochs must be at least 1, got 0."),
    (["train", "--lr", "-1"], "--lr must be a positive finite number, got -1.0."),
    (["train", "--batch-size", "0"], "--batch-size must be at least 1, got 0."),
    (["train", "--label-smoothing", "1.5"], "--label-smoothing must be in [0, 1), got 1.5."),
    (["train", "--optimizer", "adamm"], "Unknown optimizer 'adamm'. Available: adam, adamw, sgd, rmsprop."),
    (["train", "--schedule", "linear"], "Unknown schedule 'linear'. Available: plateau, cosine, none."),
    (["train", "--precision", "float16"], "Unknown precision 'float16'. Available: float32, mixed_bfloat16."),
    (["train", "--channels", "2"], "--channels must be 1 or 3, got 2."),
    (["train", "--set", "width=wide"], "Architecture 'small_cnn' option 'width': 'wide' is not a valid float."),
    (["train", "--set", "depth=3"], "Architecture 'small_cnn' has no option 'depth'. Options: batch_norm,"),
    (["train", "--set", "width"], "Architecture 'small_cnn': expected key=value, got 'width'."),
    (["train", "--data", "/no/such/fer2013.zip", "--epochs", "1"], "Data path '/no/such/fer2013.zip' does not exist."),
    (["train", "--resume", "no-such-run"], "Run 'no-such-run' not found"),
    (["describe", "--arch", "vgg"], "Unknown architecture 'vgg'. Did you mean 'vgg_fer'?"),
    (["describe", "--arch", "small_cnn", "--set", "batch_norm=maybe"], "option 'batch_norm': 'maybe' is not a valid bool."),
    (["evaluate", "no-such-run"], "Run 'no-such-run' not found"),
    (["predict", "no-such-run", "x.png"], "Run 'no-such-run' not found"),
    (["runs", "compare", "a", "b"], "Run 'a' not found"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_option_gives_one_clear_line(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("EMOKIT_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "300")
    code, out, err = run_cli(capsys, *args)
    assert code == 2, (out, err)
    assert message in " ".join(err.split()), err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_error_text_with_brackets_is_printed_verbatim(capsys, tmp_path):
    # Rich would swallow "[tensorflow]" in "pip install 'emokit[tensorflow]'" as a markup tag.
    code, out, err = run_cli(capsys, "evaluate", str(tmp_path / "runs[tensorflow]"))
    assert code == 2
    assert "runs[tensorflow]" in err and "Traceback" not in err
