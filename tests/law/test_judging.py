"""The judging policy never comes from the pusher: a branch's pushes are judged by the policy
of the protected branch it comes from, and a protected branch starts only from reviewed
history. Real bare repository, real pre-receive hook, real `git push`."""
from __future__ import annotations

import os
from pathlib import Path

from ci.cikit import Server
from fwkit import Repo

from .lawkit import accepted, alias_bomb, push, refused

LOOSE = "extends: gitflow-ml\nrules:\n  dvc-untracked-data: {severity: off}\n"


def loosen_on_feature(dev: Repo) -> None:
    """Push 1: feature/x changes its own policy; develop's policy judges it, and it passes."""
    dev.git("switch", "-q", "-c", "feature/x", "develop")
    dev.commit_file("src/x.py", "x = 1\n", "Start feature x", "--no-verify")
    accepted(push(dev, "feature/x"))
    dev.write(".flowwarden.yaml", LOOSE)
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Loosen the data rules", "--no-verify")
    result = push(dev, "feature/x")
    accepted(result)
    assert f"judged by the policy committed at {dev.sha('develop')[:12]}" in result.err, \
        result.text


def add_csv(dev: Repo, tmp: Path) -> None:
    dev.write("data/big.csv", b"a,b\n" + b"1,2\n" * (3 << 18))
    assert os.path.getsize(dev.path / "data/big.csv") > 3_000_000
    dev.git("add", "data/big.csv")
    dev.git("commit", "-qm", "Add the training table", "--no-verify")


def test_a_feature_that_loosens_its_own_policy_is_still_judged_by_develops(
        guarded: Server, tmp_path: Path) -> None:
    dev = guarded.dev
    loosen_on_feature(dev)
    add_csv(dev, tmp_path)
    result = push(dev, "feature/x")
    refused(result, "dvc-untracked-data", "big.csv")


def test_the_loosened_feature_cannot_carry_data_into_develop(guarded: Server,
                                                              tmp_path: Path) -> None:
    """Push 3 of the issue: merging the loosened feature into develop, in one push."""
    dev = guarded.dev
    loosen_on_feature(dev)
    add_csv(dev, tmp_path)
    dev.git("switch", "-q", "develop")
    dev.git("merge", "-q", "--no-ff", "--no-verify", "-m", "Merge branch 'feature/x' into develop",
            "feature/x")
    refused(push(dev, "develop", "feature/x"), "dvc-untracked-data")
    heads = dev.git("ls-remote", "origin", "refs/heads/develop").out.split()[0]
    assert heads != dev.sha("develop")


def test_a_bomb_in_a_features_own_policy_neither_crashes_nor_pins_the_branch(
        guarded: Server) -> None:
    """The feature's own policy is never parsed on the server: the push is judged by develop,
    and the branch can be deleted afterwards."""
    dev = guarded.dev
    dev.git("switch", "-q", "-c", "feature/bomb", "develop")
    dev.write(".flowwarden.yaml", alias_bomb())
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "A policy of my own", "--no-verify")
    accepted(push(dev, "feature/bomb"))
    dev.commit_file("src/step.py", "x = 1\n", "Add a step", "--no-verify")
    accepted(push(dev, "feature/bomb"))
    accepted(push(dev, ":feature/bomb"))


def test_a_second_production_branch_from_unmerged_work_is_refused(guarded: Server) -> None:
    dev = guarded.dev
    dev.git("switch", "-q", "-c", "feature/f", "develop")
    dev.commit_file("src/f.py", "f = 1\n", "Unreviewed work", "--no-verify")
    result = push(dev, "feature/f:refs/heads/master")
    refused(result, "protected-branch", "master")
    assert "refs/heads/master" not in dev.git("ls-remote", "origin").out
    refused(push(dev, "feature/f:refs/heads/develop2"), "branch-name")


def test_a_protected_branch_created_at_a_commit_main_holds_is_accepted(
        guarded: Server) -> None:
    dev = guarded.dev
    accepted(push(dev, "main:refs/heads/master"))


def test_a_new_develop_must_start_from_what_main_holds(server: Server) -> None:
    """A server with only main: develop created with unreviewed commits on top is refused."""
    dev = server.dev
    dev.git("push", "-q", "origin", ":develop")
    server.install_pre_receive()
    dev.git("switch", "-q", "develop")
    dev.commit_file("src/extra.py", "x = 1\n", "Sneak in", "--no-verify")
    refused(push(dev, "develop"), "protected-branch")
    dev.git("reset", "-q", "--hard", "main")
    accepted(push(dev, "develop"))


WAIVABLE = ("extends: gitflow-ml\nrules:\n  protected-history: {waivable: true}\n"
            "  dvc-untracked-data: {waivable: true}\n")


def waivable_server(server: Server) -> Repo:
    dev = server.dev
    dev.git("switch", "-q", "develop")
    dev.write(".flowwarden.yaml", WAIVABLE)
    dev.git("add", ".flowwarden.yaml")
    dev.git("commit", "-qm", "Let two rules be waived", "--no-verify")
    dev.git("push", "-q", "origin", "develop")
    server.install_pre_receive()
    return dev


def test_a_waiver_on_the_first_of_three_direct_commits_waives_only_that_one(
        server: Server) -> None:
    dev = waivable_server(server)
    dev.commit_file("a.py", "a = 1\n", "One\n\nFlowwarden-Waive: protected-history hotfix\n",
                    "--no-verify")
    dev.commit_file("b.py", "b = 1\n", "Two", "--no-verify")
    dev.commit_file("c.py", "c = 1\n", "Three", "--no-verify")
    result = push(dev, "develop")
    refused(result, "protected-history", "waives only its own commit")


def test_a_waiver_on_every_direct_commit_waives_them(server: Server) -> None:
    dev = waivable_server(server)
    for name in ("a", "b"):
        dev.commit_file(f"{name}.py", "x = 1\n",
                        f"Step {name}\n\nFlowwarden-Waive: protected-history hotfix\n",
                        "--no-verify")
    accepted(push(dev, "develop"))


def test_a_waiver_on_commit_b_does_not_waive_data_committed_in_a(server: Server,
                                                                 tmp_path: Path) -> None:
    dev = waivable_server(server)
    dev.git("switch", "-q", "-c", "feature/data", "develop")
    add_csv(dev, tmp_path)
    dev.commit_file("src/b.py", "b = 1\n",
                    "Unrelated\n\nFlowwarden-Waive: dvc-untracked-data it is small\n",
                    "--no-verify")
    refused(push(dev, "feature/data"), "dvc-untracked-data")
