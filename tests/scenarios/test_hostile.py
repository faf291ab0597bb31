"""The hostile pushes of issue 9, through the real pre-receive hook and `flowwarden ci`:
a subject names where a merge came from, but only evidence decides."""
from __future__ import annotations

import json

from .kit import Site, accepted, refused

SPOOF = "Merge branch 'release/9.9.9'"


def test_a_feature_merged_into_main_under_a_release_subject_is_refused_by_its_ref(
        site: Site) -> None:
    site.feature()
    accepted(site.push("feature/x"))
    site.merge("main", "feature/x", SPOOF)
    refused(site.push("main"), "protected-history", "merges feature/x (feature)",
            "refs/heads/feature/x", "its subject claims release/9.9.9")


def test_a_spoofed_release_subject_without_a_pushed_branch_is_refused(site: Site) -> None:
    tip = site.feature()
    site.merge("main", "feature/x", SPOOF)
    result = site.push("main")
    refused(result, "protected-history", "no evidence that this merge came from release/9.9.9",
            "subject_only")
    assert f"git push origin {tip}:refs/heads/release/9.9.9" in result.err, result.err


def test_ci_refuses_the_spoofed_release_subject(site: Site) -> None:
    site.feature()
    site.merge("main", "feature/x", SPOOF)
    refused(site.ci_push("main", "main"), "protected-history", "release/9.9.9",
            "no evidence")


def test_the_same_merge_with_the_honest_subject_is_refused_too(site: Site) -> None:
    site.feature()
    site.merge("main", "feature/x", "Merge branch 'feature/x'")
    refused(site.push("main"), "protected-history", "merges feature/x (feature)")


def forge_develop(site: Site) -> str:
    """A merge made with `git commit-tree` whose second parent is an empty root commit."""
    dev = site.dev
    dev.git("switch", "-q", "develop")
    dev.write("data/big.csv", "a,b\n" * 10)
    dev.git("add", "data/big.csv")
    tree = dev.git("write-tree").out.strip()
    empty = dev.git("hash-object", "-t", "tree", "-w", "/dev/null").out.strip()
    root = dev.git("commit-tree", empty, "-m", "root").out.strip()
    merge = dev.git("commit-tree", tree, "-p", "develop", "-p", root, "-m",
                    "Merge branch 'feature/any' into develop").out.strip()
    dev.git("reset", "-q", "--hard", merge)
    return root


def test_a_commit_tree_merge_of_an_empty_root_is_refused(site: Site) -> None:
    forge_develop(site)
    refused(site.push("develop"), "protected-history", "shares no commit with develop",
            "forged or unrelated")


def test_ci_refuses_the_commit_tree_merge(site: Site) -> None:
    forge_develop(site)
    refused(site.ci_push("develop", "develop"), "protected-history", "shares no commit")


def test_a_branch_with_no_history_in_common_with_its_origin_is_refused(site: Site) -> None:
    root = forge_develop(site)
    refused(site.push(f"{root}:refs/heads/feature/any"), "branch-origin",
            "feature/any shares no commit with develop")


def test_a_custom_subject_merge_into_develop_passes_after_the_branch_is_deleted(
        site: Site) -> None:
    site.dev.install_shims()
    site.feature()
    site.dev.git("switch", "-q", "develop")
    merged = site.dev.git("merge", "--no-ff", "feature/x", "-m", "Add the login form (#12)",
                          check=False)
    accepted(merged)  # pre-merge-commit, through the shims
    site.dev.git("branch", "-q", "-D", "feature/x")
    accepted(site.push("develop"))


def release(site: Site, subject: str, version: str = "1.2.0", back: bool = True) -> None:
    site.dev.git("switch", "-q", "-c", f"release/{version}", "develop")
    site.dev.commit_file("VERSION", f"{version}\n", f"Bump version to {version}")
    accepted(site.push(f"release/{version}"))
    site.merge("main", f"release/{version}", subject)
    if back:
        site.merge("develop", f"release/{version}",
                   f"Merge branch 'release/{version}' into develop")
    site.dev.git("branch", "-q", "-D", f"release/{version}")


def test_a_release_with_a_custom_subject_deleted_by_the_same_push_passes(site: Site) -> None:
    release(site, "Merge release/1.2.0")
    accepted(site.push("main", "develop", ":release/1.2.0"))
    audit = site.audit()
    report = json.loads(audit.out)
    assert report["counts"] == {}, audit.text


def test_a_release_merged_with_its_branch_still_on_the_server_passes(site: Site) -> None:
    release(site, "Ship 1.2.0 (#13)")
    accepted(site.push("main", "develop"))


def test_git_flow_avh_release_finish_with_the_tag_back_merge_passes(site: Site) -> None:
    release(site, "Merge branch 'release/1.2.0'", back=False)
    site.dev.git("tag", "-a", "1.2.0", "-m", "Release 1.2.0", "main")
    site.merge("develop", "1.2.0", "Merge tag '1.2.0' into develop")
    result = site.push("main", "develop", "refs/tags/1.2.0", ":release/1.2.0")
    accepted(result)
    audit = site.audit()
    assert json.loads(audit.out)["counts"] == {}, audit.text


def test_an_audit_accepts_a_release_deleted_long_ago_on_its_subject(site: Site) -> None:
    release(site, "Merge branch 'release/1.2.0'")
    accepted(site.push("main", "develop", ":release/1.2.0"))
    result = site.dev.fw("audit", "--format", "json")
    assert json.loads(result.out)["counts"] == {}, result.text


def test_a_squash_merge_is_named_for_what_it_is_at_the_server(site: Site) -> None:
    site.dev.git("switch", "-q", "develop")
    site.dev.commit_file("src/login.py", "x = 1\n", "Add the login form (#12)")
    result = site.push("develop")
    accepted(result)
    assert "rests on its subject alone" in result.err and "pull request #12" in result.err, \
        result.err
    site.dev.git("switch", "-q", "main")
    site.dev.commit_file("src/hotfix.py", "x = 2\n", "Fix the crash (#13)")
    refused(site.push("main"), "protected-history", "squash merge of pull request #13",
            "not accepted here")


def test_an_octopus_merge_cannot_carry_a_feature_behind_a_release(site: Site) -> None:
    """Evidence names one merged branch: a third parent would ride along unjudged."""
    dev = site.dev
    site.feature("feature/oct")
    assert site.push("feature/oct").code == 0
    dev.git("switch", "-q", "-c", "release/2.0.0", "develop")
    dev.git("commit", "-q", "--allow-empty", "-m", "Bump", "--no-verify")
    assert site.push("release/2.0.0").code == 0
    tree = dev.git("merge-tree", "--write-tree", "main", "feature/oct").out.split()[0]
    octopus = dev.git("commit-tree", tree, "-p", "main", "-p", "release/2.0.0", "-p",
                      "feature/oct", "-m", "Merge branch 'release/2.0.0'").out.strip()
    refused(site.push(f"{octopus}:refs/heads/main"), "protected-history", "octopus merge")
