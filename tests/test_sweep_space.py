"""`emokit sweep`'s search space (a TOML file), the settings it applies to a run, and the one-line errors, with no
training: the space is checked against `emokit train`'s own rules before the first trial."""

from __future__ import annotations

import shlex

import pytest

from cli_utils import run_cli
from emokit.errors import EmokitError
from emokit.registry import build_registry
from emokit.training.config import TrainConfig

pytest.importorskip("optuna")

from emokit.sweep.commands import train_command_line  # noqa: E402
from emokit.sweep.space import load_space  # noqa: E402
from emokit.sweep.study import SweepSettings, study_name  # noqa: E402

SPACE = """
[lr]
type = "float"
low = 1e-4
high = 1e-2
log = true

[batch_size]
type = "categorical"
choices = [32, 64]

["set.width"]
type = "categorical"
choices = [0.5, 1.0]

["aug.shift.factor"]
type = "float"
low = 0.0
high = 0.2
step = 0.1

["aug.flip.mode"]
type = "categorical"
choices = ["horizontal"]

[epochs]
type = "int"
low = 2
high = 6
step = 2
"""


@pytest.fixture(scope="module")
def registry():
    return build_registry()


@pytest.fixture()
def base():
    return TrainConfig(arch="small_cnn", epochs=3, augmentations=(("flip", {}),))


def write(tmp_path, text: str):
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


def test_a_space_sets_flags_architecture_and_augmentation_options(tmp_path, registry, base):
    space = load_space(write(tmp_path, SPACE), base, registry)
    assert [p.name for p in space.parameters] == ["lr", "batch_size", "set.width", "aug.shift.factor", "aug.flip.mode", "epochs"]
    config = space.apply(base, {"lr": 0.003, "batch_size": 32, "set.width": 0.5, "aug.shift.factor": 0.1,
                                "aug.flip.mode": "horizontal", "epochs": 4})
    assert (config.lr, config.batch_size, config.epochs) == (0.003, 32, 4)
    assert config.arch_options == {"width": 0.5}
    # flip was in the base command: its option is set there; shift was not: it is added after it.
    assert config.augmentations == (("flip", {"mode": "horizontal"}), ("shift", {"factor": 0.1}))
    assert base.augmentations == (("flip", {}),)  # the base is untouched


def test_the_grid_sampler_needs_steps_or_choices(tmp_path, registry, base):
    stepped = '[label_smoothing]\ntype = "float"\nlow = 0.0\nhigh = 0.2\nstep = 0.1\n\n[epochs]\ntype = "int"\nlow = 2\nhigh = 6\nstep = 2\n'
    assert load_space(write(tmp_path, stepped), base, registry).grid() == {"label_smoothing": [0.0, 0.1, 0.2], "epochs": [2, 4, 6]}
    with pytest.raises(EmokitError, match="'lr' is a float range without a step; the grid sampler"):
        load_space(write(tmp_path, SPACE), base, registry).grid()


@pytest.mark.parametrize("text, message", [
    ('[lrr]\ntype = "float"\nlow = 1\nhigh = 2\n', "'lrr' is not a setting a sweep can vary. Use one of arch, epochs"),
    ('[data]\ntype = "categorical"\nchoices = ["a"]\n', "'data' is not a setting a sweep can vary"),
    ('["set.widht"]\ntype = "float"\nlow = 0.5\nhigh = 1.0\n', "architecture 'small_cnn' has no option 'widht'. It has: "),
    ('["aug.shift.factr"]\ntype = "float"\nlow = 0.0\nhigh = 0.2\n', "augmentation 'shift' has no option 'factr'. It has: factor"),
    ('["aug.shfit.factor"]\ntype = "float"\nlow = 0.0\nhigh = 0.2\n', "Unknown augmentation 'shfit'. Did you mean 'shift'?"),
    ('[lr]\ntype = "uniform"\nlow = 0.1\nhigh = 0.2\n', "'lr' has type 'uniform'; expected one of float, int, categorical"),
    ('[lr]\ntype = "float"\nlow = 0.2\nhigh = 0.1\n', "'lr' has low 0.2 above high 0.1"),
    ('[lr]\ntype = "float"\nlow = 0.0\nhigh = 0.1\nlog = true\n', "log-uniform, so low must be above 0"),
    ('[lr]\ntype = "float"\nlow = 0.0\nhigh = 0.1\n', "'lr' = 0.0: --lr must be a positive finite number, got 0.0."),
    ('[optimizer]\ntype = "categorical"\nchoices = ["adam", "adamm"]\n', "Unknown optimizer 'adamm'"),
    ('[epochs]\ntype = "int"\nlow = 1.5\nhigh = 3\n', "'epochs' needs numbers low and high (int)"),
    ('[lr]\ntype = "float"\nlow = 0.1\nhigh = 0.2\nsetp = 0.1\n', "'lr' has unknown key(s) setp"),
    ("[lr\n", "is not valid TOML"),
    ("", "has no parameters"),
])
def test_a_bad_space_is_one_line_naming_the_file_and_parameter(tmp_path, registry, base, text, message):
    with pytest.raises(EmokitError, match="space") as caught:
        load_space(write(tmp_path, text), base, registry)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_space_file_is_named(tmp_path, registry, base):
    with pytest.raises(EmokitError, match="Search space file '.*nope.toml' does not exist."):
        load_space(tmp_path / "nope.toml", base, registry)


def test_a_trial_is_written_back_as_the_train_command_that_reruns_it(tmp_path, registry, base):
    from emokit.cli.sweep import _train_flags
    from emokit.cli.train import config_from_flags

    space = load_space(write(tmp_path, SPACE), base, registry)
    config = space.apply(base, {"lr": 0.003, "batch_size": 32, "set.width": 0.5, "aug.shift.factor": 0.1,
                                "aug.flip.mode": "horizontal", "epochs": 4})
    command = train_command_line(config)
    assert command.startswith("emokit train --arch small_cnn --epochs 4 --set width=0.5 --aug flip=mode=horizontal "
                              "--aug shift=factor=0.1 --batch-size 32 --lr 0.003")
    flags = _train_flags(shlex.split(command)[2:])
    for name in ("out", "resume", "seeds", "ctx"):
        flags.pop(name, None)
    assert config_from_flags(registry, **flags) == config


def test_the_same_command_names_the_same_study(base):
    assert study_name(base, SPACE) == study_name(TrainConfig(arch="small_cnn", epochs=3, augmentations=(("flip", {}),)), SPACE)
    assert study_name(base, SPACE) != study_name(base, SPACE + "\n# another space\n")
    assert study_name(base, SPACE).startswith("small_cnn-")


@pytest.mark.parametrize("settings, message", [
    (SweepSettings(trials=0), "--trials must be at least 1, got 0."),
    (SweepSettings(trials=2, sampler="bayes"), "Unknown sampler 'bayes'. Available: tpe, random, grid."),
    (SweepSettings(trials=2, pruner="hyperband"), "Unknown pruner 'hyperband'. Available: median, none."),
])
def test_sweep_settings_are_checked(settings, message):
    with pytest.raises(EmokitError) as caught:
        settings.check()
    assert str(caught.value) == message


def test_the_command_refuses_what_a_sweep_cannot_do_in_one_line(tmp_path, capsys):
    path = write(tmp_path, SPACE)
    code, _, err = run_cli(capsys, "sweep", "--space", str(path), "--trials", "2", "--resume", "x")
    assert code != 0 and "emokit sweep cannot take --resume" in err
    code, _, err = run_cli(capsys, "sweep", "--space", str(path), "--bogus", "1")
    assert code != 0 and "No such option: --bogus" in err
    code, _, err = run_cli(capsys, "sweep", "--trials", "2")
    assert code != 0 and "emokit sweep needs --space FILE" in err
    code, _, err = run_cli(capsys, "sweep", "show", "--runs", str(tmp_path / "empty"))
    assert code != 0 and "No sweeps in" in err
