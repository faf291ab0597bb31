"""What the shims `flowwarden install` writes run: flowwarden under `python -S`.

`site` and the `.pth` files it executes cost more than a commit hook's own work. The shim starts
Python without them, with flowwarden's own directory on the path, and the finder below runs
`site` on the first import that needs it (yaml, jsonschema, dvc, mlflow, anything a `.pth`
file provides), so every import still finds what a normal start would have found.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

#: Modules the standard library probes for and may lack (`copy` asks for Jython's `org`);
#: `site` cannot provide them, so a miss is no reason to run it.
NOT_SITE = frozenset({*sys.stdlib_module_names, "org"})


class LazySite:
    """The last meta-path finder: on the first top-level module nothing else found, run
    `site` once, then look again with every finder it added."""

    @classmethod
    def find_spec(cls, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if path is not None or name in NOT_SITE or cls not in sys.meta_path:
            return None  # a submodule (its package's path answers), or nothing site adds
        sys.meta_path.remove(cls)
        import site

        site.main()
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec: ModuleSpec | None = find(name, None, target) if find is not None else None
            if spec is not None:
                return spec
        return None


def main() -> int:
    sys.meta_path.append(LazySite)
    # After the finder is in place; git's work for a commit overlaps the imports that follow.
    from flowwarden.adapters.early import start_commit_calls

    if sys.argv[1:3] == ["hook", "pre-commit"]:
        start_commit_calls()
    from flowwarden.entry.cli import main as run

    return run()
