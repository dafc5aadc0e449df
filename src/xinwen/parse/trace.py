"""What the extractor considered for each field, for `xinwen parse --explain`.

The finders take an optional `Trace` and note every candidate with the evidence for and against
it; without one they do no extra work. This is what a user needs to write a site rule: which
element held the title, which date lost and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Considered:
    """One candidate value for a field."""

    field: str
    value: str
    method: str  # where it came from: h1, meta:article:published_time, breadcrumb, ...
    score: float | None = None
    note: str = ""  # why it won or lost


@dataclass(slots=True)
class Trace:
    """The candidates noted during one extraction, in the order they were considered."""

    items: list[Considered] = field(default_factory=list)

    def add(
        self, name: str, value: str, method: str, score: float | None = None, note: str = ""
    ) -> None:
        """Note a candidate for field `name`."""
        text = " ".join(value.split())
        self.items.append(Considered(name, text[:120], method, score, note))

    def of(self, name: str) -> list[Considered]:
        """The candidates noted for one field."""
        return [item for item in self.items if item.field == name]
