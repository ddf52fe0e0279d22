"""The one lifecycle and the one registry of the lab's plug-in families.

Models, transfer carriers and ladder rungs are all things that are started, used and closed, that a
runtime may be unable to provide (``unavailable_reason``), and that are looked up by name. They share
``Plugin``: ``start()`` / ``close()`` and ``with plugin:`` for both; and ``Registry``: a name ->
class table whose ``get`` refuses an unknown name with one line listing the valid ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Self

from labs.core.errors import UsageError


class Plugin:
    """Something the lab starts before use and closes after; ``with`` does both."""

    name = ""
    description = ""

    def start(self) -> None:
        """Create what the plug-in needs (workers, buffers, files): never inside a timed region."""

    def close(self) -> None:
        """Release everything ``start`` created; safe to call once after ``start``."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Registry[P: type]:
    """Plug-in classes by their ``name``, in declaration order; *what* names the family in errors."""

    def __init__(self, what: str, *classes: P) -> None:
        self.what = what
        self._classes: dict[str, P] = {}
        for cls in classes:
            if cls.name in self._classes:
                raise ValueError(f"two {what}s are named {cls.name!r}")
            self._classes[cls.name] = cls

    def get(self, name: str) -> P:
        try:
            return self._classes[name]
        except KeyError:
            raise UsageError(f"unknown {self.what} {name!r}; valid: {', '.join(self._classes)}") from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._classes)

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def __getitem__(self, name: str) -> P:
        return self.get(name)

    def items(self) -> list[tuple[str, P]]:
        return list(self._classes.items())
