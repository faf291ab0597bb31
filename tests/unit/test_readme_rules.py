"""The README's rule table is the one the rules' metadata gives: `flowwarden explain`'s stages
and default severity, `flowwarden rules`' summaries (issue 8: the hand-written table drifted)."""
from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

from fwkit import PROJECT, Result, run

REGENERATE = "regenerate it with `python tools/rule_table.py`"


def rule_table() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rule_table", PROJECT / "tools" / "rule_table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def readme_table(tool: ModuleType) -> str:
    text = (PROJECT / "README.md").read_text()
    assert tool.BEGIN in text and tool.END in text, (
        f"README.md lost the rule-table markers; {REGENERATE}")
    return text.partition(tool.BEGIN)[2].partition(tool.END)[0].strip("\n") + "\n"


def test_readme_rule_table_is_generated_from_the_rules() -> None:
    tool = rule_table()
    assert readme_table(tool) == tool.table(), f"README.md's rule table is stale: {REGENERATE}"


def cli(tmp_path: Path, *args: str) -> Result:
    """This checkout's `flowwarden`, run outside any repository (the preset's severities)."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT / "src"),
           "HOME": str(tmp_path), "GIT_CEILING_DIRECTORIES": str(tmp_path.parent), "NO_COLOR": "1"}
    return run([sys.executable, "-m", "flowwarden", *args], tmp_path, env)


def table_rows() -> dict[str, list[str]]:
    rows = [line.strip("|").split(" | ") for line in readme_table(rule_table()).splitlines()[2:]]
    return {row[0].strip(" `"): [cell.strip() for cell in row[1:]] for row in rows}


def test_readme_rule_table_agrees_with_flowwarden_rules(tmp_path: Path) -> None:
    listed = cli(tmp_path, "rules", "--format", "json")
    assert listed.code == 0, listed.text
    rules = json.loads(listed.out)
    rows = table_rows()
    assert list(rows) == [r["id"] for r in rules], f"README lists other rules: {REGENERATE}"
    for rule in rules:
        assert rows[rule["id"]][2] == rule["summary"], f"{rule['id']}: {REGENERATE}"


def test_readme_stages_for_mlflow_run_id_are_explains(tmp_path: Path) -> None:
    """The row that had drifted: its stages are the ones `flowwarden explain` prints."""
    explained = cli(tmp_path, "explain", "mlflow-run-id")
    assert explained.code == 0, explained.text
    default, stages, _summary = table_rows()["mlflow-run-id"]
    assert f"Default severity: {default}." in explained.out, REGENERATE
    shown = explained.out.partition("Checked at: ")[2].partition(".\n")[0]
    assert sorted(shown.split(", ")) == sorted(stages.split(", ")), (
        f"README says {stages}, explain says {shown}; {REGENERATE}")
