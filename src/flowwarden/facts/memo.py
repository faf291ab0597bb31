"""Per-object memoization for facts: each question is answered once per run."""
from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def memoized(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Cache `method`'s answer on the instance, keyed by its (hashable) arguments."""
    name = method.__name__

    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        memo: dict[Hashable, Any] = self.__dict__.setdefault("_memo", {})
        key = (name, args, tuple(sorted(kwargs.items())))
        if key not in memo:
            memo[key] = method(self, *args, **kwargs)
        result: R = memo[key]
        return result

    functools.update_wrapper(wrapper, method)
    return wrapper
