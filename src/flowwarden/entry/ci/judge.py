"""Which policy judges: the one committed on the target branch (for a new branch, on the
branch it must come from), never the one the incoming commits bring."""
from __future__ import annotations

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import ZERO_SHA
from flowwarden.entry.ci.history import resolve
from flowwarden.entry.ci.platform import MergeRequest, Request
from flowwarden.policy.select import branch_judge


def default_branch(repo: GitRepo, remote: str) -> str | None:
    sha = repo.rev_parse(f"refs/remotes/{remote}/HEAD")
    for name in ("main", "master", "develop"):
        tip = resolve(repo, name, remote)
        if tip and (sha is None or tip == sha):
            return name
    return None


def judge(repo: GitRepo, request: Request, remote: str) -> tuple[str | None, str]:
    """(revision whose committed policy judges, how to name it in the output)."""
    """(revision whose committed policy judges, how to name it in the output).

    A protected branch judges itself (a request's target as it is, a push's branch before
    it); any other branch is judged by the protected branch it comes from."""
    branch = request.target if isinstance(request, MergeRequest) else request.branch
    own = request.target_sha if isinstance(request, MergeRequest) else request.before
    home = default_branch(repo, remote)
    home_sha = resolve(repo, home, remote) if home else None
    if home_sha is None:
        return None, "the gitflow-ml preset (no protected branch to take a policy from)"
    tips = {**repo.remote_branches(remote), **repo.local_branches()}
    judge = branch_judge(repo, branch, tips, home_sha)
    if judge.protected and own and own != ZERO_SHA and repo.has_object(own):
        if isinstance(request, MergeRequest):
            return own, f"the target branch {branch}"
        return own, f"{branch} before the push"
    if judge.origin is not None:
        return judge.rev, f"{judge.origin}, the branch {branch} comes from"
    if judge.rev == home_sha:
        return judge.rev, f"the default branch {home}"
    return judge.rev, f"the long-lived branch at {judge.rev[:12]} whose policy defines {branch}"
