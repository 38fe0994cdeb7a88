"""Options of blocks and skeletons, and the names blocks and variants may take.

The registry's vocabulary, importable without TensorFlow: an `Option` knows its default
and the values it accepts, and `settle` fills a mapping of them in, naming the key that
is wrong when a value is not accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

NAME_PATTERN = r"^[a-z][a-z0-9_.-]*$"
_NAME = re.compile(NAME_PATTERN)


def valid_name(name: str) -> bool:
    """Whether `name` can name a block or variant (a path part and a wildcard value)."""
    return isinstance(name, str) and bool(_NAME.match(name))


class RegistryError(ValueError):
    """A block, variant or option that the registry does not know or accept."""


@dataclass(frozen=True)
class Option:
    """One option of a block or skeleton: its default and the values it accepts."""

    default: object
    kind: type
    help: str
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    odd: bool = False
    choices: tuple | None = None
    divides_channels: bool = False  # a block option that must divide C where it sits

    def check(self, value, where: str):
        """Return `value` if acceptable, else raise a RegistryError naming `where`."""
        if value is None and self.nullable:
            return value
        expected = self.kind.__name__ + (" or null" if self.nullable else "")
        numeric = self.kind is float and isinstance(value, int) and not isinstance(value, bool)
        if not (numeric or type(value) is self.kind):
            raise RegistryError(f"{where}: {value!r} is not a {expected} ({self.help})")
        if self.minimum is not None and value < self.minimum:
            raise RegistryError(f"{where}: {value!r} is below the minimum {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise RegistryError(f"{where}: {value!r} is above the maximum {self.maximum}")
        if self.odd and value % 2 == 0:
            raise RegistryError(f"{where}: {value!r} must be odd")
        if self.choices is not None and value not in self.choices:
            choices = ", ".join(map(str, self.choices))
            raise RegistryError(f"{where}: {value!r} is not one of {choices}")
        return float(value) if numeric else value


def settle(options: Mapping[str, Option], given: Mapping, where: str) -> dict:
    """Every option of `options`: the given value (checked) or its default."""
    unknown = sorted(set(given) - set(options))
    if unknown:
        known = ", ".join(options) or "none"
        raise RegistryError(f"{where}: unknown option(s) {', '.join(unknown)}; known: {known}")
    return {
        name: option.check(given[name], f"{where}.{name}") if name in given else option.default
        for name, option in options.items()
    }
