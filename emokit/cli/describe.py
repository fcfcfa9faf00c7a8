"""``emokit describe``: an architecture's layer-by-layer anatomy, computed from its spec alone."""

from __future__ import annotations

import typer
from rich.table import Table

from emokit.anatomy import anatomy
from emokit.cli.common import console, registry_with_warnings
from emokit.specs import spec_for


def describe_command(
    arch: str = typer.Option(..., "--arch", help="Architecture name (see `emokit plugins`)."),
    sets: list[str] = typer.Option([], "--set", help="Architecture option key=value (repeatable)."),
    channels: int = typer.Option(1, "--channels", help="1 for grayscale input, 3 for RGB."),
    size: int = typer.Option(48, "--size", help="Input height and width in pixels."),
    json_out: bool = typer.Option(False, "--json", help="Print the spec as JSON instead of the table."),
) -> None:
    """Show output shape, parameters and FLOPs per layer, without building on a backend."""
    spec = spec_for(registry_with_warnings(), arch, sets, input_shape=(size, size, channels))
    if json_out:
        print(spec.to_json())
        return
    result = anatomy(spec)
    table = Table(title=f"{spec.name}  {dict(spec.options)}", title_justify="left")
    for column, justify in (("layer", "left"), ("what", "left"), ("output", "right"), ("params", "right"), ("MFLOPs", "right")):
        table.add_column(column, justify=justify)
    for row in result.rows:
        shape = "x".join(map(str, row.output_shape))
        table.add_row("  " * row.depth + row.name, row.description, shape, f"{row.params:,}", f"{row.flops / 1e6:.2f}")
    table.add_section()
    table.add_row("total", "", "", f"{result.params:,}", f"{result.flops / 1e6:.2f}")
    console.print(table)
