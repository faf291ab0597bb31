"""The tracking-store reader against a real server, a real sqlite store and a real file store."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from runkit import BRANCH, AuthProxy, Runs

from flowwarden.adapters.mlflow import DEFAULT_TIMEOUT, StoreUnreachable
from flowwarden.adapters.mlflow.store import open_store, resolve_uri


@pytest.fixture(params=["server", "sqlite", "file"])
def store_runs(request: pytest.FixtureRequest) -> Runs:
    name = {"server": "server_runs", "sqlite": "sqlite_runs", "file": "file_runs"}[request.param]
    runs: Runs = request.getfixturevalue(name)
    return runs


def test_finished_run_reads_status_latest_metrics_params_and_tags(store_runs: Runs) -> None:
    run = open_store(store_runs.uri, {}).get_run(store_runs.good)

    assert run is not None
    assert (run.id, run.status, run.lifecycle_stage) == (store_runs.good, "FINISHED", "active")
    assert run.metrics == {"val_accuracy": 0.93, "val_loss": 0.31}  # the last step, not the first
    assert run.params == {"lr": "0.01"}
    assert run.tags["mlflow.source.git.branch"] == BRANCH
    assert run.tags["team"] == "vision"
    assert run.start_time is not None and run.start_time > 1_600_000_000_000


def test_statuses_and_deletion_come_through(store_runs: Runs) -> None:
    store = open_store(store_runs.uri, {})
    failed, running, deleted = (store.get_run(i) for i in
                                (store_runs.failed, store_runs.running, store_runs.deleted))

    assert failed is not None and failed.status == "FAILED"
    assert running is not None and running.status == "RUNNING"
    assert deleted is not None and deleted.deleted


def test_unknown_run_is_none(store_runs: Runs) -> None:
    assert open_store(store_runs.uri, {}).get_run("0123456789abcdef0123456789abcdef") is None


def test_search_finds_active_runs_of_the_branch_since_a_time(store_runs: Runs) -> None:
    store = open_store(store_runs.uri, {})
    everything = store.search_runs(BRANCH, None)
    found = {r.id for r in everything}

    assert {store_runs.good, store_runs.weak, store_runs.failed, store_runs.running} <= found
    assert store_runs.deleted not in found
    assert store.search_runs("experiment/nobody-ran-this", None) == []
    latest = max(r.start_time or 0 for r in everything)
    assert {r.id for r in store.search_runs(BRANCH, latest + 1)} == set()


def test_sqlite_store_is_opened_read_only(sqlite_runs: Runs) -> None:
    path = Path(sqlite_runs.uri[len("sqlite:///"):])
    before = (path.stat().st_mtime_ns, sorted(os.listdir(path.parent)))

    open_store(sqlite_runs.uri, {}).get_run(sqlite_runs.good)
    open_store(sqlite_runs.uri, {}).search_runs(BRANCH, None)

    assert (path.stat().st_mtime_ns, sorted(os.listdir(path.parent))) == before


def test_relative_sqlite_and_file_uris_are_taken_from_the_repository_root(
        sqlite_runs: Runs, file_runs: Runs) -> None:
    db = Path(sqlite_runs.uri[len("sqlite:///"):])
    assert open_store("sqlite:///mlflow.db", {}, db.parent).get_run(sqlite_runs.good)
    root = Path(file_runs.uri)
    assert open_store("file:mlruns", {}, root.parent).get_run(file_runs.good)
    assert open_store("./mlruns", {}, root.parent).get_run(file_runs.good)


def test_missing_local_stores_are_unreachable_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(StoreUnreachable, match="no MLflow database at .*nowhere.db"):
        open_store("sqlite:///nowhere.db", {}, tmp_path).get_run("0" * 32)
    with pytest.raises(StoreUnreachable, match="no MLflow file store at .*mlruns"):
        open_store(str(tmp_path / "mlruns"), {}).get_run("0" * 32)
    with pytest.raises(StoreUnreachable, match="unsupported tracking URI scheme 'postgresql'"
                       ".*MLflow server"):
        open_store("postgresql://ada:pw@db/mlflow", {})


def test_a_file_that_is_not_an_mlflow_database_is_unreachable(tmp_path: Path) -> None:
    (tmp_path / "mlflow.db").write_text("not sqlite")
    with pytest.raises(StoreUnreachable, match="cannot read .*mlflow.db"):
        open_store("sqlite:///mlflow.db", {}, tmp_path).get_run("0" * 32)


# --- auth -----------------------------------------------------------------------------


def test_basic_auth_from_the_environment(auth_proxy: AuthProxy, server_runs: Runs) -> None:
    env = {"MLFLOW_TRACKING_USERNAME": auth_proxy.user,
           "MLFLOW_TRACKING_PASSWORD": auth_proxy.password}
    run = open_store(auth_proxy.url, env).get_run(server_runs.good)

    assert run is not None and run.status == "FINISHED"
    assert [r.id for r in open_store(auth_proxy.url, env).search_runs(BRANCH, None)]


def test_bearer_token_from_the_environment(auth_proxy: AuthProxy, server_runs: Runs) -> None:
    run = open_store(auth_proxy.url, {"MLFLOW_TRACKING_TOKEN": auth_proxy.token}) \
        .get_run(server_runs.failed)

    assert run is not None and run.status == "FAILED"


def test_credentials_in_the_uri_are_sent_and_never_shown(auth_proxy: AuthProxy,
                                                          server_runs: Runs) -> None:
    uri = auth_proxy.url.replace("http://", f"http://{auth_proxy.user}:{auth_proxy.password}@")
    assert open_store(uri, {}).get_run(server_runs.good) is not None

    wrong = auth_proxy.url.replace("http://", f"http://{auth_proxy.user}:wrong@")
    with pytest.raises(StoreUnreachable) as caught:
        open_store(wrong, {}).get_run(server_runs.good)
    assert "wrong" not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize("env", [
    {},
    {"MLFLOW_TRACKING_USERNAME": "ada", "MLFLOW_TRACKING_PASSWORD": "guess"},
    {"MLFLOW_TRACKING_TOKEN": "not-the-token"},
])
def test_refused_credentials_say_which_variables_to_set(auth_proxy: AuthProxy, server_runs: Runs,
                                                        env: dict[str, str]) -> None:
    with pytest.raises(StoreUnreachable, match=r"refused the credentials \(HTTP 401\).*"
                       "MLFLOW_TRACKING_TOKEN"):
        open_store(auth_proxy.url, env).get_run(server_runs.good)


def test_https_with_the_server_certificate_from_the_environment(tls_proxy: AuthProxy,
                                                                 self_signed: Path,
                                                                 server_runs: Runs) -> None:
    env = {"MLFLOW_TRACKING_TOKEN": tls_proxy.token}
    trusted = {**env, "MLFLOW_TRACKING_SERVER_CERT_PATH": str(self_signed)}
    run = open_store(tls_proxy.url, trusted).get_run(server_runs.good)
    assert run is not None and run.status == "FINISHED"

    with pytest.raises(StoreUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
        open_store(tls_proxy.url, env).get_run(server_runs.good)
    insecure = {**env, "MLFLOW_TRACKING_INSECURE_TLS": "true"}
    assert open_store(tls_proxy.url, insecure).get_run(server_runs.good) is not None


def test_redirects_are_followed_and_credentials_stay_with_their_host(
        auth_proxy: AuthProxy, server_runs: Runs) -> None:
    env = {"MLFLOW_TRACKING_TOKEN": auth_proxy.token}
    run = open_store(auth_proxy.origin + "/moved", env).get_run(server_runs.good)
    assert run is not None and run.status == "FINISHED"
    assert [r.id for r in open_store(auth_proxy.origin + "/moved", env).search_runs(BRANCH, None)]

    with pytest.raises(StoreUnreachable, match="refused the credentials"):
        open_store(auth_proxy.origin + "/elsewhere", env).get_run(server_runs.good)


# --- unreachable ------------------------------------------------------------------------


def test_closed_port_is_unreachable_at_once(closed_port_uri: str) -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnreachable, match="did not answer.*refused"):
        open_store(closed_port_uri, {}, timeout=30).get_run("0" * 32)
    assert time.monotonic() - started < 15  # a refusal, not a wait for the timeout


def test_a_silent_server_times_out_after_the_configured_timeout(silent_uri: str) -> None:
    # Longer than the default, so only the configured timeout explains the wait; lower
    # bounds hold on any machine, however loaded.
    configured = DEFAULT_TIMEOUT + 0.5
    started = time.monotonic()
    with pytest.raises(StoreUnreachable, match="did not answer.*timed out"):
        open_store(silent_uri, {}, timeout=configured).get_run("0" * 32)
    assert time.monotonic() - started > DEFAULT_TIMEOUT


def test_a_proxy_from_the_environment_is_used_for_other_hosts(auth_proxy: AuthProxy,
                                                              server_runs: Runs) -> None:
    # tracking.invalid cannot resolve: only the proxy can reach the server.
    env = {"HTTP_PROXY": auth_proxy.origin, "MLFLOW_TRACKING_TOKEN": auth_proxy.token,
           "NO_PROXY": "example.com,.internal"}
    uri = "http://tracking.invalid/ada/churn-model.mlflow"
    run = open_store(uri, env).get_run(server_runs.good)
    assert run is not None and run.status == "FINISHED"

    with pytest.raises(StoreUnreachable, match="did not answer"):
        open_store(uri, {**env, "NO_PROXY": "localhost,tracking.invalid"}).get_run(server_runs.good)


def test_proxy_variables_are_not_used_for_loopback(server_runs: Runs, closed_port_uri: str) -> None:
    env = {"http_proxy": closed_port_uri, "HTTP_PROXY": closed_port_uri}
    assert open_store(server_runs.uri, env).get_run(server_runs.good) is not None


# --- which store -----------------------------------------------------------------------


def test_policy_uri_wins_over_the_environment_then_mlflow_local_defaults(tmp_path: Path) -> None:
    env = {"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000"}
    assert resolve_uri("sqlite:///team.db", env, tmp_path) == "sqlite:///team.db"
    assert resolve_uri(None, env, tmp_path) == "http://127.0.0.1:5000"
    assert resolve_uri(None, {}, tmp_path) is None
    (tmp_path / "mlflow.db").write_bytes(b"")
    assert resolve_uri(None, {}, tmp_path) == "sqlite:///mlflow.db"
    # MLflow 3 writes artifacts under ./mlruns/<experiment>/ beside mlflow.db: not a store.
    (tmp_path / "mlruns" / "0" / "abc" / "artifacts").mkdir(parents=True)
    assert resolve_uri(None, {}, tmp_path) == "sqlite:///mlflow.db"
    # An old file store (experiments with meta.yaml) is used when MLflow would use it.
    (tmp_path / "mlruns" / "0" / "meta.yaml").write_text("name: Default\n")
    assert resolve_uri(None, {}, tmp_path) == "sqlite:///mlflow.db"
    assert resolve_uri(None, {"MLFLOW_ALLOW_FILE_STORE": "1"}, tmp_path) == "./mlruns"
    (tmp_path / "mlflow.db").unlink()
    assert resolve_uri(None, {}, tmp_path) == "./mlruns"
