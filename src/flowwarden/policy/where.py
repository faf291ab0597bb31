"""Where a value of the effective policy was written, for errors found after `extends`."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from flowwarden.core.errors import PolicyError

if TYPE_CHECKING:
    from flowwarden.policy.yamlmarks import Located

KeyPath = tuple[object, ...]


class Where(Protocol):
    def error(self, path: KeyPath, message: str, prefer_key: bool = False) -> PolicyError: ...


class Nowhere:
    """A document without positions (a cache entry, a test's dict): errors name the source."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, path: KeyPath, message: str, prefer_key: bool = False) -> PolicyError:
        return PolicyError(self.source, None, None, path, message)


class Merged:
    """The files a merged policy came from, the one whose values win first."""

    def __init__(self, files: Sequence[Located]) -> None:
        self.files = files

    def error(self, path: KeyPath, message: str, prefer_key: bool = False) -> PolicyError:
        """Points at the winning file that wrote `path`, or else its closest parent."""
        for size in range(len(path), -1, -1):
            prefix = path[:size]
            for file in self.files:
                if prefix in file.values or prefix in file.keys:
                    return file.error(path, message, prefer_key)
        return self.files[0].error(path, message, prefer_key)
