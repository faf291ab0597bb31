"""`flowwarden init`: writes the policy, the pre-commit hooks and --no-ff for the protected
branches; running it again changes nothing; --undo puts everything back."""
from __future__ import annotations

import json

import yaml

from fwkit import Repo

EXISTING = """\
# our hooks
repos:
-   repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0
    hooks:
    -   id: trailing-whitespace  # keep this comment
"""


def config(repo: Repo, key: str) -> str:
    return repo.git("config", "--get", key, check=False).out.strip()


def test_init_sets_up_a_repository_and_undo_reverts_it(repo: Repo) -> None:
    result = repo.fw("init")
    assert result.code == 0, result.text
    assert "created .flowwarden.yaml" in result.out
    assert "branch.main.mergeOptions=--no-ff" in result.out
    policy = (repo.path / ".flowwarden.yaml").read_text()
    assert policy.startswith("# yaml-language-server: $schema=./.flowwarden.schema.json\n")
    assert "extends: gitflow-ml" in policy and "# runs:" in policy
    schema = json.loads((repo.path / ".flowwarden.schema.json").read_text())
    assert json.loads(repo.fw("policy", "schema").out) == schema
    assert repo.fw("policy", "validate").code == 0
    hooks = yaml.safe_load((repo.path / ".pre-commit-config.yaml").read_text())
    assert [h["id"] for h in hooks["repos"][0]["hooks"]] == ["flowwarden",
                                                             "flowwarden-commit-msg"]
    assert "pre-push" in hooks["default_install_hook_types"]
    assert config(repo, "branch.main.mergeOptions") == "--no-ff"
    assert config(repo, "branch.develop.mergeOptions") == "--no-ff"

    again = repo.fw("init")
    assert (again.code, again.out) == (0, "flowwarden init: nothing to change\n")

    undone = repo.fw("init", "--undo")
    assert undone.code == 0, undone.text
    assert not (repo.path / ".flowwarden.yaml").exists()
    assert not (repo.path / ".pre-commit-config.yaml").exists()
    assert config(repo, "branch.main.mergeOptions") == ""
    assert not (repo.path / ".git" / "flowwarden" / "init.json").exists()


def test_init_adds_to_an_existing_pre_commit_config_without_losing_it(repo: Repo) -> None:
    (repo.path / ".pre-commit-config.yaml").write_text(EXISTING)
    repo.git("config", "branch.develop.mergeOptions", "--ff-only")
    result = repo.fw("init")
    assert result.code == 0, result.text
    text = (repo.path / ".pre-commit-config.yaml").read_text()
    assert EXISTING in text  # comments and layout kept
    repos = yaml.safe_load(text)["repos"]
    assert repos[0]["hooks"] == [{"id": "trailing-whitespace"}]
    assert repos[1]["hooks"] == [{"id": "flowwarden"}, {"id": "flowwarden-commit-msg"}]
    assert config(repo, "branch.develop.mergeOptions") == "--no-ff"

    assert repo.fw("init", "--format", "json").out == '{\n  "changes": []\n}\n'
    undone = repo.fw("--format", "json", "init", "--undo")
    assert "restored git config branch.develop.mergeOptions=--ff-only" in \
        json.loads(undone.out)["changes"]
    assert (repo.path / ".pre-commit-config.yaml").read_text() == EXISTING
    assert config(repo, "branch.develop.mergeOptions") == "--ff-only"


def test_init_keeps_an_existing_policy_and_undo_keeps_a_file_edited_since(repo: Repo) -> None:
    (repo.path / ".flowwarden.yaml").write_text("extends: gitflow-ml\n")
    result = repo.fw("init")
    assert "created .flowwarden.yaml" not in result.out
    assert (repo.path / ".flowwarden.yaml").read_text() == "extends: gitflow-ml\n"
    (repo.path / ".pre-commit-config.yaml").write_text(
        (repo.path / ".pre-commit-config.yaml").read_text() + "# mine\n")
    undone = repo.fw("init", "--undo")
    assert "kept .pre-commit-config.yaml" in undone.out
    assert (repo.path / ".flowwarden.yaml").exists()


def test_init_writes_policy_test_cases_that_pass(repo: Repo) -> None:
    assert repo.fw("init").code == 0
    cases = repo.path / ".flowwarden.cases.yaml"
    assert "refused: merge-target" in cases.read_text()
    result = repo.fw("test", ".flowwarden.cases.yaml")
    assert result.code == 0, result.text
    assert repo.fw("init", "--undo").code == 0
    assert not cases.exists()
