"""Property-based fuzzing of the local stores: an `mlflow.db` whose columns hold any type, and
a `./mlruns` whose files hold anything (a meta.yaml that is a list, an alias bomb, metric
lines that are not numbers). Whatever they hold, reading a run gives a well-typed run or
StoreUnreachable ("cannot check"), nothing else; an alias bomb is refused unexpanded,
checked by counting the bytes allocated, not by timing."""
from __future__ import annotations

import shutil
import sqlite3
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runkit import BRANCH, Runs

from flowwarden.adapters.mlflow import RUN_ID, Run, StoreUnreachable
from flowwarden.adapters.mlflow.store import open_store

RUN = "0123456789abcdef0123456789abcdef"
FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def well_typed(run: Run) -> None:
    """What the rules rely on, whatever the store held."""
    assert isinstance(run.id, str) and RUN_ID.fullmatch(run.id)
    assert run.status in ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
    assert run.lifecycle_stage in ("active", "deleted")
    assert run.start_time is None or type(run.start_time) is int
    assert all(isinstance(k, str) and type(v) is float for k, v in run.metrics.items())
    assert all(isinstance(k, str) and type(v) is int for k, v in run.steps.items())
    for mapping in (run.params, run.tags):
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())
    assert isinstance(run.experiment_id, str)


def read_all(uri: str, run_id: str) -> list[Run]:
    """Every read the rules make; StoreUnreachable is an answer, any other error a failure."""
    store = open_store(uri, {})
    found: list[Run] = []
    for read in (lambda: [store.get_run(run_id)], lambda: store.search_runs(BRANCH, None),
                 lambda: store.recent_runs(None), lambda: [store.model_run("m-" + "0" * 32)]):
        try:
            found += [r for r in read() if isinstance(r, Run)]
        except StoreUnreachable as error:
            assert str(error)
    for run in found:
        well_typed(run)
    return found


values = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1),
                   st.floats(allow_nan=True), st.text(max_size=20), st.binary(max_size=20),
                   st.sampled_from(["notanint", "FINISHED", "active", "deleted", "3", "NaN"]))

# --- sqlite ----------------------------------------------------------------------------------

COLUMNS = [("runs", "status"), ("runs", "start_time"), ("runs", "lifecycle_stage"),
           ("runs", "experiment_id"), ("latest_metrics", "key"), ("latest_metrics", "value"),
           ("latest_metrics", "is_nan"), ("latest_metrics", "step"), ("params", "key"),
           ("params", "value"), ("tags", "key"), ("tags", "value"),
           ("experiments", "lifecycle_stage")]


@FUZZ
@given(changes=st.lists(st.tuples(st.sampled_from(COLUMNS), values), min_size=1, max_size=3))
def test_any_column_types_in_mlflow_db(sqlite_runs: Runs, tmp_path: Path,
                                       changes: list[tuple[tuple[str, str], Any]]) -> None:
    copy = tmp_path / "mlflow.db"
    shutil.copyfile(sqlite_runs.uri.removeprefix("sqlite:///"), copy)
    with sqlite3.connect(copy) as db:
        db.execute("PRAGMA ignore_check_constraints = ON")
        for (table, column), value in changes:
            where = "" if table == "experiments" else " WHERE run_uuid = ?"
            try:
                db.execute(f"UPDATE {table} SET {column} = ?{where}",
                           (value,) if not where else (value, sqlite_runs.good))
            except sqlite3.IntegrityError:
                pass  # NOT NULL and keys: MLflow's schema itself refuses this value
    read_all(f"sqlite:///{copy}", sqlite_runs.good)


def test_start_time_notanint_in_mlflow_db_cannot_be_checked(sqlite_runs: Runs,
                                                             tmp_path: Path) -> None:
    copy = tmp_path / "mlflow.db"
    shutil.copyfile(sqlite_runs.uri.removeprefix("sqlite:///"), copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE latest_metrics SET value = 'notanint' WHERE run_uuid = ?",
                   (sqlite_runs.good,))
    with pytest.raises(StoreUnreachable, match="metric value 'notanint' is not a number"):
        open_store(f"sqlite:///{copy}", {}).get_run(sqlite_runs.good)


def test_a_file_that_is_no_database_cannot_be_checked(tmp_path: Path) -> None:
    (tmp_path / "mlflow.db").write_bytes(b"\xff" * 4096)
    with pytest.raises(StoreUnreachable, match="cannot read"):
        open_store(f"sqlite:///{tmp_path / 'mlflow.db'}", {}).get_run(RUN)


# --- the file store --------------------------------------------------------------------------

RUN_FILES = {
    "1/meta.yaml": "experiment_id: '1'\nlifecycle_stage: active\nname: fw\n",
    f"1/{RUN}/meta.yaml": (f"run_id: {RUN}\nrun_uuid: {RUN}\nexperiment_id: '1'\nstatus: 3\n"
                           "start_time: 1700000000000\nlifecycle_stage: active\n"),
    f"1/{RUN}/metrics/val_accuracy": "1700000000000 0.5 0\n1700000000500 0.93 3\n",
    f"1/{RUN}/params/lr": "0.01",
    f"1/{RUN}/tags/mlflow.source.git.branch": BRANCH,
    f"1/models/m-{'0' * 32}/meta.yaml": f"source_run_id: {RUN}\n",
}
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))
YAML_PIECES = st.sampled_from([
    "- a\n- b\n", BOMB, "status: notanint\n", "start_time: notanint\n", "status: [3]\n",
    "start_time: 1.5e400\n", "status: 99\n", "status: true\n", "lifecycle_stage: {a: 1}\n",
    "experiment_id: [1]\n", "!!python/object:os.system x\n", "{", "\x00", "a b c\n",
    "1700000000000 x 3\n", "x 0.1 0\n", "1 2 3 4\n", "1 NaN\n", "9" * 5000 + "\n", "",
    "&x a\n", "\udcff", "a:\n  " * 40 + "b\n"])
contents = st.one_of(YAML_PIECES, st.lists(YAML_PIECES, max_size=4).map("".join),
                     st.text(max_size=60), st.binary(max_size=60))


def write_store(root: Path, replaced: dict[str, str | bytes]) -> None:
    for rel, text in {**RUN_FILES, **replaced}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
        path.write_bytes(data)


def test_the_file_store_as_mlflow_writes_it_reads(tmp_path: Path) -> None:
    write_store(tmp_path / "mlruns", {})
    [run, *_] = read_all(str(tmp_path / "mlruns"), RUN)
    assert (run.status, run.metrics, run.steps) == ("FINISHED", {"val_accuracy": 0.93},
                                                    {"val_accuracy": 3})


@FUZZ
@given(replaced=st.dictionaries(st.sampled_from(sorted(RUN_FILES)), contents, min_size=1,
                                max_size=3))
def test_any_file_content_in_mlruns(tmp_path_factory: pytest.TempPathFactory,
                                    replaced: dict[str, str | bytes]) -> None:
    root = tmp_path_factory.mktemp("mlruns")
    write_store(root, replaced)
    read_all(str(root), RUN)


@pytest.mark.parametrize("meta, reason", [
    ("- a\n- b\n", "status None is not an MLflow run status"),
    (BOMB, "anchors or aliases"),
    ("status: 3\nstart_time: notanint\nlifecycle_stage: active\n", "start_time 'notanint'"),
])
def test_a_malformed_meta_yaml_cannot_be_checked(tmp_path: Path, meta: str, reason: str) -> None:
    write_store(tmp_path / "mlruns", {f"1/{RUN}/meta.yaml": meta})
    tracemalloc.start()
    try:
        with pytest.raises(StoreUnreachable, match=reason):
            open_store(str(tmp_path / "mlruns"), {}).get_run(RUN)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024**2  # the bomb's 9**9 values would need gigabytes


def test_a_metric_line_that_is_not_numbers_cannot_be_checked(tmp_path: Path) -> None:
    write_store(tmp_path / "mlruns", {f"1/{RUN}/metrics/val_accuracy": "a b c\n"})
    with pytest.raises(StoreUnreachable, match="is not `timestamp value step`"):
        open_store(str(tmp_path / "mlruns"), {}).get_run(RUN)
