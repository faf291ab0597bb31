"""Which policy judges: the one committed on the target branch (for a new branch, on the
branch it must come from), never the one the incoming commits bring."""
from __future__ import annotations

from flowwarden.adapters.git import GitRepo
from flowwarden.core.records import ZERO_SHA
from flowwarden.entry.ci.history import resolve
from flowwarden.entry.ci.platform import MergeRequest, Request
from flowwarden.policy.select import new_branch_judge


def default_branch(repo: GitRepo, remote: str) -> str | None:
    sha = repo.rev_parse(f"refs/remotes/{remote}/HEAD")
    for name in ("main", "master", "develop"):
        tip = resolve(repo, name, remote)
        if tip and (sha is None or tip == sha):
            return name
    return None


def judge(repo: GitRepo, request: Request, remote: str) -> tuple[str | None, str]:
    """(revision whose committed policy judges, how to name it in the output)."""
    if isinstance(request, MergeRequest):
        return request.target_sha, f"the target branch {request.target}"
    if request.before != ZERO_SHA:
        return request.before, f"{request.branch} before the push"
    home = default_branch(repo, remote)
    home_sha = resolve(repo, home, remote) if home else None
    if home_sha is None:
        return None, "the gitflow-ml preset (no branch to take a policy from)"
    tips = {**repo.remote_branches(remote), **repo.local_branches()}
    rev, origin = new_branch_judge(repo, request.branch, tips, home_sha)
    if origin is not None:
        return rev, f"{origin}, the branch {request.branch} comes from"
    if rev == home_sha:
        return rev, f"the default branch {home}"
    return rev, f"the long-lived branch at {rev[:12]} whose policy defines {request.branch}"
