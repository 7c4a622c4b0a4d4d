"""How every config dataclass declares a field: its default, its doc line (listed by
`rlif config --fields`) and its allowed range (gt/ge/lt/le, checked at start by
`robot_stack.config.check_numbers`). Standard library only, so every package can use it."""
from __future__ import annotations

from dataclasses import field
from typing import Any


def doc_field(default: Any, doc: str, **limits: float) -> Any:
    """A dataclass field with its doc line and its allowed range."""
    return field(default=default, metadata={"doc": doc, **limits})
