"""The commits a verdict needs: resolve the request's branches in the clone, and deepen a
shallow clone until the range is complete (or say exactly what to fetch)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from shlex import quote

from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import UsageError
from flowwarden.core.records import ZERO_SHA
from flowwarden.entry.ci.platform import MergeRequest, Request

DEPTHS = (50, 200, 1000, 5000)


def resolve(repo: GitRepo, name: str, remote: str) -> str | None:
    """A branch's tip as this clone knows it: local branch, then remote-tracking branch."""
    for rev in (f"refs/heads/{name}", f"refs/remotes/{remote}/{name}", name):
        sha = repo.rev_parse(rev)
        if sha:
            return sha
    return None


def branch_name(repo: GitRepo, name: str, remote: str) -> str:
    """The server's branch a name given on the command line stands for: `main`,
    `refs/heads/main`, or a remote-tracking `origin/main` / `refs/remotes/origin/main` (when
    no local branch has that name; `origin` being one of the clone's remotes) all mean the
    branch main."""
    short = name.removeprefix("refs/heads/")
    if short != name or repo.rev_parse(f"refs/heads/{name}") is not None:
        return short
    tracked = name.removeprefix("refs/remotes/")
    # `<remote>/<branch>`, whether the clone has fetched that branch yet or not.
    prefixes = [p for p in dict.fromkeys([remote, *repo.remotes]) if tracked.startswith(f"{p}/")]
    return tracked[len(max(prefixes, key=len)) + 1:] if prefixes else name


def resolve_request(repo: GitRepo, request: Request, remote: str, fetch: bool) -> Request:
    """Fill in the shas the platform did not give from the clone's branches."""
    if isinstance(request, MergeRequest):
        if request.provider == "explicit":
            request = replace(request, source=branch_name(repo, request.source, remote),
                              target=branch_name(repo, request.target, remote))
        resolved = _resolve_merge(repo, request, remote)
        if None in (resolved.source_sha, resolved.target_sha) and fetch \
                and remote in repo.remotes:
            # CI checkouts often hold only the pipeline's own ref: fetch the two branches.
            depth = ["--depth=50"] if is_shallow(repo) else []
            fetch_refs(repo, remote, depth, request)
            resolved = _resolve_merge(repo, request, remote)
        for name, sha in ((request.source, resolved.source_sha),
                          (request.target, resolved.target_sha)):
            if sha is None:
                raise UsageError(f"branch {name} is not in this clone",
                                 f"git fetch {quote(remote)} {quote(name)}  # then run "
                                 "flowwarden ci again")
        return resolved
    if request.provider == "explicit":
        before = repo.rev_parse(request.before) if request.before != ZERO_SHA else ZERO_SHA
        after = repo.rev_parse(request.after)
        if before is None or after is None:
            missing = request.before if before is None else request.after
            raise UsageError(f"--range: {missing} is not a commit in this clone",
                             f"git fetch {quote(remote)}  # then run flowwarden ci again")
        ref = request.ref or _ref_of(repo, request.after, remote)
        return replace(request, ref=ref, before=before, after=after)
    return request


def _resolve_merge(repo: GitRepo, request: MergeRequest, remote: str) -> MergeRequest:
    """The request with its shas filled in; every other field (`via`: a merge train) kept."""
    return replace(
        request, source_sha=request.source_sha or resolve(repo, request.source, remote),
        target_sha=request.target_sha or resolve(repo, request.target, remote)
        or request.base_sha)


def _ref_of(repo: GitRepo, after: str, remote: str) -> str:
    """`--range A..B` without --ref: B when it names a branch (`main`, `refs/heads/main`, or
    the remote-tracking `origin/main`, which stands for the server's main), else the
    checked-out branch."""
    name = branch_name(repo, after, remote)
    if repo.rev_parse(f"refs/heads/{name}") is not None or name != after:
        return f"refs/heads/{name}"
    branch = repo.current_branch()
    if branch is None:
        raise UsageError(f"--range without --ref: {after} is not a branch and HEAD is detached",
                      f"flowwarden ci --range <before>..{after} --ref <branch>")
    return f"refs/heads/{branch}"


def needed_tips(request: Request, origin_tip: str | None) -> tuple[str, ...]:
    """The commits whose shared history the verdict needs."""
    if isinstance(request, MergeRequest):
        return tuple(s for s in (request.source_sha, request.target_sha) if s)
    if request.after == ZERO_SHA:
        return (request.before,) if request.before != ZERO_SHA else ()
    if request.before == ZERO_SHA:
        return (request.after, origin_tip) if origin_tip else (request.after,)
    return (request.before, request.after)


def history_gap(repo: GitRepo, tips: Sequence[str]) -> str | None:
    """What is missing to judge `tips`: an absent commit, no common ancestor, or a range
    cut short by a shallow clone's boundary."""
    for sha in tips:
        if not repo.has_object(sha):
            return f"commit {sha[:12]} is not in this clone"
    if len(tips) == 2 and tips[0] != tips[1] and not repo.merge_bases(tips[0], tips[1]):
        return f"{tips[0][:12]} and {tips[1][:12]} share no commit in this clone"
    boundary = shallow_commits(repo)
    cut = boundary & set(range_parents(repo, tips)) if boundary else set()
    if cut:
        return f"the parents of {len(cut)} commit(s) of the range are beyond the shallow clone"
    return None


def shallow_commits(repo: GitRepo) -> set[str]:
    """The boundary commits of a shallow clone: their parents were not fetched."""
    try:
        return set((repo.common_dir / "shallow").read_text().split())
    except OSError:
        return set()


def range_parents(repo: GitRepo, tips: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Every commit of the range (reachable from a tip, not from the merge base) -> parents."""
    bases = repo.merge_bases(tips[0], tips[1]) if len(tips) == 2 else ()
    stdin = "\n".join([*tips, *("^" + b for b in bases)]) + "\n"
    out = repo.git("rev-list", "--parents", "--stdin", stdin=stdin.encode())
    graph = {}
    for line in out.decode().splitlines():
        sha, *parents = line.split()
        graph[sha] = tuple(parents)
    return graph


def is_shallow(repo: GitRepo) -> bool:
    return repo.git("rev-parse", "--is-shallow-repository").strip() == b"true"


def depth_needed(repo: GitRepo, tips: Sequence[str]) -> int:
    """The `fetch-depth` (counted from the tips) that brings every commit of the range and
    its parents: one more than the farthest range commit's distance from a tip, plus one."""
    graph = range_parents(repo, tips)
    distance = {tip: 0 for tip in tips if tip in graph}
    frontier = list(distance)
    while frontier:
        following = []
        for sha in frontier:
            for parent in graph.get(sha, ()):
                if parent in graph and parent not in distance:
                    distance[parent] = distance[sha] + 1
                    following.append(parent)
        frontier = following
    return max(distance.values(), default=0) + 2


def ensure_history(repo: GitRepo, request: Request, tips: Sequence[str], remote: str,
                   fetch: bool) -> tuple[str, ...]:
    """Deepen a shallow clone until the range is complete, or say exactly what to fetch."""
    gap = history_gap(repo, tips)
    if gap is None:
        return ()
    shallow = is_shallow(repo)
    if not shallow or not fetch or remote not in repo.remotes:
        raise UsageError(_gap_message(gap, shallow, request), _gap_fix(remote, shallow))
    for depth in DEPTHS:
        fetch_refs(repo, remote, [f"--depth={depth}"], request)
        if history_gap(repo, tips) is None:
            return (f"shallow clone: fetched {remote} to depth {depth}; this range needs "
                    f"fetch-depth: {depth_needed(repo, tips)} (set it in the checkout step "
                    "to skip this fetch)",)
    fetch_refs(repo, remote, ["--unshallow"], request)
    gap = history_gap(repo, tips)
    if gap is not None:
        raise UsageError(_gap_message(gap, False, request), _gap_fix(remote, False))
    return (f"shallow clone: fetched the whole history of {remote} (git fetch --unshallow); "
            f"this range needs fetch-depth: {depth_needed(repo, tips)}",)


def fetch_refs(repo: GitRepo, remote: str, options: Sequence[str], request: Request) -> None:
    """Fetch the request's branches, then each platform ref (refs/pull/N/head) on its own:
    one missing ref must not fail the others. Failures show as the gap that remains."""
    names = [request.source, request.target] if isinstance(request, MergeRequest) \
        else [request.branch]
    branches = [f"+refs/heads/{n}:refs/remotes/{remote}/{n}" for n in names]
    repo.git("fetch", "-q", *options, remote, *branches, check=False)
    for i, ref in enumerate(request.fetch_refs):
        # Kept outside refs/remotes, where the rules would take them for branches.
        repo.git("fetch", "-q", *options, remote, f"+{ref}:refs/flowwarden/fetched/{i}",
                 check=False)


def _gap_message(gap: str, shallow: bool, request: Request) -> str:
    message = f"cannot judge the range: {gap}"
    if shallow:
        message += " (this is a shallow clone"
        if isinstance(request, MergeRequest) and request.commits is not None:
            message += (f"; the pull request has {request.commits} commits, so its branch "
                        f"needs at least fetch-depth: {request.commits + 1}, and its target "
                        "enough to reach their merge base")
        message += ")"
    return message


def _gap_fix(remote: str, shallow: bool) -> str:
    if shallow:
        return (f"git fetch --unshallow {quote(remote)}  # or fetch-depth: 0 in actions/checkout, "
                "GIT_DEPTH: 0 in .gitlab-ci.yml")
    return f"git fetch {quote(remote)}  # the commits named above must be in the clone"
