"""docs/plugins.md stays true to the code: every hook documented with its real signature, every
record field listed, every example runnable, every tutorial excerpt present in the example package."""

from __future__ import annotations

import inspect
import re
from dataclasses import fields
from pathlib import Path

import pytest

from emokit import hookspecs
from emokit.hookspecs import RECORD_TYPES
from emokit.registry import record_problems

HOOK_FOR_KIND = {kind.name: kind.hook for kind in hookspecs.KINDS.values()}

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "plugins.md"
EXAMPLE = REPO / "plugins" / "examples" / "emokit-example-plugin"
HEADING = re.compile(r"^### `(?P<hook>\w+)\((?P<params>[^)]*)\) -> (?P<returns>[^`]+)`\s*$", re.MULTILINE)
CODE = re.compile(r"```python\n(.*?)```", re.DOTALL)
SUBSECTIONS = ("**When it is called:**", "**What to return:**", "**Example:**")


def code_signature(hook: str) -> tuple[str, str]:
    """(parameters, return annotation) of a hookspec as written in the source (annotations are strings)."""
    signature = inspect.signature(getattr(hookspecs, hook))
    params = ", ".join(p.name if p.annotation is p.empty else f"{p.name}: {p.annotation}" for p in signature.parameters.values())
    return params, str(signature.return_annotation)


def reference_sections(text: str) -> dict[str, tuple[re.Match, str]]:
    """Hook name -> (its heading, its section's text) for the '## Hook reference' part of the doc."""
    reference = text.split("\n## Hook reference\n", 1)[1].split("\n## ", 1)[0]
    headings = list(HEADING.finditer(reference))
    return {m["hook"]: (m, reference[m.end():(headings[i + 1].start() if i + 1 < len(headings) else None)])
            for i, m in enumerate(headings)}


def reference_problems(text: str) -> list[str]:
    """Hooks missing from the reference, documented with the wrong signature, or without their parts."""
    sections = reference_sections(text)
    problems = [f"hook {hook} is not in the reference" for hook in HOOK_FOR_KIND.values() if hook not in sections]
    problems += [f"{hook} is documented but is not a hook" for hook in sections if hook not in HOOK_FOR_KIND.values()]
    for kind, hook in HOOK_FOR_KIND.items():
        if hook not in sections:
            continue
        heading, body = sections[hook]
        params, returns = code_signature(hook)
        if (heading["params"], heading["returns"]) != (params, returns):
            problems.append(f"{hook}: documented as ({heading['params']}) -> {heading['returns']}, the code says ({params}) -> {returns}")
        problems += [f"{hook}: no {part} part" for part in SUBSECTIONS if part not in body]
        documented = re.findall(r"^\| `(\w+)` \|", body, re.MULTILINE)
        expected = [f.name for f in fields(RECORD_TYPES[kind])]
        if documented != expected:
            problems.append(f"{hook}: the field table lists {documented}, {RECORD_TYPES[kind].__name__} has {expected}")
    return problems


def test_every_hook_is_documented_with_its_signature_and_fields():
    assert reference_problems(DOC.read_text()) == []


def test_the_check_catches_a_missing_hook_and_a_changed_signature():
    text = DOC.read_text()
    without = re.sub(r"### `emokit_datasets\(\).*?(?=### `)", "", text, flags=re.DOTALL)
    assert reference_problems(without) == ["hook emokit_datasets is not in the reference"]
    changed = text.replace("### `emokit_backends() -> list[BackendRecord]`", "### `emokit_backends(config) -> list[BackendRecord]`")
    assert reference_problems(changed) == [
        "emokit_backends: documented as (config) -> list[BackendRecord], the code says () -> list[BackendRecord]"]


@pytest.mark.parametrize("kind", list(HOOK_FOR_KIND))
def test_hook_example_returns_well_formed_records(kind):
    hook = HOOK_FOR_KIND[kind]
    _, body = reference_sections(DOC.read_text())[hook]
    (code,) = CODE.findall(body.split("**Example:**", 1)[1])
    namespace: dict = {}
    exec(compile(code, f"docs/plugins.md:{hook}", "exec"), namespace)  # noqa: S102 - our own documentation
    records = namespace[hook]()
    assert records and all(record_problems(r, kind) == [] for r in records), [record_problems(r, kind) for r in records]


def test_tutorial_excerpts_match_the_example_package():
    """A block that starts with '# emokit_example/x.py' shows code that is really in that file."""
    tutorial = DOC.read_text().split("\n## Testing your plugin", 1)[0]
    checked = 0
    for code in CODE.findall(tutorial):
        first = code.splitlines()[0]
        if not first.startswith("# emokit_example/"):
            continue
        source = (EXAMPLE / first[2:]).read_text()
        for line in code.splitlines()[1:]:
            if line.lstrip().startswith(("def ", "class ", "@hookimpl", "from ", "import ", "return ")):
                statement = line.split("  #")[0].strip()  # the tutorial may add its own comments
                assert statement in source, f"{first[2:]} has no line {statement!r}"
        checked += 1
    assert checked == 5


def test_field_reference_is_the_generators_output():
    """docs/plugins.md's field reference is what ``python -m emokit.testing.docgen`` writes from the code."""
    from emokit.testing.docgen import with_reference  # noqa: PLC0415

    text = DOC.read_text()
    assert with_reference(text) == text, "run: python -m emokit.testing.docgen"


def test_field_reference_covers_every_record_and_spec_node():
    from emokit.spec import NODE_TYPES, ModelSpec  # noqa: PLC0415

    text = DOC.read_text()
    for cls in (*RECORD_TYPES.values(), ModelSpec, *NODE_TYPES.values()):
        section = text.split(f"#### `{cls.__name__}`", 1)[1].split("\n####", 1)[0]
        for f in fields(cls):
            assert f"| `{f.name}` |" in section, (cls.__name__, f.name)


def test_field_reference_takes_meanings_from_the_field_comments():
    from emokit.records import BackendRecord  # noqa: PLC0415
    from emokit.testing.docgen import class_reference  # noqa: PLC0415

    table = "\n".join(class_reference(BackendRecord))
    assert "| `module` | `str` | required | The module that must be importable for this backend" in table
    assert "| `compile_options` | `Mapping[str, Any]` | `{}` | Extra keyword arguments for `keras.Model.compile`" in table
