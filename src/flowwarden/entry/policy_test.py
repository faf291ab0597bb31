"""`flowwarden test CASES.yaml`: unit tests for a policy.

Each case's operation is built for real (a scratch git repository in a temporary folder,
the events git's hooks or the server would judge) and judged by the engine; the verdict is
compared with the one the case expects. Exit 0: all pass; 1: a case failed; 2: a bad case
file or policy.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple, TextIO

from flowwarden.adapters.git import GitRepo
from flowwarden.core.errors import Exit, NotARepository, UsageError
from flowwarden.core.proc import CommandError
from flowwarden.core.records import BranchQuery, Event, MergeAttempt, Outcome, Severity
from flowwarden.core.stages import Stage
from flowwarden.engine.evaluate import evaluate
from flowwarden.entry.boundary import parse
from flowwarden.entry.cases import Case, CaseFileError, Expect, load_cases
from flowwarden.entry.scratch import Scratch, StepError, scratch_env
from flowwarden.policy.load import load_policy, load_policy_file
from flowwarden.policy.model import Policy
from flowwarden.report import json as json_report
from flowwarden.report import text
from flowwarden.rules import Context


class Verdict(NamedTuple):
    allowed: bool
    refused: tuple[str, ...]
    warned: tuple[str, ...]
    outcome: Outcome


class Result(NamedTuple):
    case: Case
    verdict: Verdict
    diff: tuple[str, ...]  # empty: the case passed

    @property
    def passed(self) -> bool:
        return not self.diff


def verdict_of(outcome: Outcome) -> Verdict:
    blocking = outcome.blocking
    warned = {v.rule for v in outcome.violations
              if v.severity is Severity.WARNING and v.waived_by is None}
    return Verdict(not blocking, tuple(sorted({v.rule for v in blocking})),
                   tuple(sorted(warned)), outcome)


def judge(case: Case, policy: Policy, file: str, env: Mapping[str, str]) -> Verdict:
    """The engine's verdict on the case's operation, in a scratch repository."""
    with tempfile.TemporaryDirectory(prefix="flowwarden-test-") as tmp:
        scratch = Scratch(Path(tmp) / "repo", scratch_env(env, Path(tmp) / "home"))
        scratch.build(case.history, file)
        try:
            events = _events(case, scratch)
        except (StepError, CommandError) as exc:  # git refused the operation as stated
            raise StepError(f"{file}:{case.line}: {case.name}: {exc}") from None
        repo = scratch.repo()
        outcomes = [evaluate(event, Context(policy, repo, stage, scratch.env))
                    for stage, event in events]
    return verdict_of(Outcome(tuple(v for o in outcomes for v in o.violations),
                              tuple(n for o in outcomes for n in o.notes)))


def _events(case: Case, scratch: Scratch) -> list[tuple[Stage, Event]]:
    if case.kind == "branch":
        return [(case.stage, BranchQuery(case.subject))]
    if case.kind == "merge":
        assert case.target is not None
        return [(case.stage, MergeAttempt(case.subject, case.target,
                                          scratch.resolve(case.subject),
                                          scratch.resolve(case.target)))]
    if case.kind == "commit":
        return scratch.commit_events(case.subject, case.files, case.message)
    return [(case.stage, scratch.push_event(case.updates))]


def compare(expect: Expect, verdict: Verdict) -> tuple[str, ...]:
    """A line-by-line diff of the stated verdict against the actual one; () when equal."""
    pairs: list[tuple[str, str, str]] = []
    if expect.allowed is not None:
        pairs.append(("allowed", _yaml(expect.allowed), _yaml(verdict.allowed)))
    if expect.refused is not None:
        pairs.append(("refused", _yaml(expect.refused), _yaml(verdict.refused)))
    elif expect.allowed is None and expect.warned is None and expect.says is None:
        pairs.append(("refused", "[]", _yaml(verdict.refused)))
    if expect.warned is not None:
        pairs.append(("warned", _yaml(expect.warned), _yaml(verdict.warned)))
    if expect.says is not None:
        found = any(expect.says in v.message for v in verdict.outcome.violations)
        pairs.append(("says", json.dumps(expect.says),
                      json.dumps(expect.says) if found else "(no message contains it)"))
    if all(want == got for _, want, got in pairs):
        return ()
    lines = []
    for key, want, got in pairs:
        lines += [f"  {key}: {want}"] if want == got else [f"- {key}: {want}", f"+ {key}: {got}"]
    return tuple(lines)


def _yaml(value: bool | tuple[str, ...]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "[" + ", ".join(value) + "]"


def run_cases(cases: Sequence[Case], policy: Policy, file: str,
              env: Mapping[str, str]) -> list[Result]:
    results = []
    for case in cases:
        verdict = judge(case, policy, file, env)
        results.append(Result(case, verdict, compare(case.expect, verdict)))
    return results


def _safe(value: str) -> str:
    """Case names and messages with control characters shown, not obeyed, by a terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)


def render_text(results: Sequence[Result], file: str, policy: Policy, seconds: float) -> str:
    count = f"{len(results)} case{'' if len(results) == 1 else 's'}"
    lines = [f"flowwarden test: {count} from {_safe(file)} against "
             f"{_safe(policy.source)}"]
    for r in results:
        said = ("refused by " + ", ".join(r.verdict.refused)) if r.verdict.refused else "allowed"
        word = "PASSED" if r.passed else "FAILED"
        lines.append(f"{word} {_safe(file)}:{r.case.line} {_safe(r.case.name)} ({said})")
        if not r.passed:
            lines += ["    " + line for line in r.diff]
            lines += ["    | " + _safe(line) for v in r.verdict.outcome.violations
                      for line in text.render_violation(v).splitlines()]
    failed = sum(not r.passed for r in results)
    summary = (f"{failed} failed, " if failed else "") + f"{len(results) - failed} passed"
    lines.append(f"{'=' * 10} {summary} in {seconds:.2f}s {'=' * 10}")
    return "\n".join(lines) + "\n"


def render_json(results: Sequence[Result], file: str, policy: Policy) -> str:
    return json.dumps({
        "file": file, "policy": policy.source,
        "passed": sum(r.passed for r in results),
        "failed": sum(not r.passed for r in results),
        "cases": [{
            "name": r.case.name, "line": r.case.line, "operation": r.case.kind,
            "stage": r.case.stage.value, "passed": r.passed,
            "expected": {k: v for k, v in r.case.expect._asdict().items() if v is not None},
            "actual": {"allowed": r.verdict.allowed, "refused": list(r.verdict.refused),
                       "warned": list(r.verdict.warned)},
            "diff": list(r.diff),
            "violations": [json_report.violation_dict(v) for v in r.verdict.outcome.violations],
        } for r in results],
    }, indent=2) + "\n"


def policy_for(file: str | None) -> Policy:
    """`--policy FILE`, else the repository's `.flowwarden.yaml` (the current folder's outside
    a repository), else the preset; read afresh: the cache is for hooks."""
    if file is not None:
        if not Path(file).is_file():
            raise UsageError(f"{file}: no such policy file")
        return load_policy_file(Path(file))
    try:
        root = GitRepo.discover(".").root
    except NotARepository:
        root = Path(".").resolve()
    return load_policy(root)


def read_cases(path: str) -> list[Case]:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the case file ({exc.strerror})") from None
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CaseFileError(f"{path}:1:1: not UTF-8 text") from None
    return load_cases(content, path)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="flowwarden test",
        description="Run a policy's test cases: operations and the verdicts expected.")
    p.add_argument("cases", metavar="CASES.yaml", help="the case file")
    p.add_argument("--policy", metavar="FILE",
                   help="policy to test (default: the repository's .flowwarden.yaml, or the "
                        "gitflow-ml preset)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="output format (default: text)")
    return p


def run(argv: Sequence[str], env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    args = parse(parser(), argv)
    cases = read_cases(args.cases)
    policy = policy_for(args.policy)
    start = time.monotonic()
    results = run_cases(cases, policy, args.cases, env)
    if args.format == "json":
        out.write(render_json(results, args.cases, policy))
    else:
        out.write(render_text(results, args.cases, policy, time.monotonic() - start))
    return Exit.VIOLATION if any(not r.passed for r in results) else Exit.OK
