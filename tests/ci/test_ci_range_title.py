"""`flowwarden ci --range A..origin/main`: a remote-tracking end names the branch judged, and
the verdict line names it and the commits, not what was typed."""
from __future__ import annotations

from .cikit import Server


def test_a_range_ending_at_a_remote_tracking_branch_is_a_push_to_that_branch(
        server: Server) -> None:
    dev = server.dev
    before = dev.sha("main")
    dev.git("switch", "-q", "main")
    dev.commit_file("train.py", "lr = 0.1\n", "Tune on main", "--no-verify")
    dev.git("push", "-q", "origin", "main")  # the server has no hook: it lands
    after = dev.sha("main")
    dev.git("switch", "-q", "develop")  # checked out: another branch than the range's
    result = dev.fw("ci", "--range", f"{before}..origin/main")
    assert result.code == 1, result.text
    assert "protected-history" in result.out and "on main is not a merge" in result.out, result.text
    title = f"push to main ({before[:10]}..{after[:10]})"
    assert f"flowwarden ci: {title}: failed" in result.err, result.text
    assert "origin/mai)" not in result.text and "push to  (" not in result.text
