"""`flowwarden ci`: judge a pull/merge request or a pushed range where --no-verify cannot reach.

The verdict uses the policy committed on the target branch (for a new branch, on the branch
it must come from), never the one the incoming commits bring.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from flowwarden.adapters.git import GitRepo, NotARepository
from flowwarden.core.proc import CommandError
from flowwarden.core.records import (
    ZERO_SHA,
    Event,
    MergeAttempt,
    Outcome,
    Push,
    RefUpdate,
    Severity,
    Violation,
)
from flowwarden.core.stages import Stage
from flowwarden.policy.model import Policy

FORMATS = ("text", "json", "github", "gitlab", "markdown")
DEPTHS = (50, 200, 1000, 5000)


class CiError(Exception):
    """The run cannot judge anything (unknown CI, missing history): exit 2, with the fix."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


@dataclass(frozen=True)
class MergeRequest:
    """A pull request (GitHub) or merge request (GitLab): `source` into `target`."""

    provider: str
    source: str
    target: str
    source_sha: str | None = None
    target_sha: str | None = None
    base_sha: str | None = None  # the merge base the platform computed, if it says
    fetch_refs: tuple[str, ...] = ()  # refs that hold the request's commits on the server
    commits: int | None = None  # how many commits the platform counts in the request


@dataclass(frozen=True)
class PushRange:
    """A push: `ref` moved from `before` (ZERO_SHA: created) to `after` (ZERO_SHA: deleted)."""

    provider: str
    ref: str
    before: str
    after: str
    fetch_refs: tuple[str, ...] = ()

    @property
    def branch(self) -> str:
        return self.ref.removeprefix("refs/heads/")


Request = MergeRequest | PushRange


# --- what the CI platform says ---------------------------------------------------------------

def detect(args: argparse.Namespace, env: Mapping[str, str]) -> Request:
    """Explicit options first, then GitHub Actions, then GitLab CI."""
    if args.source or args.target:
        if not (args.source and args.target):
            raise CiError("--source and --target go together",
                          "flowwarden ci --source feature/x --target develop")
        return MergeRequest("explicit", args.source, args.target)
    if args.range:
        before, sep, after = args.range.partition("..")
        if not sep or not after:
            raise CiError(f"--range {args.range!r} is not A..B",
                          "flowwarden ci --range <before>..<after> --ref refs/heads/develop")
        return PushRange("explicit", _full_ref(args.ref) if args.ref else "", before or ZERO_SHA,
                         after)
    if env.get("GITHUB_ACTIONS") == "true":
        return from_github(env)
    if env.get("GITLAB_CI") == "true":
        return from_gitlab(env)
    raise CiError("no CI run detected (neither GITHUB_ACTIONS nor GITLAB_CI is set) and no "
                  "--source/--target or --range given",
                  "flowwarden ci --source <branch> --target <branch>  "
                  "# or --range <before>..<after> --ref <branch>")


def _full_ref(name: str) -> str:
    return name if name.startswith("refs/") else f"refs/heads/{name}"


def _payload(env: Mapping[str, str]) -> dict[str, object]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise CiError(f"cannot read the event payload GITHUB_EVENT_PATH={path}: {error}",
                      "run flowwarden ci inside the GitHub Actions job that the event started"
                      ) from error
    return data if isinstance(data, dict) else {}


def _get(data: object, *keys: str) -> object:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def from_github(env: Mapping[str, str]) -> Request:
    """pull_request: GITHUB_HEAD_REF -> GITHUB_BASE_REF; push: the payload's before/after."""
    event = env.get("GITHUB_EVENT_NAME", "")
    payload = _payload(env)
    if event in ("pull_request", "pull_request_target"):
        source = env.get("GITHUB_HEAD_REF") or _str(_get(payload, "pull_request", "head", "ref"))
        target = env.get("GITHUB_BASE_REF") or _str(_get(payload, "pull_request", "base", "ref"))
        if not source or not target:
            raise CiError(f"GitHub {event} event without GITHUB_HEAD_REF/GITHUB_BASE_REF",
                          "run flowwarden ci in a job triggered by pull_request")
        count = _get(payload, "pull_request", "commits")
        number = _get(payload, "pull_request", "number") or _get(payload, "number")
        refs = (f"refs/pull/{number}/head",) if isinstance(number, int) else ()
        return MergeRequest("github", source, target,
                            _str(_get(payload, "pull_request", "head", "sha")),
                            _str(_get(payload, "pull_request", "base", "sha")),
                            fetch_refs=refs, commits=count if isinstance(count, int) else None)
    if event == "push":
        ref = _str(payload.get("ref")) or env.get("GITHUB_REF", "")
        after = _str(payload.get("after")) or env.get("GITHUB_SHA", "")
        before = _str(payload.get("before")) or ZERO_SHA
        if not ref or not after:
            raise CiError("GitHub push event without ref/after in GITHUB_EVENT_PATH",
                          "run flowwarden ci in a job triggered by push")
        return PushRange("github", ref, before, after)
    raise CiError(f"GitHub event '{event}' is neither pull_request nor push",
                  "trigger the flowwarden job on: [push, pull_request]")


def from_gitlab(env: Mapping[str, str]) -> Request:
    """Merge request pipelines: source -> target branch; branch pipelines: before -> commit."""
    source = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
    if source:
        target = env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "")
        # In merged-results pipelines CI_COMMIT_SHA is the merge, and the source head is here.
        head = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA") or env.get("CI_COMMIT_SHA")
        ref = env.get("CI_MERGE_REQUEST_REF_PATH")
        return MergeRequest("gitlab", source, target, head or None,
                            env.get("CI_MERGE_REQUEST_TARGET_BRANCH_SHA") or None,
                            env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or None,
                            fetch_refs=(ref,) if ref else ())
    after = env.get("CI_COMMIT_SHA")
    name = env.get("CI_COMMIT_BRANCH") or env.get("CI_COMMIT_REF_NAME")
    if not after or not name:
        raise CiError("GitLab pipeline without CI_COMMIT_SHA and CI_COMMIT_REF_NAME",
                      "run flowwarden ci in a branch or merge request pipeline")
    ref = f"refs/tags/{name}" if env.get("CI_COMMIT_TAG") else _full_ref(name)
    return PushRange("gitlab", ref, env.get("CI_COMMIT_BEFORE_SHA") or ZERO_SHA, after)


# --- the commits it needs ---------------------------------------------------------------

def resolve(repo: GitRepo, name: str, remote: str) -> str | None:
    """A branch's tip as this clone knows it: local branch, then remote-tracking branch."""
    for rev in (f"refs/heads/{name}", f"refs/remotes/{remote}/{name}", name):
        sha = repo.rev_parse(rev)
        if sha:
            return sha
    return None


def resolve_request(repo: GitRepo, request: Request, remote: str, fetch: bool) -> Request:
    """Fill in the shas the platform did not give from the clone's branches."""
    if isinstance(request, MergeRequest):
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
                raise CiError(f"branch {name} is not in this clone",
                              f"git fetch {remote} {name}  # then run flowwarden ci again")
        return resolved
    if request.provider == "explicit":
        before = repo.rev_parse(request.before) if request.before != ZERO_SHA else ZERO_SHA
        after = repo.rev_parse(request.after)
        if before is None or after is None:
            missing = request.before if before is None else request.after
            raise CiError(f"--range: {missing} is not a commit in this clone",
                          f"git fetch {remote}  # then run flowwarden ci again")
        ref = request.ref or _ref_of(repo, request.after)
        return PushRange(request.provider, ref, before, after, request.fetch_refs)
    return request


def _resolve_merge(repo: GitRepo, request: MergeRequest, remote: str) -> MergeRequest:
    return MergeRequest(
        request.provider, request.source, request.target,
        request.source_sha or resolve(repo, request.source, remote),
        request.target_sha or resolve(repo, request.target, remote) or request.base_sha,
        request.base_sha, request.fetch_refs, request.commits)


def _ref_of(repo: GitRepo, after: str) -> str:
    """`--range A..B` without --ref: B when it names a branch, else the checked-out branch."""
    if repo.rev_parse(f"refs/heads/{after}") is not None:
        return f"refs/heads/{after}"
    branch = repo.current_branch()
    if branch is None:
        raise CiError(f"--range without --ref: {after} is not a branch and HEAD is detached",
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
        raise CiError(_gap_message(gap, shallow, request), _gap_fix(remote, shallow))
    for depth in DEPTHS:
        fetch_refs(repo, remote, [f"--depth={depth}"], request)
        if history_gap(repo, tips) is None:
            return (f"shallow clone: fetched {remote} to depth {depth}; this range needs "
                    f"fetch-depth: {depth_needed(repo, tips)} (set it in the checkout step "
                    "to skip this fetch)",)
    fetch_refs(repo, remote, ["--unshallow"], request)
    gap = history_gap(repo, tips)
    if gap is not None:
        raise CiError(_gap_message(gap, False, request), _gap_fix(remote, False))
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
        return (f"git fetch --unshallow {remote}  # or fetch-depth: 0 in actions/checkout, "
                "GIT_DEPTH: 0 in .gitlab-ci.yml")
    return f"git fetch {remote}  # the commits named above must be in the clone"


# --- which policy judges ---------------------------------------------------------------

def default_branch(repo: GitRepo, remote: str) -> str | None:
    sha = repo.rev_parse(f"refs/remotes/{remote}/HEAD")
    for name in ("main", "master", "develop"):
        tip = resolve(repo, name, remote)
        if tip and (sha is None or tip == sha):
            return name
    return None


def judge(repo: GitRepo, request: Request, remote: str) -> tuple[str | None, str]:
    """(revision whose committed policy judges, how to name it in the output)."""
    from flowwarden.policy.select import new_branch_judge

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


# --- the verdict ---------------------------------------------------------------------------

def events_for(repo: GitRepo, request: Request, remote: str) -> tuple[Event, ...]:
    """A request is a merge (direction) and the source branch arriving from its merge base
    (name, origin, every commit); a push is the ref update itself."""
    if isinstance(request, PushRange):
        return (Push((RefUpdate(request.ref, request.before, request.after),), remote=remote),)
    merge = MergeAttempt(request.source, request.target, request.source_sha, request.target_sha)
    if not request.source_sha:
        return (merge,)
    bases = repo.merge_bases(request.source_sha, request.target_sha) \
        if request.target_sha else ()
    arrival = RefUpdate(f"refs/heads/{request.source}", bases[0] if bases else ZERO_SHA,
                        request.source_sha)
    return (merge, Push((arrival,), remote=remote))


def evaluate(repo: GitRepo, request: Request, env: Mapping[str, str], remote: str,
             fetch: bool) -> tuple[Outcome, Policy]:
    from flowwarden.engine.evaluate import evaluate as run_rules
    from flowwarden.policy.load import load_policy, load_policy_at
    from flowwarden.policy.select import policy_change_note
    from flowwarden.rules.base import Context

    request = resolve_request(repo, request, remote, fetch)
    rev, named = judge(repo, request, remote)
    tips = needed_tips(request, rev if isinstance(request, PushRange) else None)
    notes = list(ensure_history(repo, request, tips, remote, fetch))
    policy = load_policy_at(repo, rev) if rev else load_policy(None)
    source = policy.source.replace(rev, rev[:12]) if rev else policy.source
    notes.append(f"judged by the policy of {named}"
                 + (f" at {rev[:12]}" if rev else "") + f": {source}")
    incoming = request.source_sha if isinstance(request, MergeRequest) else request.after
    change = policy_change_note(repo, rev, incoming)
    notes += [change] if change else []
    ctx = Context(policy, repo, Stage.CI, env)
    violations: list[Violation] = []
    for event in events_for(repo, request, remote):
        outcome = run_rules(event, ctx)
        violations += [v for v in outcome.violations if v not in violations]
        notes += [n for n in outcome.notes if n not in notes]
    return Outcome(tuple(violations), tuple(notes)), policy


def verdict(outcome: Outcome) -> str:
    """`failed (2 errors, 1 warning, 1 waived)`: waivers are counted, never silent."""
    errors = len(outcome.blocking)
    waived = sum(1 for v in outcome.violations if v.waived_by is not None)
    warnings = sum(1 for v in outcome.violations
                   if v.severity is Severity.WARNING and v.waived_by is None)
    counts = [f"{n} {word}{'s' if n != 1 and word != 'waived' else ''}"
              for n, word in ((errors, "error"), (warnings, "warning"), (waived, "waived")) if n]
    return ("failed" if errors else "passed") + (f" ({', '.join(counts)})" if counts else "")


def describe(request: Request) -> str:
    """What was judged, for the report's verdict line."""
    if isinstance(request, MergeRequest):
        return f"merge of {request.source} into {request.target}"
    return f"push to {request.ref.removeprefix('refs/heads/')} " \
           f"({request.before[:10]}..{request.after[:10]})"


# --- output --------------------------------------------------------------------------------

def render(outcome: Outcome, fmt: str, what: str) -> str:
    from flowwarden.report import github, gitlab, markdown, text

    if fmt == "github":
        return github.render(outcome) + text.render(outcome, what, local=False) + "\n"
    if fmt == "gitlab":
        return gitlab.render(outcome)
    if fmt == "markdown":
        return markdown.render(outcome, title=f"flowwarden ci: {what}")
    if fmt == "json":
        from flowwarden.report import json as json_report

        return json_report.render(outcome, what, 1 if outcome.blocking else 0) + "\n"
    return text.render(outcome, what, local=False) + "\n"


def publish(outcome: Outcome, what: str, args: argparse.Namespace, env: Mapping[str, str],
            out: TextIO) -> None:
    from flowwarden.report import gitlab, markdown

    out.write(render(outcome, args.format, what))
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(markdown.render(outcome, title=f"flowwarden ci: {what}"))
    if args.report:
        Path(args.report).write_text(gitlab.render(outcome))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="flowwarden ci",
        description="Judge a pull/merge request or a pushed range by the target's policy.")
    p.add_argument("--source", help="the branch being merged (a pull request's head)")
    p.add_argument("--target", help="the branch it merges into (a pull request's base)")
    p.add_argument("--range", metavar="A..B", help="a pushed range: before..after")
    p.add_argument("--ref", help="the branch the range was pushed to "
                   "(default: B when it is a branch, else the checked-out branch)")
    p.add_argument("--remote", default="origin", help="remote to resolve branches and fetch from")
    p.add_argument("--no-fetch", dest="fetch", action="store_false",
                   help="never deepen a shallow clone; say which depth is needed instead")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="stdout format (default: github under GitHub Actions, else text)")
    p.add_argument("--report", metavar="PATH",
                   help="also write a GitLab code-quality JSON report to PATH")
    p.add_argument("--run-checks", action="store_true",
                   help="run the policy's checks for the target of a merge request")
    return p


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
         out: TextIO | None = None) -> int:
    import os

    from flowwarden.core.errors import PolicyError

    args = parser().parse_args(argv)
    env = os.environ if env is None else env
    out = sys.stdout if out is None else out
    if args.format is None:
        args.format = "github" if env.get("GITHUB_ACTIONS") == "true" else "text"
    try:
        repo = GitRepo.discover(".")
        request = detect(args, env)
        outcome, policy = evaluate(repo, request, env, args.remote, args.fetch)
    except (CiError, NotARepository) as error:
        fix = error.fix if isinstance(error, CiError) else "run flowwarden ci in the clone"
        print(f"flowwarden ci: {error}\n  fix: {fix}", file=sys.stderr)
        return 2
    except PolicyError as error:
        print(f"flowwarden ci: policy error: {error}\n  fix: correct the policy on the target "
              "branch; the incoming commits cannot change which policy judges them",
              file=sys.stderr)
        return 2
    except CommandError as error:
        print(f"flowwarden ci: internal error: {error}", file=sys.stderr)
        return 3
    if args.run_checks and isinstance(request, MergeRequest):
        outcome = _with_checks(outcome, repo, policy, request.target, env)
    publish(outcome, describe(request), args, env, out)
    print(f"flowwarden ci: {describe(request)}: {verdict(outcome)}", file=sys.stderr)
    return 1 if outcome.blocking else 0


def _with_checks(outcome: Outcome, repo: GitRepo, policy: Policy, target: str,
                 env: Mapping[str, str]) -> Outcome:
    from flowwarden.entry import checks
    from flowwarden.rules.base import Context

    ctx = Context(policy, repo, Stage.CI, env)
    failed = checks.run_before_merge(ctx, target, sys.stderr)
    return Outcome(outcome.violations + failed, outcome.notes)

