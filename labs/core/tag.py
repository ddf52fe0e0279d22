"""RuntimeTag: the one type that builds and reads runtime tags ("3.13", "3.13t", "3.13t-gil").

Every other module asks this type: how tags sort, whether a tag is free-threaded, which tag is its
default-build twin, its GIL-forced control. Nothing else parses the string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAG = re.compile(r"(?P<major>\d+)\.(?P<minor>\d+)(?:(?P<t>t)(?P<gil>-gil)?)?")


@dataclass(frozen=True, order=True)
class RuntimeTag:
    """A runtime tag; orders by version, then default build before free-threaded, then the -gil control."""

    major: int
    minor: int
    free_threaded: bool = False
    gil_forced: bool = False  # a free-threaded build run with PYTHON_GIL=1: the GIL-on control

    def __post_init__(self) -> None:
        if self.gil_forced and not self.free_threaded:
            raise ValueError("only a free-threaded build can have its GIL forced on")

    @classmethod
    def parse(cls, text: str) -> RuntimeTag:
        """ "3.13t-gil" -> RuntimeTag(3, 13, True, True); ValueError naming what is valid otherwise."""
        match = _TAG.fullmatch(text) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"not a runtime tag: {text!r} (valid: 3.13, 3.13t, 3.13t-gil)")
        return cls(int(match["major"]), int(match["minor"]), bool(match["t"]), bool(match["gil"]))

    @classmethod
    def is_valid(cls, text: str) -> bool:
        return isinstance(text, str) and _TAG.fullmatch(text) is not None

    @property
    def version(self) -> str:
        """The minor version, "3.13"."""
        return f"{self.major}.{self.minor}"

    @property
    def build(self) -> RuntimeTag:
        """The tag of the interpreter binary: "3.13t" for "3.13t-gil"."""
        return RuntimeTag(self.major, self.minor, self.free_threaded)

    @property
    def default_twin(self) -> RuntimeTag:
        """The default (GIL) build of the same version: "3.13" for "3.13t"."""
        return RuntimeTag(self.major, self.minor)

    @property
    def free_threaded_twin(self) -> RuntimeTag:
        return RuntimeTag(self.major, self.minor, True)

    @property
    def gil_control(self) -> RuntimeTag:
        """The same free-threaded binary with PYTHON_GIL=1: "3.13t-gil"."""
        if not self.free_threaded:
            raise ValueError(f"{self} is not a free-threaded build; it has no -gil control")
        return RuntimeTag(self.major, self.minor, True, True)

    def __str__(self) -> str:
        return f"{self.version}{'t' if self.free_threaded else ''}{'-gil' if self.gil_forced else ''}"
