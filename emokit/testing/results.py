"""The outcome of one contract check: which plugin and record, which check, pass/fail/skip and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class CheckResult:
    """One check of one record (or of a plugin module as a whole, with ``kind == "plugin"``)."""

    plugin: str
    kind: str
    name: str
    check: str
    status: Status
    detail: str = ""

    @property
    def passed(self) -> bool:
        """True only when the check ran and passed: a check that could not run is never a pass."""
        return self.status == "pass"

    @property
    def failed(self) -> bool:
        """True when the check ran and found a problem."""
        return self.status == "fail"

    def __str__(self) -> str:
        where = f"{self.kind} '{self.name}'" if self.kind != "plugin" else f"plugin '{self.plugin}'"
        detail = f": {self.detail}" if self.detail else ""
        return f"[{self.status.upper()}] {where} - {self.check}{detail}"


def result(plugin: str, kind: str, name: str, check: str, problems: list[str] | str | None) -> CheckResult:
    """A pass when there are no problems, else a fail that lists them."""
    if isinstance(problems, str):
        problems = [problems]
    if problems:
        return CheckResult(plugin, kind, name, check, "fail", " ".join(problems))
    return CheckResult(plugin, kind, name, check, "pass")
