"""Per-object memoization for facts: each question is answered once per run."""
from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any, Concatenate, ParamSpec, TypeVar

from flowwarden.core.records import Push

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def _key(arg: object) -> Hashable:
    """A push is known by its identity: hashing its updates on every question made a push of
    many refs cost refs x questions."""
    return ("push", id(arg)) if isinstance(arg, Push) else arg


def memoized(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Cache `method`'s answer on the instance, keyed by its (hashable) arguments."""
    name = method.__name__

    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        memo: dict[Hashable, Any] = self.__dict__.setdefault("_memo", {})
        key = (name, tuple(_key(a) for a in args), tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = (args, method(self, *args, **kwargs))  # args kept: ids stay theirs
        result: R = memo[key][1]
        return result

    functools.update_wrapper(wrapper, method)
    return wrapper
