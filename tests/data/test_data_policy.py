"""The `data:` policy section: defaults in one place, validation errors, what the globs match."""
from __future__ import annotations

import json

import pytest
import yaml

from flowwarden.core.errors import PolicyError
from flowwarden.policy.data import (
    DEFAULT_EXEMPT,
    DEFAULT_FIXTURES,
    DEFAULT_PATTERNS,
    Matcher,
    parse_size,
)
from flowwarden.policy.model import Policy
from flowwarden.policy.schema import policies_dir
from fwkit import Repo


def write_policy(repo: Repo, data: str) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\ndata:\n" + data)


def test_preset_does_not_repeat_the_built_in_defaults() -> None:
    preset = yaml.safe_load((policies_dir() / "gitflow-ml.yaml").read_text())
    assert preset["data"] == {}


def test_policy_show_prints_the_effective_data_section(repo: Repo) -> None:
    result = repo.fw("policy", "show", "--format", "json")
    assert result.code == 0, result.text
    data = json.loads(result.out)["data"]
    assert data == {"patterns": list(DEFAULT_PATTERNS), "exempt": list(DEFAULT_EXEMPT),
                    "max_size": "1 MiB", "fixtures": list(DEFAULT_FIXTURES),
                    "fixture_max_size": "10 MiB", "lfs": "report", "unreachable_remote": "block"}


def test_policy_show_folds_extras_into_the_lists(repo: Repo) -> None:
    write_policy(repo, "  extra_patterns: ['weights/']\n  max_size: 10MB\n  remote: storage\n")
    data = json.loads(repo.fw("policy", "show", "--format", "json").out)["data"]
    assert data["patterns"] == [*DEFAULT_PATTERNS, "weights/"]
    assert "extra_patterns" not in data
    assert (data["max_size"], data["remote"]) == ("10 MB", "storage")


def test_malformed_size_is_a_policy_error_with_its_position(repo: Repo) -> None:
    write_policy(repo, '  max_size: "12 parsecs"\n')
    result = repo.fw("policy", "validate")
    assert result.code == 2
    assert ".flowwarden.yaml:3:13: data.max_size: expected a size" in result.text


def test_zero_size_the_schema_lets_through_is_placed_by_the_section(repo: Repo) -> None:
    write_policy(repo, "  lfs: block\n  max_size: 0 KiB\n")
    result = repo.fw("policy", "validate")
    assert result.code == 2
    assert ".flowwarden.yaml:4:13: data.max_size: expected a size of at least one byte" \
        in result.text


@pytest.mark.parametrize(("section", "path"), [
    ({"max_size": "12 parsecs"}, ("data", "max_size")),
    ({"lfs": "maybe"}, ("data", "lfs")),
    ({"extra_exempt": "README*"}, ("data", "extra_exempt")),
])
def test_a_document_without_positions_names_the_key(section: object, path: tuple[str, ...]
                                                    ) -> None:
    with pytest.raises(PolicyError) as raised:
        Policy.from_document({"data": section}, "test")
    assert raised.value.path == path and str(raised.value).startswith(f"test: {'.'.join(path)}")


def test_misspelled_data_key_is_a_policy_error(repo: Repo) -> None:
    write_policy(repo, "  max_sise: 5\n")
    result = repo.fw("policy", "validate")
    assert result.code == 2
    assert ".flowwarden.yaml:3:3: data.max_sise: unknown key 'max_sise' " \
           "(did you mean 'max_size'?)" in result.text


@pytest.mark.parametrize(("data", "words"), [
    ("  lfs: maybe\n", "data.lfs: expected one of allow, report, block"),
    ("  unreachable_remote: ignore\n", "data.unreachable_remote: expected one of block, warn"),
    ("  max_size: lots\n", "data.max_size: expected a size: bytes as an integer"),
    ("  max_size: true\n", "data.max_size: expected False, got True"),
    ("  patterns: ['!data/keep.csv']\n",
     "data.patterns[0]: expected a gitignore-style glob"),
])
def test_bad_data_values_are_policy_errors(repo: Repo, data: str, words: str) -> None:
    write_policy(repo, data)
    result = repo.fw("policy", "validate")
    assert result.code == 2 and words in result.text


def test_valid_data_section_validates(repo: Repo) -> None:
    write_policy(repo, "  max_size: 10 MiB\n  lfs: block\n  remote: storage\n"
                       "  extra_patterns: ['weights/']\n  extra_exempt: ['data/*.md']\n")
    result = repo.fw("policy", "validate")
    assert result.code == 0, result.text


@pytest.mark.parametrize(("value", "size"), [
    (2048, 2048), ("1 MiB", 1048576), ("1MB", 1000000), ("1.5 KiB", 1536), ("512", 512),
    (False, None),
])
def test_sizes(value: object, size: int | None) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("data/**", "data/raw/train.csv", True),
    ("data/**", "src/data/x.py", False),
    ("*.csv", "deep/down/table.CSV", True),
    ("*.csv", "table.csv.dvc", False),
    ("*.tar.gz", "dist/archive.tar.gz", True),
    ("weights/", "weights/a/b.bin", True),
    ("weights/", "nested/weights/b.bin", True),
    ("/top.bin", "top.bin", True),
    ("/top.bin", "sub/top.bin", False),
    ("models", "models/m.onnx", True),
    ("**/cache/*.npy", "a/b/cache/x.npy", True),
    ("file?.txt", "file1.txt", True),
    ("file[0-9].txt", "fileA.txt", False),
])
def test_globs(pattern: str, path: str, matches: bool) -> None:
    assert (Matcher([pattern]).first(path) == pattern) is matches
