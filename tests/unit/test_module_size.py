"""No module under src/flowwarden is longer than 300 lines (issue 8): split along the seams the
code already marks."""
from __future__ import annotations

from srcmap import SRC, module_files

MAX_LINES = 300


def test_no_module_over_the_limit() -> None:
    sizes = {path: len(path.read_text().splitlines()) for path in module_files().values()}
    long = sorted(((n, p.relative_to(SRC).as_posix()) for p, n in sizes.items()
                   if n > MAX_LINES), reverse=True)
    assert not long, (f"modules over {MAX_LINES} lines:\n  "
                      + "\n  ".join(f"{path}: {n}" for n, path in long))
