"""Issue #18: plugin option values are checked before anything runs, in one place, against the
types, ranges and choices their records declare; malformed ``--aug`` text is refused.

Every CLI case runs in-process: the checks happen while the flags are parsed, before any data is
loaded or Keras is imported, so each takes well under a second.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

import pytest

from cli_utils import run_cli
from emokit.errors import EmokitError
from emokit.options import Option, check_options, parse_named, parse_options
from emokit.records import ArchitectureRecord, AugmentationRecord, FaceDetectorRecord, default_options, record_for
from emokit.registry import build_registry, record_problems
from test_registry import install_entry_point

REPO = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).with_name("plugins")
EXAMPLE = REPO / "plugins" / "examples" / "emokit-example-plugin"

#: (flags, what the one error line must contain: the option, the value, what is allowed)
BAD_VALUES = [
    (["--set", "width=inf"], ["Architecture 'small_cnn' option 'width'", "'inf'", "finite", "> 0"]),
    (["--set", "width=nan"], ["Architecture 'small_cnn' option 'width'", "'nan'", "finite"]),
    (["--set", "width=-1"], ["Architecture 'small_cnn' option 'width'", "'-1'", "> 0"]),
    (["--set", "width=1e308"], ["Architecture 'small_cnn' option 'width'", "'1e308'", "<= 16"]),
    (["--set", "dropout=2"], ["Architecture 'small_cnn' option 'dropout'", "'2'", ">= 0 and < 1"]),
    (["--set", "dropout=1"], ["Architecture 'small_cnn' option 'dropout'", "'1'", ">= 0 and < 1"]),
    (["--set", "dense_dropout=-0.5"], ["Architecture 'small_cnn' option 'dense_dropout'", "'-0.5'", ">= 0 and < 1"]),
    (["--set", "kernel_size=0"], ["Architecture 'small_cnn' option 'kernel_size'", "'0'", "an integer >= 1"]),
    (["--set", "kernel_size=3.5"], ["Architecture 'small_cnn' option 'kernel_size'", "'3.5'", "not a valid int"]),
    (["--set", "dense_units=0"], ["Architecture 'small_cnn' option 'dense_units'", "'0'", ">= 1"]),
    (["--set", "pooling=banana"], ["Architecture 'small_cnn' option 'pooling'", "'banana'", "one of max, avg"]),
    (["--set", "pooling="], ["Architecture 'small_cnn' option 'pooling'", "no value", "one of max, avg"]),
    (["--arch", "vgg_fer", "--set", "stages=0"], ["Architecture 'vgg_fer' option 'stages'", "'0'", ">= 1"]),
    (["--arch", "vgg_fer", "--set", "pooling=average"], ["Architecture 'vgg_fer' option 'pooling'", "one of max, avg"]),
    (["--arch", "resnet_fer", "--set", "stages=40"], ["Architecture 'resnet_fer' option 'stages'", "'40'", "<= 8"]),
    (["--arch", "mini_xception", "--set", "blocks=-1"], ["Architecture 'mini_xception' option 'blocks'", "'-1'"]),
    (["--aug", "shift=factor=-5"], ["Augmentation 'shift' option 'factor'", "'-5'", ">= 0 and < 1"]),
    (["--aug", "zoom=factor=1"], ["Augmentation 'zoom' option 'factor'", "'1'", ">= 0 and < 1"]),
    (["--aug", "zoom=factor=inf"], ["Augmentation 'zoom' option 'factor'", "'inf'", "finite"]),
    (["--aug", "rotation=degrees=1e308"], ["Augmentation 'rotation' option 'degrees'", "'1e308'", ">= 0 and <= 180"]),
    (["--aug", "rotation=degrees=nan"], ["Augmentation 'rotation' option 'degrees'", "'nan'", "finite"]),
    (["--aug", "rotation=fill_mode=banana"], ["Augmentation 'rotation' option 'fill_mode'", "'banana'", "one of reflect"]),
    (["--aug", "flip=mode=sideways"], ["Augmentation 'flip' option 'mode'", "'sideways'", "one of horizontal"]),
    (["--aug", "noise=stddev=2"], ["Augmentation 'noise' option 'stddev'", "'2'", "<= 1"]),
    (["--aug", "erasing=probability=1.5"], ["Augmentation 'erasing' option 'probability'", "'1.5'", "<= 1"]),
    (["--aug", "brightness_contrast=contrast=-1"], ["Augmentation 'brightness_contrast' option 'contrast'", "'-1'"]),
]

#: Malformed ``--aug`` text: (text, what the one error line must contain)
MALFORMED_AUG = [
    ("flip=", "nothing follows"),
    ("flip:", "nothing follows"),
    ("=x", "has no name"),
    (":mode=horizontal", "has no name"),
    ("", "has no name"),
    ("rotation=degrees", "expected key=value, got 'degrees'"),
    ("rotation:degrees=", "option 'degrees' has no value"),
    ("rotation=degrees=5,=3", "expected key=value, got '=3'"),
]


#: Given to every ``train`` here: a value that slipped through would fail on this path in a second,
#: instead of training, so the test fails fast (and shows the values are checked before any data).
NO_DATA = ("--data", "/no/such/data.zip", "--epochs", "1")


def one_error_line(capsys, tmp_path, monkeypatch, *args: str) -> str:
    """Run ``emokit ARGS``; assert exit 2 with one line and no traceback; return the line, unwrapped."""
    monkeypatch.setenv("EMOKIT_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "400")
    code, out, err = run_cli(capsys, *args)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir()), "nothing ran: no run folder was made"
    return " ".join(err.split())


@pytest.mark.parametrize(("flags", "parts"), BAD_VALUES, ids=[" ".join(f) for f, _ in BAD_VALUES])
def test_train_refuses_a_bad_option_value_in_one_line(capsys, tmp_path, monkeypatch, flags, parts):
    line = one_error_line(capsys, tmp_path, monkeypatch, "train", *flags, *NO_DATA)
    for part in parts:
        assert part in line, line


@pytest.mark.parametrize(("text", "part"), MALFORMED_AUG, ids=[repr(t) for t, _ in MALFORMED_AUG])
def test_train_refuses_malformed_aug_text_in_one_line(capsys, tmp_path, monkeypatch, text, part):
    line = one_error_line(capsys, tmp_path, monkeypatch, "train", "--aug", text, *NO_DATA)
    assert part in line, line


def test_describe_checks_set_values_too(capsys, tmp_path, monkeypatch):
    line = one_error_line(capsys, tmp_path, monkeypatch, "describe", "--arch", "small_cnn", "--set", "width=inf")
    assert "Architecture 'small_cnn' option 'width'" in line and "finite" in line


@pytest.fixture(scope="module")
def registry():
    """The installed plugins, emokit's built-ins among them."""
    return build_registry(blocked=())


def test_good_values_parse_to_the_declared_types(registry):
    small = registry.get("architecture", "small_cnn")
    parsed = parse_options(["width=1,kernel_size=5", "pooling=avg,batch_norm=off,dropout=0"], small.options,
                           "Architecture 'small_cnn'")
    assert parsed == {"width": 1.0, "kernel_size": 5, "pooling": "avg", "batch_norm": False, "dropout": 0.0}
    assert type(parsed["width"]) is float and type(parsed["kernel_size"]) is int
    name, pairs = parse_named("rotation:degrees=180,fill_mode=nearest")
    rotation = registry.get("augmentation", name)
    assert parse_options(pairs, rotation.options, "Augmentation 'rotation'") == {"degrees": 180.0, "fill_mode": "nearest"}
    assert parse_named("flip") == ("flip", [])
    assert parse_named(" shift=factor=0.2 ") == ("shift", ["factor=0.2"])


def test_aug_name_ends_at_the_first_separator():
    # "a=b:c" used to split at the ':' and look for an augmentation called "a=b".
    assert parse_named("rotation=fill_mode=nearest:x") == ("rotation", ["fill_mode=nearest:x"])


def test_options_stay_a_plain_mapping_of_defaults(registry):
    """Existing code passes ``**record.options`` to build and writes it as JSON; both keep working."""
    for kind in ("architecture", "augmentation", "face_detector"):
        for name in registry.names(kind):
            options = registry.get(kind, name).options
            assert not any(isinstance(v, Option) for v in options.values()), (kind, name)
            assert json.loads(json.dumps(options)) == {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}
    small = registry.get("architecture", "small_cnn")
    assert small.build(input_shape=(48, 48, 1), class_names=("a", "b"), **small.options).options["width"] == 1.0


def test_every_built_in_option_declares_what_it_allows(registry):
    """Numbers declare a range, text declares its choices, and every default is allowed by its own rule."""
    for kind in ("architecture", "augmentation", "face_detector"):
        for name in registry.names(kind):
            options = registry.get(kind, name).options
            for key, rule in options.rules.items():
                default = options[key]
                if isinstance(default, str):
                    assert rule.choices, f"{kind} {name} option {key} declares no choices"
                elif isinstance(default, (int, float)) and not isinstance(default, bool):
                    assert rule.bounds(), f"{kind} {name} option {key} declares no range"
            assert check_options(dict(options), options, f"{kind} {name}") == dict(options)


def test_python_api_values_are_checked_in_the_same_place(registry):
    """A TrainConfig built in Python gets the same checks as the CLI: ``check_options`` on typed values."""
    small = registry.get("architecture", "small_cnn")
    for bad, part in [({"width": math.inf}, "finite"), ({"kernel_size": 2.5}, "an integer"),
                      ({"kernel_size": True}, "an integer"), ({"pooling": "banana"}, "one of max, avg"),
                      ({"dropout": 1.0}, "< 1"), ({"depth": 3}, "has no option 'depth'")]:
        with pytest.raises(EmokitError, match="Architecture 'small_cnn'") as caught:
            check_options(bad, small.options, "Architecture 'small_cnn'")
        assert part in str(caught.value) and "\n" not in str(caught.value)
    assert check_options({"width": 2, "pooling": "avg"}, small.options, "x") == {"width": 2, "pooling": "avg"}


def test_third_party_plugin_with_plain_defaults_still_works(monkeypatch):
    """A plugin written before Option existed: its types are still checked, and non-finite numbers refused."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    registry = build_registry([("good", importlib.import_module("plugin_good"))], use_entry_points=False, blocked=())
    arch = registry.get("architecture", "tiny_test_arch")
    assert parse_options(["filters=8"], arch.options, "Architecture 'tiny_test_arch'") == {"filters": 8}
    aug = registry.get("augmentation", "test_brightness")
    assert parse_options(["factor=5"], aug.options, "a") == {"factor": 5.0}, "no range declared: any finite number"
    with pytest.raises(EmokitError, match=r"Augmentation 'test_brightness' option 'factor': 'nan' is not a finite number"):
        parse_options(["factor=nan"], aug.options, "Augmentation 'test_brightness'")
    with pytest.raises(EmokitError, match=r"option 'filters': '2.5' is not a valid int"):
        parse_options(["filters=2.5"], arch.options, "Architecture 'tiny_test_arch'")
    assert arch.build(input_shape=(48, 48, 1), class_names=("a", "b"), **arch.options).options == {"filters": 4}
    unlimited = AugmentationRecord("x", "x", lambda keras, limit=math.inf: [], {"limit": math.inf})
    assert unlimited.options == {"limit": math.inf}, "a plain default is taken as it is, even one a user may not type"


def test_third_party_plugin_options_are_checked_by_the_cli(capsys, tmp_path, monkeypatch):
    site = tmp_path / "site"
    install_entry_point(site, "emokit-good", "good", "plugin_good")
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.syspath_prepend(str(site))
    runs = tmp_path / "runs"
    runs.mkdir()
    line = one_error_line(capsys, runs, monkeypatch, "train", "--arch", "tiny_test_arch", "--set", "filters=x", *NO_DATA)
    assert "Architecture 'tiny_test_arch' option 'filters': 'x' is not a valid int" in line
    line = one_error_line(capsys, runs, monkeypatch, "train", "--arch", "tiny_test_arch", "--aug", "test_brightness=factor=inf", *NO_DATA)
    assert "Augmentation 'test_brightness' option 'factor': 'inf' is not a finite number" in line


def test_records_accept_option_declarations_in_every_form():
    def build(input_shape, class_names, width: float = 1.0, mode: str = "a"):
        return None

    declared = {"width": Option(1.0, above=0, help="Scales every layer"), "mode": Option("a", choices=("a", "b"))}
    by_record = ArchitectureRecord("x", "x", build, declared)
    by_record_for = record_for(ArchitectureRecord, build, "x", width=Option(above=0), mode=Option(choices=("a", "b")))
    by_default_options = ArchitectureRecord("x", "x", build, default_options(build, width=Option(above=0),
                                                                                mode=Option(choices=("a", "b"))))
    for record in (by_record, by_record_for, by_default_options):
        assert dict(record.options) == {"width": 1.0, "mode": "a"}
        assert record.options.rules["width"].above == 0 and record.options.rules["mode"].choices == ("a", "b")
        assert record_problems(record, "architecture") == []
        with pytest.raises(EmokitError, match=r"'0' is not allowed\. Allowed: a finite number > 0\."):
            parse_options(["width=0"], record.options, "Architecture 'x'")
    assert by_record.options.rules["width"].help == "Scales every layer"


def test_a_default_outside_its_own_declaration_is_a_plugin_error():
    def build(keras, factor: float = 2.0):
        return []

    with pytest.raises(ValueError, match=r"option 'factor': its default 2.0 is not allowed by its declaration"):
        record_for(AugmentationRecord, build, "x", factor=Option(at_most=1))
    with pytest.raises(ValueError, match=r"option 'nope' is not a keyword argument of build"):
        record_for(AugmentationRecord, build, "x", nope=Option(at_most=1))
    with pytest.raises(ValueError, match=r"option 'size' declares no default"):
        FaceDetectorRecord("x", "x", build, {"size": Option(at_least=1)})


def test_the_example_plugin_declares_its_options(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    for module in [m for m in sys.modules if m.startswith("emokit_example")]:
        monkeypatch.delitem(sys.modules, module)
    registry = build_registry([("example", importlib.import_module("emokit_example.plugin"))],
                              use_entry_points=False, blocked=())
    lenet = registry.get("architecture", "lenet")
    with pytest.raises(EmokitError, match=r"Architecture 'lenet' option 'width': '0' is not allowed"):
        parse_options(["width=0"], lenet.options, "Architecture 'lenet'")
    with pytest.raises(EmokitError, match="one of max, avg"):
        parse_options(["pooling=banana"], lenet.options, "Architecture 'lenet'")
    with pytest.raises(EmokitError, match=r">= 1"):
        parse_options(["max_gamma=0.5"], registry.get("augmentation", "gamma").options, "Augmentation 'gamma'")
    with pytest.raises(EmokitError, match=r">= 0 and < 0.5"):
        parse_options(["margin=0.5"], registry.get("face_detector", "whole_image").options, "Face detector 'whole_image'")


def test_plugins_listing_does_not_mention_a_brief(capsys, registry):
    code, out, err = run_cli(capsys, "plugins")
    assert code == 0, err
    assert "brief" not in out.lower()
    for kind in ("architecture", "augmentation"):
        for name in registry.names(kind):
            record = registry.get(kind, name)
            assert "brief" not in (record.summary + (record.build.__doc__ or "")).lower(), name
