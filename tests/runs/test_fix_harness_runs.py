"""Every run rule's printed fix, pasted where the user is, makes the refused operation pass;
a fix that cannot be one command is words, and doing what the words say makes it pass.
Real git hooks (the shims) locally and on the server, a real `mlflow server` on 127.0.0.1."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from runkit import Runs, branch_run, head_time_ms

from fixkit import assert_words, fix_of, paste
from fwkit import HOOKS, Repo, Result

# --- scenarios --------------------------------------------------------------------------

GATE = '  metrics: {val_accuracy: ">= 0.90", val_loss: "< 0.4"}\n'


def policy(uri: str, extra: str = "") -> str:
    return f"extends: gitflow-ml\nruns:\n  tracking_uri: {uri}\n{GATE}{extra}"


@pytest.fixture
def branch() -> str:
    """An experiment branch no run on the shared server is tagged with."""
    return f"experiment/wide-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def hooked(repo: Repo, server_runs: Runs, branch: str, tmp_path: Path) -> Repo:
    """The repository on `branch` with the policy committed on develop, the shims, and a bare
    `origin` holding main and develop."""
    repo.write(".flowwarden.yaml", policy(server_runs.uri))
    repo.git("add", ".flowwarden.yaml")
    repo.git("commit", "-qm", "Adopt flowwarden")
    repo.git("branch", "-f", "develop", "main")
    repo.git("init", "-q", "--bare", str(tmp_path / "origin.git"))
    repo.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    repo.git("push", "-q", "origin", "main", "develop")
    repo.install_shims()
    repo.git("switch", "-qc", branch, "develop")
    return repo


def server_side(repo: Repo, tmp_path: Path) -> None:
    """The server's pre-receive hook judges every push to `origin`."""
    repo.git("-C", str(tmp_path / "origin.git"), "config", "core.hooksPath", str(HOOKS))


def commit(repo: Repo, message: str, path: str = "train.py", *extra: str) -> Result:
    repo.write(path, f"# {uuid.uuid4().hex}\n")
    repo.git("add", path)
    return repo.git("commit", "-m", message, *extra, check=False)


def cite(subject: str, *run_ids: str) -> str:
    return subject + "\n\n" + "".join(f"MLflow-Run-Id: {r}\n" for r in run_ids)


def cited(repo: Repo, rev: str = "HEAD") -> list[str]:
    return repo.git("log", "-1", "--format=%(trailers:key=MLflow-Run-Id,valueonly)",
                    rev).out.split()


def push(repo: Repo, branch: str, *extra: str) -> Result:
    return repo.git("push", *extra, "origin", branch, check=False)


def a_run(client: Any, runs: Runs, branch: str, repo: Repo, status: str = "FINISHED",
          metrics: dict[str, float] | None = None, offset: int = 1000) -> str:
    """A run of `branch`, started after HEAD's commit, from HEAD's commit."""
    run_id = branch_run(client, runs.experiment, branch, head_time_ms(repo) + offset, None,
                        commit=repo.sha())
    for key, value in (metrics or {}).items():
        client.log_metric(run_id, key, value)
    client.set_terminated(run_id, status)
    return run_id


GOOD = {"val_accuracy": 0.95, "val_loss": 0.2}
WEAK = {"val_accuracy": 0.8, "val_loss": 0.2}


# --- mlflow-run-id ------------------------------------------------------------------------


def test_run_id_at_commit_msg_names_the_branchs_run(branch: str, hooked: Repo, client: Any,
                                                     server_runs: Runs) -> None:
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    fix = fix_of(commit(hooked, "Try a wider encoder"), "mlflow-run-id")
    assert run_id in fix and "<run id>" not in fix, fix
    paste(hooked, fix)
    assert cited(hooked) == [run_id]
    assert hooked.git("log", "-1", "--format=%s").out.strip() == "Try a wider encoder"


def test_run_id_at_commit_msg_of_an_edited_message(branch: str, hooked: Repo, client: Any,
                                                   server_runs: Runs) -> None:
    """A message written in the editor, comments and all: the fix commits it again."""
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    hooked.write("train.py", "# wider\n")
    hooked.git("add", "train.py")
    editor = "sed -i '1s/^/Widen the encoder\\n\\nTwice as wide./'"
    hooked.write(".flowwarden.yaml", policy(server_runs.uri, "  offer: never\n"))
    refused = hooked.git("commit", check=False, env={"GIT_EDITOR": editor})
    paste(hooked, fix_of(refused, "mlflow-run-id"))
    assert cited(hooked) == [run_id]
    message = hooked.git("log", "-1", "--format=%B").out
    assert message.startswith("Widen the encoder\n\nTwice as wide.\n") and "#" not in message


def test_run_id_without_a_known_run_is_words_that_work(branch: str, hooked: Repo, client: Any,
                                                       server_runs: Runs) -> None:
    """No run known: the fix is words (log the run, then cite it), not a command whose
    `<run id>` placeholder a paste would commit as a trailer."""
    fix = fix_of(commit(hooked, "Try"), "mlflow-run-id")
    assert_words(fix, hooked.env)
    assert "<" not in fix and "log the run" in fix and "MLflow-Run-Id" in fix, fix
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)  # as the words say
    assert hooked.git("commit", "-m", "Try", "--trailer", f"MLflow-Run-Id: {run_id}",
                      check=False).code == 0


def test_a_pasted_placeholder_trailer_does_not_loop(branch: str, hooked: Repo, client: Any,
                                                    server_runs: Runs) -> None:
    """The old placeholder fix pasted as is: its fix, once a run exists, drops the bad
    trailer instead of keeping it beside the new one (which failed the same way forever)."""
    refused = commit(hooked, "untrack mlflow.db", "train.py", "--trailer",
                     "MLflow-Run-Id: <run id>")
    assert "which is not a run id" in refused.text, refused.text
    assert_words(fix_of(refused, "mlflow-run-id"), hooked.env)  # no run known yet
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    again = commit(hooked, "untrack mlflow.db", "train.py", "--trailer",
                   "MLflow-Run-Id: <run id>")
    fix = fix_of(again, "mlflow-run-id")
    assert run_id in fix and "<run id>" not in fix.replace("'", ""), fix
    paste(hooked, fix)
    assert cited(hooked) == [run_id]
    assert hooked.git("log", "-1", "--format=%s").out.strip() == "untrack mlflow.db"


def test_a_bad_trailer_at_pre_push_is_replaced_not_kept(branch: str, hooked: Repo, client: Any,
                                                        server_runs: Runs) -> None:
    good = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=-500_000)
    commit(hooked, cite("Typo", "not-a-run", good), "train.py", "--no-verify")
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    fix = fix_of(push(hooked, branch), "mlflow-run-id")
    paste(hooked, fix)
    assert sorted(cited(hooked)) == sorted([good, run_id]), fix
    assert push(hooked, branch).code == 0


def test_run_id_at_pre_push_amends_the_tip_with_the_real_run(
        branch: str, hooked: Repo, client: Any, server_runs: Runs) -> None:
    commit(hooked, "Skipped the hook", "train.py", "--no-verify")
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    fix = fix_of(push(hooked, branch), "mlflow-run-id")
    assert f"git commit --amend --no-edit --trailer \"MLflow-Run-Id: {run_id}\"" == fix
    paste(hooked, fix)  # the amend runs the commit-msg hook, which passes
    assert push(hooked, branch).code == 0


def test_run_id_at_pre_push_names_several_candidates(branch: str, hooked: Repo, client: Any,
                                                     server_runs: Runs) -> None:
    commit(hooked, "Skipped the hook", "train.py", "--no-verify")
    first = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=1000)
    second = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=2000)
    refused = push(hooked, branch)
    assert "2 runs of" in refused.text and first in refused.text, refused.text
    fix = fix_of(refused, "mlflow-run-id")
    assert second in fix
    paste(hooked, fix)
    assert push(hooked, branch).code == 0


def test_run_id_of_an_older_commit_at_pre_receive(branch: str, hooked: Repo, client: Any,
                                                  server_runs: Runs, tmp_path: Path) -> None:
    server_side(hooked, tmp_path)
    commit(hooked, "Skipped the hook", "train.py", "--no-verify")
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    good = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=5000)
    commit(hooked, cite("Train more", good), "more.py")
    refused = push(hooked, branch, "--no-verify")
    assert "remote: error: mlflow-run-id" in refused.text, refused.text
    fix = fix_of(refused, "mlflow-run-id")
    assert run_id in fix, fix
    paste(hooked, fix)
    assert push(hooked, branch, "--no-verify").code == 0
    assert cited(hooked, "HEAD~1") == [run_id] and cited(hooked) == [good]


def test_run_id_in_ci(branch: str, hooked: Repo, client: Any, server_runs: Runs) -> None:
    base = hooked.sha("develop")
    commit(hooked, "Skipped the hook", "train.py", "--no-verify")
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    refused = hooked.fw("ci", "--range", f"{base}..HEAD", "--ref", branch)
    paste(hooked, fix_of(refused, "mlflow-run-id"))
    again = hooked.fw("ci", "--range", f"{base}..HEAD", "--ref", branch)
    assert again.code == 0, again.text
    assert cited(hooked) == [run_id]


# --- mlflow-run-unknown and mlflow-run-status (fixes in words) ----------------------------


def test_unknown_run_at_commit_msg_is_words(branch: str, hooked: Repo, client: Any,
                                            server_runs: Runs) -> None:
    fix = fix_of(commit(hooked, cite("Try", "0123456789abcdef0123456789abcdef")),
                 "mlflow-run-unknown")
    assert_words(fix)
    assert server_runs.uri in fix
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)  # as the words say
    assert hooked.git("commit", "-m", cite("Try", run_id), check=False).code == 0


def test_deleted_run_fix_restores_it(branch: str, hooked: Repo, client: Any,
                                     server_runs: Runs) -> None:
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    client.delete_run(run_id)
    fix = fix_of(commit(hooked, cite("Try", run_id)), "mlflow-run-unknown")
    paste(hooked, fix)
    assert hooked.git("commit", "-m", cite("Try", run_id), check=False).code == 0


def test_failed_run_at_commit_msg_is_words(branch: str, hooked: Repo, client: Any,
                                           server_runs: Runs) -> None:
    failed = a_run(client, server_runs, branch, hooked, "FAILED")
    fix = fix_of(commit(hooked, cite("Try", failed)), "mlflow-run-status")
    assert_words(fix)
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=3000)
    assert hooked.git("commit", "-m", cite("Try", run_id), check=False).code == 0


def test_failed_run_at_pre_push_rewords_the_commit_that_cites_it(
        branch: str, hooked: Repo, client: Any, server_runs: Runs) -> None:
    failed = a_run(client, server_runs, branch, hooked, "FAILED")
    commit(hooked, cite("Try", failed), "train.py", "--no-verify")
    sha = hooked.sha()
    commit(hooked, cite("Tidy", server_runs.good), "tidy.py")
    fix = fix_of(push(hooked, branch), "mlflow-run-status")
    assert sha[:10] in fix and "reword" in fix, fix
    assert_words(fix)
    again = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=4000)
    reword(hooked, sha, failed, again)
    assert push(hooked, branch).code == 0


def reword(repo: Repo, sha: str, old: str, new: str) -> None:
    """What the words say, done as a person would: rebase, reword that commit's trailer."""
    short = sha[:7]
    editor = f"sed -i -e '/^pick {short}/s/^pick/reword/'"
    repo.git("-c", f"sequence.editor={editor}", "rebase", "-i", f"{short}~1",
             env={"GIT_EDITOR": f"sed -i -e 's/{old}/{new}/'"})


# --- mlflow-metric-gate -------------------------------------------------------------------


def merge(repo: Repo, branch: str) -> Result:
    repo.git("switch", "-q", "develop")
    return repo.git("merge", "--no-ff", "-m", f"Merge branch '{branch}' into develop", branch,
                    check=False)


def test_gate_at_merge_names_a_run_that_meets_it(branch: str, hooked: Repo, client: Any,
                                                 server_runs: Runs) -> None:
    weak = a_run(client, server_runs, branch, hooked, metrics=WEAK)
    assert commit(hooked, cite("Train", weak)).code == 0
    good = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    refused = merge(hooked, branch)
    fix = fix_of(refused, "mlflow-metric-gate")
    assert good in fix, fix
    paste(hooked, fix)
    assert hooked.git("branch", "--show-current").out.strip() == "develop"
    assert hooked.git("rev-list", "--parents", "-1", "develop").out.count(" ") == 2


def test_gate_at_merge_without_a_passing_run_is_words(branch: str, hooked: Repo, client: Any,
                                                      server_runs: Runs) -> None:
    weak = a_run(client, server_runs, branch, hooked, metrics=WEAK)
    assert commit(hooked, cite("Train", weak)).code == 0
    fix = fix_of(merge(hooked, branch), "mlflow-metric-gate")
    assert_words(fix)
    hooked.git("merge", "--abort")
    hooked.git("switch", "-q", branch)
    good = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=3000)
    assert hooked.git("commit", "--allow-empty", "-m", cite("Record run", good),
                      check=False).code == 0
    assert merge(hooked, branch).code == 0


def test_merged_experiment_whose_cited_run_failed_names_the_commit_to_reword(
        branch: str, hooked: Repo, client: Any, server_runs: Runs) -> None:
    """Issue 11 item 7: a new trailer never helps; the citing commit must be reworded."""
    failed = a_run(client, server_runs, branch, hooked, "FAILED", GOOD)
    commit(hooked, cite("Train", failed), "train.py", "--no-verify")
    sha = hooked.sha()
    hooked.git("switch", "-q", "develop")
    hooked.git("merge", "--no-ff", "--no-verify", "-m", f"Merge branch '{branch}' into develop",
               branch)
    refused = push(hooked, "develop")
    fix = fix_of(refused, "mlflow-metric-gate")
    assert sha[:10] in fix and "reword" in fix, fix
    assert_words(fix)
    # as the words say: undo the merge, reword the commit to cite a run that finished, merge
    hooked.git("reset", "-q", "--keep", "HEAD~1")
    hooked.git("switch", "-q", branch)
    good = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=3000)
    reword(hooked, sha, failed, good)
    assert merge(hooked, branch).code == 0
    assert push(hooked, "develop").code == 0


# --- mlflow-run-provenance (turned on) ------------------------------------------------------


def test_provenance_is_words_and_a_run_from_the_branch_passes(
        branch: str, hooked: Repo, client: Any, server_runs: Runs) -> None:
    hooked.write(".flowwarden.yaml", policy(
        server_runs.uri, "rules:\n  mlflow-run-provenance: {severity: error}\n"))
    elsewhere = branch_run(client, server_runs.experiment, branch, head_time_ms(hooked) + 1000,
                           commit="c" * 40)
    fix = fix_of(commit(hooked, cite("Try", elsewhere)), "mlflow-run-provenance")
    assert_words(fix)
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=2000)
    assert hooked.git("commit", "-m", cite("Try", run_id), check=False).code == 0


def test_failed_run_at_pre_receive_is_words(branch: str, hooked: Repo, client: Any,
                                            server_runs: Runs, tmp_path: Path) -> None:
    server_side(hooked, tmp_path)
    failed = a_run(client, server_runs, branch, hooked, "FAILED")
    commit(hooked, cite("Try", failed), "train.py", "--no-verify")
    sha = hooked.sha()
    refused = push(hooked, branch, "--no-verify")
    assert "remote: error: mlflow-run-status" in refused.text, refused.text
    fix = fix_of(refused, "mlflow-run-status")
    assert_words(fix)
    assert sha[:10] in fix
    good = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=4000)
    reword(hooked, sha, failed, good)
    assert push(hooked, branch, "--no-verify").code == 0


def test_gate_at_pre_receive_of_develop_is_words(branch: str, hooked: Repo, client: Any,
                                                 server_runs: Runs, tmp_path: Path) -> None:
    server_side(hooked, tmp_path)
    weak = a_run(client, server_runs, branch, hooked, metrics=WEAK)
    assert commit(hooked, cite("Train", weak)).code == 0
    hooked.git("switch", "-q", "develop")
    hooked.git("merge", "--no-ff", "--no-verify", "-m", f"Merge branch '{branch}' into develop",
               branch)
    merged = hooked.sha()
    refused = push(hooked, "develop", "--no-verify")
    assert "remote: error: mlflow-metric-gate" in refused.text, refused.text
    fix = fix_of(refused, "mlflow-metric-gate")
    assert_words(fix)
    assert f"undo the merge {merged[:10]}" in fix, fix
    hooked.git("reset", "-q", "--keep", "HEAD~1")  # as the words say
    hooked.git("switch", "-q", branch)
    good = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=3000)
    assert hooked.git("commit", "--allow-empty", "-m", cite("Record run", good),
                      check=False).code == 0
    assert merge(hooked, branch).code == 0
    assert push(hooked, "develop", "--no-verify").code == 0


def test_one_per_branch_at_pre_push_records_the_real_run(branch: str, hooked: Repo,
                                                         client: Any, server_runs: Runs) -> None:
    hooked.write(".flowwarden.yaml", policy(server_runs.uri, "  require: one-per-branch\n"))
    assert commit(hooked, "Try a wider encoder").code == 0  # a commit may still cite later
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    fix = fix_of(push(hooked, branch), "mlflow-run-id")
    assert run_id in fix, fix
    paste(hooked, fix)
    assert push(hooked, branch).code == 0


def test_deleted_run_at_pre_push_fix_restores_it(branch: str, hooked: Repo, client: Any,
                                                 server_runs: Runs) -> None:
    run_id = a_run(client, server_runs, branch, hooked, metrics=GOOD)
    assert commit(hooked, cite("Try", run_id)).code == 0
    client.delete_run(run_id)
    paste(hooked, fix_of(push(hooked, branch), "mlflow-run-unknown"))
    assert push(hooked, branch).code == 0


def test_gate_in_ci_of_a_push_to_develop_is_words(branch: str, hooked: Repo, client: Any,
                                                  server_runs: Runs) -> None:
    weak = a_run(client, server_runs, branch, hooked, metrics=WEAK)
    assert commit(hooked, cite("Train", weak)).code == 0
    base = hooked.sha("develop")
    hooked.git("switch", "-q", "develop")
    hooked.git("merge", "--no-ff", "--no-verify", "-m", f"Merge branch '{branch}' into develop",
               branch)
    refused = hooked.fw("ci", "--range", f"{base}..develop", "--ref", "develop")
    fix = fix_of(refused, "mlflow-metric-gate")
    assert_words(fix)
    hooked.git("reset", "-q", "--keep", "HEAD~1")  # as the words say
    hooked.git("switch", "-q", branch)
    good = a_run(client, server_runs, branch, hooked, metrics=GOOD, offset=3000)
    assert hooked.git("commit", "--allow-empty", "-m", cite("Record run", good),
                      check=False).code == 0
    assert merge(hooked, branch).code == 0
    again = hooked.fw("ci", "--range", f"{base}..develop", "--ref", "develop")
    assert again.code == 0, again.text
