"""The `data:` policy section: preset defaults, validation errors, what the globs match."""
from __future__ import annotations

import pytest
import yaml

from flowwarden.policy.schema import policies_dir
from flowwarden.rules.data import DataPolicy, Matcher, parse_size
from fwkit import Repo


def write_policy(repo: Repo, data: str) -> None:
    repo.write(".flowwarden.yaml", "extends: gitflow-ml\ndata:\n" + data)


def test_preset_data_section_is_what_the_rules_assume_without_one() -> None:
    preset = yaml.safe_load((policies_dir() / "gitflow-ml.yaml").read_text())["data"]
    from_preset, built_in = DataPolicy.from_section(preset), DataPolicy.from_section({})
    assert from_preset.data.patterns == built_in.data.patterns
    assert from_preset.exempt.patterns == built_in.exempt.patterns
    assert from_preset[2:] == built_in[2:] == (1024 * 1024, "report", None, "block")


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
