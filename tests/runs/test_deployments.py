"""Tracking stores as teams deploy them (issue 14): MLflow 3's defaults, training from a
subdirectory, Databricks, corporate TLS and proxies, wrong URLs, credentials in URLs.

Every store is real: MLflow 3 writes the local ones, the shared `mlflow server` stands behind
loopback proxies for the rest.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from runkit import BRANCH, UNKNOWN, AuthProxy, Runs, at_commit, ids, msg
from servers import serve_connect_proxy, serve_html_404

from flowwarden.adapters.mlflow import StoreUnreachable
from flowwarden.adapters.mlflow.store import open_store, resolve_uri
from flowwarden.core.records import Severity

TRAIN = """\
import mlflow
with mlflow.start_run() as run:
    mlflow.log_metric("val_accuracy", 0.93)
    mlflow.log_text("weights", "model/weights.txt")
    model = mlflow.create_external_model(name="encoder")
print(run.info.run_id, model.model_id)
"""


def train(folder: Path, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Run a training script with MLflow left at its defaults, in `folder`: (run, model)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(TRAIN)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    done = subprocess.run([sys.executable, "train.py"], cwd=folder, capture_output=True,
                          text=True, env={**clean, **(env or {})}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    run_id, model_id = done.stdout.split()[-2:]
    return run_id, model_id


# --- MLflow 3's defaults ---------------------------------------------------------------


def test_mlflow3_defaults_with_a_logged_model_are_the_sqlite_store(repo: Any) -> None:
    # Left at its defaults MLflow 3 tracks in ./mlflow.db and puts artifacts under ./mlruns.
    run_id, model_id = train(repo.path)
    assert (repo.path / "mlruns").is_dir() and (repo.path / "mlflow.db").is_file()

    assert resolve_uri(None, {}, repo.path) == "sqlite:///mlflow.db"
    store = open_store("sqlite:///mlflow.db", {}, repo.path)
    run = store.get_run(run_id)
    assert run is not None and run.metrics["val_accuracy"] == 0.93
    assert store.model_run(model_id) == run_id
    # Citing the run is verified against that store: no finding at all.
    assert at_commit(repo, msg("Train", run_id)) == []


def test_training_from_a_subdirectory_names_the_store_it_wrote(repo: Any) -> None:
    run_id, _model = train(repo.path / "src")  # `cd src && python train.py`

    [found] = at_commit(repo, msg("Train", run_id))
    assert found.rule == "mlflow-run-unknown" and found.severity is Severity.WARNING
    assert "found src/mlflow.db in the repository" in found.message
    assert "runs.tracking_uri" in found.message and "sqlite:///src/mlflow.db" in found.message

    assert at_commit(repo, msg("Train", run_id),
                     runs={"tracking_uri": "sqlite:///src/mlflow.db"}) == []


def test_a_relative_sqlite_uri_that_is_missing_names_the_stores_found(repo: Any) -> None:
    (repo.path / "notebooks").mkdir()
    (repo.path / "notebooks" / "mlflow.db").write_bytes(b"")
    with pytest.raises(StoreUnreachable, match=r"no MLflow database at .*mlflow\.db.*found "
                       r"notebooks/mlflow\.db"):
        open_store("sqlite:///mlflow.db", {}, repo.path)


# --- Databricks --------------------------------------------------------------------------


def test_databricks_host_and_token_from_the_environment(auth_proxy: AuthProxy,
                                                        server_runs: Runs) -> None:
    # A Databricks workspace serves MLflow's REST API under its host with a Bearer token.
    env = {"DATABRICKS_HOST": auth_proxy.url, "DATABRICKS_TOKEN": auth_proxy.token}
    run = open_store("databricks", env).get_run(server_runs.good)
    assert run is not None and run.status == "FINISHED"

    with pytest.raises(StoreUnreachable, match="refused the credentials.*Databricks token") \
            as caught:
        open_store("databricks", {**env, "DATABRICKS_TOKEN": "dapi-expired"}) \
            .get_run(server_runs.good)
    assert "dapi-expired" not in str(caught.value)


def test_databricks_profile_from_the_config_file(auth_proxy: AuthProxy, server_runs: Runs,
                                                 tmp_path: Path) -> None:
    (tmp_path / ".databrickscfg").write_text(
        f"[DEFAULT]\nhost = http://127.0.0.1:9\ntoken = wrong\n\n"
        f"[team]\nhost = {auth_proxy.url}\ntoken = {auth_proxy.token}\n")
    env = {"HOME": str(tmp_path), "DATABRICKS_HOST": "http://127.0.0.1:9",
           "DATABRICKS_TOKEN": "wrong"}
    # The profile the URI names wins over the environment.
    assert open_store("databricks://team", env).get_run(server_runs.good) is not None
    with pytest.raises(StoreUnreachable, match="no Databricks host for profile nobody"):
        open_store("databricks://nobody", {"HOME": str(tmp_path)})


# --- TLS and proxies as MLflow's client honours them ---------------------------------------


@pytest.mark.parametrize("setting", [
    {"MLFLOW_TRACKING_INSECURE_TLS": "1"},
    {"MLFLOW_TRACKING_INSECURE_TLS": "TRUE"},
    {"REQUESTS_CA_BUNDLE": "<cert>"},
    {"CURL_CA_BUNDLE": "<cert>"},
])
def test_tls_settings_mlflow_honours(tls_proxy: AuthProxy, self_signed: Path, server_runs: Runs,
                                     setting: dict[str, str]) -> None:
    env = {k: v.replace("<cert>", str(self_signed)) for k, v in setting.items()}
    env["MLFLOW_TRACKING_TOKEN"] = tls_proxy.token
    run = open_store(tls_proxy.url, env).get_run(server_runs.good)
    assert run is not None and run.status == "FINISHED"


def test_https_through_a_proxy_keeps_the_credentials_from_it(tls_proxy: AuthProxy,
                                                             self_signed: Path,
                                                             server_runs: Runs) -> None:
    # tracking.invalid resolves nowhere: only the proxy's tunnel reaches the server.
    port = tls_proxy.origin.rsplit(":", 1)[1]
    uri = f"https://tracking.invalid:{port}/ada/churn-model.mlflow"
    with serve_connect_proxy(int(port)) as (proxy, heads):
        env = {"HTTPS_PROXY": proxy, "REQUESTS_CA_BUNDLE": str(self_signed),
               "MLFLOW_TRACKING_TOKEN": tls_proxy.token}
        run = open_store(uri, env).get_run(server_runs.good)
        assert run is not None and run.status == "FINISHED"
        assert heads and all(h.startswith(f"CONNECT tracking.invalid:{port} ") for h in heads)
        assert not any(tls_proxy.token in h or "authorization" in h.lower() for h in heads)

        with pytest.raises(StoreUnreachable, match="did not answer"):
            open_store(uri, {**env, "NO_PROXY": ".invalid"}).get_run(server_runs.good)


# --- a wrong URL is not a wrong run --------------------------------------------------------


def test_an_html_404_is_cannot_check_not_run_not_found(repo: Any, mlflow_server: str,
                                                       server_runs: Runs) -> None:
    with serve_html_404() as site:
        with pytest.raises(StoreUnreachable, match="HTTP 404 with text/html, not MLflow's "
                           "REST API.*path prefix"):
            open_store(site + "/mlflow", {}).get_run(server_runs.good)
        found = at_commit(repo, msg("Train", server_runs.good), runs={"tracking_uri": site})
    # on_unreachable.commit is warn: the commit goes on, and nothing says "not found".
    assert [(v.rule, v.severity) for v in found] == [("mlflow-run-unknown", Severity.WARNING)]
    assert "cannot verify run" in found[0].message and "not found" not in found[0].message


def test_a_missing_path_prefix_is_cannot_check(auth_proxy: AuthProxy, server_runs: Runs) -> None:
    # The proxy serves the API under /ada/churn-model.mlflow; its root answers 404.
    env = {"MLFLOW_TRACKING_TOKEN": auth_proxy.token}
    with pytest.raises(StoreUnreachable, match="HTTP 404"):
        open_store(auth_proxy.origin, env).get_run(server_runs.good)
    assert open_store(auth_proxy.url, env).get_run(UNKNOWN) is None  # MLflow's own answer


# --- credentials are never printed ---------------------------------------------------------


@pytest.mark.parametrize("userinfo", ["ada:Pa55word", "ghp_T0KEN"])
def test_credentials_in_the_tracking_uri_appear_in_no_message(repo: Any, auth_proxy: AuthProxy,
                                                              closed_port_uri: str,
                                                              userinfo: str) -> None:
    secret = userinfo.split(":")[-1]
    unknown_run = auth_proxy.url.replace("http://", f"http://{userinfo}@")
    refused = closed_port_uri.replace("http://", f"http://{userinfo}@")
    found = [*at_commit(repo, msg("Train", UNKNOWN), runs={"tracking_uri": unknown_run},
                        env={"MLFLOW_TRACKING_TOKEN": auth_proxy.token}),
             *at_commit(repo, msg("Train", UNKNOWN), runs={"tracking_uri": refused})]
    assert ids(found) == ["mlflow-run-unknown", "mlflow-run-unknown"]
    shown = json.dumps([v._asdict() for v in found], default=str)
    assert secret not in shown and "***@127.0.0.1" in shown


def test_branch_runs_are_found_through_databricks(auth_proxy: AuthProxy,
                                                  server_runs: Runs) -> None:
    env = {"DATABRICKS_HOST": auth_proxy.url, "DATABRICKS_TOKEN": auth_proxy.token}
    store = open_store("databricks", env)
    assert server_runs.good in {r.id for r in store.search_runs(BRANCH, None)}
