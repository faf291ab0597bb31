"""dvc-not-pushed against version-aware and worktree S3 remotes, on moto's S3 server on
127.0.0.1: real `dvc push`, real `git push` through flowwarden's pre-push shim."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from dvckit import check_push, dvc, only

from flowwarden.core.records import Severity
from fwkit import Repo, run

RULE = "dvc-not-pushed"
# moto accepts any keys; these must never be printed
KEYS = {"AWS_ACCESS_KEY_ID": "AKIAFLOWWARDENTEST01", "AWS_SECRET_ACCESS_KEY": "s3cr3t-not-shown",
        "AWS_DEFAULT_REGION": "us-east-1"}
_buckets = itertools.count()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server, in a thread of this process, on a free port of 127.0.0.1."""
    server_module = pytest.importorskip("moto.server")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Credentials for the git and dvc commands, and for the dvc library in this process."""
    for key, value in {**KEYS, "DVC_SITE_CACHE_DIR": env["DVC_SITE_CACHE_DIR"]}.items():
        monkeypatch.setenv(key, value)
        env[key] = value
    return env


def versioned_bucket(endpoint: str) -> str:
    import boto3

    name = f"versioned-{next(_buckets)}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def add_remote(repo: Repo, name: str, endpoint: str, kind: str, default: bool = True) -> None:
    """A DVC remote `name` of `kind` (version_aware or worktree), committed in .dvc/config."""
    bucket = versioned_bucket(endpoint)
    dvc(repo, "remote", "add", *(["-d"] if default else []), name, f"s3://{bucket}/store")
    dvc(repo, "remote", "modify", name, "endpointurl", endpoint)
    dvc(repo, "remote", "modify", name, kind, "true")
    repo.git("commit", "-qam", f"DVC remote {name}")


def add_data(repo: Repo, path: str, content: str) -> None:
    repo.write(path, content)
    dvc(repo, "add", "-q", path)
    repo.git("add", f"{path}.dvc", f"{Path(path).parent}/.gitignore")
    repo.git("commit", "-qm", f"Track {path} with DVC")


def assert_no_secrets(text: str) -> None:
    assert KEYS["AWS_ACCESS_KEY_ID"] not in text and KEYS["AWS_SECRET_ACCESS_KEY"] not in text


@pytest.mark.usefixtures("s3_env")
@pytest.mark.parametrize("kind", ["version_aware", "worktree"])
def test_versioned_remote_push_is_refused_until_data_and_version_ids_are_in(
        pushed: Repo, s3_endpoint: str, kind: str) -> None:
    pushed.git("push", "-q", "origin", "develop")
    pushed.git("switch", "-q", "-c", "feature/data", "develop")
    pushed.install_shims()
    add_remote(pushed, "va", s3_endpoint, kind)
    add_data(pushed, "data/train.csv", "a,b\n1,2\n")

    refused = pushed.git("push", "origin", "feature/data", check=False)
    assert refused.code != 0, refused.text
    assert "dvc-not-pushed: data/train.csv" in refused.text
    assert "is not in DVC remote va (s3://versioned-" in refused.text
    fix = ("dvc push -r va && git add data/train.csv.dvc && "
           "git commit -m 'Record the DVC remote version ids'")
    assert f"fix: {fix}" in refused.text
    assert_no_secrets(refused.text)

    # the fix, pasted at the repository root: DVC writes the version ids, git records them
    done = run(["sh", "-c", fix], pushed.path, pushed.env)
    assert done.code == 0, done.text
    assert "version_id:" in (pushed.path / "data/train.csv.dvc").read_text()
    accepted = pushed.git("push", "origin", "feature/data", check=False)
    assert accepted.code == 0, accepted.text
    assert "dvc-not-pushed" not in accepted.text


@pytest.mark.usefixtures("s3_env")
def test_version_ids_committed_but_a_new_version_not_pushed_is_refused(
        pushed: Repo, s3_endpoint: str) -> None:
    add_remote(pushed, "va", s3_endpoint, "version_aware")
    add_data(pushed, "data/train.csv", "a,b\n1,2\n")
    dvc(pushed, "push", "-q")
    pushed.git("commit", "-qam", "Record version ids")
    assert check_push(pushed) == []

    add_data(pushed, "data/train.csv", "a,b\n3,4\n")  # `dvc add` drops the old version id
    v = only(check_push(pushed), RULE)
    assert v.subject == "data/train.csv" and v.severity is Severity.ERROR


@pytest.mark.usefixtures("s3_env")
def test_versioned_remote_down_cannot_be_checked_and_the_policy_decides(
        pushed: Repo, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's retries: seconds per check
    add_remote(pushed, "va", s3_endpoint, "version_aware")
    add_data(pushed, "data/train.csv", "a,b\n1,2\n")
    dvc(pushed, "push", "-q")
    pushed.git("commit", "-qam", "Record version ids")
    dvc(pushed, "remote", "modify", "va", "endpointurl", "http://127.0.0.1:9")  # nothing there

    v = only(check_push(pushed), RULE)
    assert v.severity is Severity.ERROR
    assert "could not be checked" in v.message and "not in DVC remote" not in v.message
    assert "Could not connect" in v.message
    assert any("FLOWWARDEN_SKIP=dvc-not-pushed git push" in d for d in v.details)
    assert_no_secrets(repr(v))

    v = only(check_push(pushed, document={"data": {"unreachable_remote": "warn"}}), RULE)
    assert v.severity is Severity.WARNING


@pytest.mark.usefixtures("s3_env")
def test_plain_s3_remote_is_asked_through_dvc(pushed: Repo, s3_endpoint: str) -> None:
    bucket = versioned_bucket(s3_endpoint)
    dvc(pushed, "remote", "add", "-d", "s3", f"s3://{bucket}/plain")
    dvc(pushed, "remote", "modify", "s3", "endpointurl", s3_endpoint)
    for i in range(3):
        pushed.write(f"images/{i}.txt", f"image {i}\n")
    dvc(pushed, "add", "-q", "images")
    pushed.git("add", "images.dvc", ".gitignore")
    pushed.git("commit", "-qm", "Track images")
    v = only(check_push(pushed), RULE)
    assert v.subject == "images" and "directory manifest" in v.message

    dvc(pushed, "push", "-q")
    assert check_push(pushed) == []
