"""No command-form fix holds a `<placeholder>`: pasted, `<url>` is a redirection (a syntax
error or a file read) and `<run id>` lands in the commit as is. A fix with a placeholder is
words (tests/fixkit.py). Scans every rule module's string literals that read as a command
line, and calls the run-trailer fix builder in each of its shapes."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import flowwarden.rules
from fixkit import is_words
from flowwarden.facts.runs import Message, Scope
from flowwarden.rules.cited_runs import trailer_fix

RULES = Path(flowwarden.rules.__file__).parent
PLACEHOLDER = re.compile(r"<[a-z][\w .-]*>")
COMMAND = re.compile(r"^(cd |git |dvc |mlflow |env |pip |flowwarden |cat |printf )")


def _fix_texts(tree: ast.AST) -> list[str]:
    """Each string literal (f-strings with their fields blanked) of a module's code, its
    docstrings left out; a comment (` # ...`) in a command is for the person, not the shell."""
    docs = {id(n.body[0].value) for n in ast.walk(tree)  # type: ignore[attr-defined]
            if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and n.body
            and isinstance(n.body[0], ast.Expr)}
    docs |= {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id == "doc" for t in n.targets)}
    found = []
    for node in ast.walk(tree):
        if id(node) in docs:
            continue
        if isinstance(node, ast.JoinedStr):
            found.append("".join(v.value if isinstance(v, ast.Constant) else ""
                                 for v in node.values if isinstance(v, (ast.Constant,
                                                                         ast.FormattedValue))))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append(node.value)
    return found


def test_no_rule_prints_a_command_with_a_placeholder() -> None:
    bad = []
    for module in sorted(RULES.glob("*.py")):
        for text in _fix_texts(ast.parse(module.read_text())):
            command = text.split("  # ", 1)[0]
            if COMMAND.match(command) and PLACEHOLDER.search(command):
                bad.append(f"{module.name}: {text}")
    assert bad == []


def test_the_scan_sees_a_placeholder_in_a_command() -> None:
    tree = ast.parse('fix = f"{cd}dvc remote add -d storage <url> && dvc push"\n'
                     'fix2 = "git commit --trailer \\"MLflow-Run-Id: <run id>\\""\n')
    caught = [t for t in _fix_texts(tree) if COMMAND.match(t) and PLACEHOLDER.search(t)]
    assert caught[0] == "dvc remote add -d storage <url> && dvc push"  # past the `{cd}`
    assert 'git commit --trailer "MLflow-Run-Id: <run id>"' in caught


def test_the_trailer_fix_is_a_command_without_placeholder_or_words() -> None:
    scope = Scope(branch="experiment/x", checked=(), whole=(), tip="b" * 40)
    for sha in (None, "b" * 40, "c" * 40):
        for text in ("Try\n", "Try\n\nMLflow-Run-Id: <run id>\n", "Try\n\nBody.\n"):
            msg = Message(branch="experiment/x", sha=sha, text=text, is_merge=False)
            for value in (None, "0123456789abcdef0123456789abcdef"):
                fix = trailer_fix("MLflow-Run-Id", msg, scope, value)
                command = fix.split("  # ", 1)[0]
                assert is_words(fix) or not PLACEHOLDER.search(command), fix
                assert (value is None) == is_words(fix), fix
