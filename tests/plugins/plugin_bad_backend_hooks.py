"""A backend whose precision_limit is a string instead of a function."""

from emokit import hookimpl
from emokit.records import BackendRecord


@hookimpl
def emokit_backends() -> list[BackendRecord]:
    return [BackendRecord(name="npu", summary="An accelerator", module="npu", install="pip install npu",
                          precision_limit="no bfloat16")]
