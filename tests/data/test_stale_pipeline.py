"""dvc-stale-pipeline: staged dependency changes that dvc.lock does not record yet (a warning)."""
from __future__ import annotations

import pytest
from dvckit import check_commit, dvc, ids, only

from flowwarden.core.records import Severity
from fwkit import Repo

RULE = "dvc-stale-pipeline"
SCRIPT = ("import sys, yaml\n"
          "p = yaml.safe_load(open('params.yaml'))\n"
          "rows = open('conf/labels.txt').read()\n"
          "open(sys.argv[1], 'w').write(f\"{p['train']['lr']} {rows}\")\n")


@pytest.fixture
def pipeline(dvc_repo: Repo) -> Repo:
    """A committed, reproduced pipeline: `train` depends on code, a directory and a param."""
    dvc_repo.write("train.py", SCRIPT)
    dvc_repo.write("conf/labels.txt", "cat\ndog\n")
    dvc_repo.write("params.yaml", "train:\n  lr: 0.1\n  epochs: 3\n")
    dvc(dvc_repo, "stage", "add", "-q", "-n", "train", "-d", "train.py", "-d", "conf",
        "-p", "train.lr", "-o", "model.txt", "python train.py model.txt")
    dvc(dvc_repo, "repro", "-q")
    dvc_repo.git("add", "-A")
    dvc_repo.git("commit", "-qm", "Add the training pipeline")
    return dvc_repo


def test_fresh_pipeline_passes(pipeline: Repo) -> None:
    pipeline.write("NOTES.md", "unrelated\n")
    pipeline.git("add", "NOTES.md")
    assert check_commit(pipeline) == []


def test_changed_code_dependency_warns_with_dvc_repro(pipeline: Repo) -> None:
    pipeline.write("train.py", SCRIPT + "# tweak\n")
    pipeline.git("add", "train.py")
    v = only(check_commit(pipeline), RULE)
    assert v.severity is Severity.WARNING
    assert v.subject == "train (dvc.lock)"
    assert "train.py changed (dvc.lock records md5" in v.message
    assert v.fix == "dvc repro train && git add dvc.lock"


def test_changed_file_in_a_dependency_directory_warns(pipeline: Repo) -> None:
    pipeline.write("conf/labels.txt", "cat\ndog\nbird\n")
    pipeline.git("add", "conf/labels.txt")
    v = only(check_commit(pipeline), RULE)
    assert "conf/labels.txt in dependency conf/ changed" in v.message


def test_changed_param_warns_but_untracked_param_does_not(pipeline: Repo) -> None:
    pipeline.write("params.yaml", "train:\n  lr: 0.1\n  epochs: 30\n")
    pipeline.git("add", "params.yaml")
    assert RULE not in ids(check_commit(pipeline))

    pipeline.write("params.yaml", "train:\n  lr: 0.5\n  epochs: 3\n")
    pipeline.git("add", "params.yaml")
    v = only(check_commit(pipeline), RULE)
    assert "params.yaml:train.lr is 0.5 (dvc.lock records 0.1)" in v.message


def test_repro_then_staging_the_lock_clears_the_warning(pipeline: Repo) -> None:
    pipeline.write("train.py", SCRIPT + "# tweak\n")
    pipeline.git("add", "train.py")
    assert RULE in ids(check_commit(pipeline))
    dvc(pipeline, "repro", "-q", "train")
    pipeline.git("add", "dvc.lock")
    assert check_commit(pipeline) == []


def test_pipeline_in_a_subdirectory_names_its_dvc_yaml(dvc_repo: Repo) -> None:
    dvc_repo.write("nlp/prep.py", "import sys\nopen(sys.argv[1], 'w').write('x')\n")
    dvc(dvc_repo, "stage", "add", "-q", "-n", "prep", "-w", "nlp", "-d", "prep.py",
        "-o", "out.txt", "python prep.py out.txt")
    dvc(dvc_repo, "repro", "-q")
    dvc_repo.git("add", "-A")
    dvc_repo.git("commit", "-qm", "Add the nlp pipeline")
    dvc_repo.write("nlp/prep.py", "import sys\nopen(sys.argv[1], 'w').write('y')\n")
    dvc_repo.git("add", "nlp/prep.py")
    v = only(check_commit(dvc_repo), RULE)
    assert "nlp/prep.py changed" in v.message


def test_unreadable_params_file_warns_instead_of_failing(pipeline: Repo) -> None:
    pipeline.write("params.yaml", "train: [lr: 0.5\n")
    pipeline.git("add", "params.yaml")
    v = only(check_commit(pipeline), RULE)
    assert "params.yaml is not readable YAML" in v.message


def test_unreadable_staged_lock_is_reported_once_by_dvc_file_format(pipeline: Repo) -> None:
    pipeline.write("train.py", SCRIPT + "# tweak\n")
    pipeline.write("dvc.lock", "schema: '2.0'\nstages: [\n")
    pipeline.git("add", "train.py", "dvc.lock")
    found = check_commit(pipeline)
    assert ids(found) == ["dvc-file-format"]
    assert "dvc.lock:3: is not the YAML DVC writes" in found[0].message
