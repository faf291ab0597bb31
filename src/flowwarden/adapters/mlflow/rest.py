"""An MLflow tracking server over its REST API: self-hosted, DagsHub's `<owner>/<repo>.mlflow`,
or Databricks (`<host>/api/2.0/mlflow/...`).

Credentials come from the URI, MLFLOW_TRACKING_* variables or the Databricks profile, and go
only to the server's own origin (`http.Http`). Only MLflow's RESOURCE_DOES_NOT_EXIST answer
means "no such run": any other failure, an HTML 404 from a wrong path included, is
StoreUnreachable ("cannot check"). So is a reply of another shape (`replies`): the server
is not trusted, and what it says reaches messages clipped and without the credentials
(`Http.said`).
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit, urlunsplit

from flowwarden.adapters.mlflow import (
    BRANCH_TAG,
    PARENT_TAG,
    RUN_ID,
    Run,
    StoreUnreachable,
)
from flowwarden.adapters.mlflow.http import Answer, Http
from flowwarden.adapters.mlflow.replies import Malformed, parse_json, run_from_json
from flowwarden.core.redact import redact

NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
AUTH_HINT = ("set MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN")


class RestStore:
    """A tracking server at `base` (scheme, host and any path prefix, no userinfo)."""

    def __init__(self, uri: str, base: str, auth: str | None, env: Mapping[str, str],
                 timeout: float, auth_hint: str = AUTH_HINT) -> None:
        self.uri = uri  # as configured, for messages (always redacted)
        self.http = Http(base, auth, env, timeout)
        self.auth_hint = auth_hint

    def get_run(self, run_id: str) -> Run | None:
        body = self._get("runs/get?" + urlencode({"run_id": run_id}))
        return None if body is None else self._run(body.get("run"), run_id)

    def model_run(self, model_id: str) -> str | None:
        body = self._get("logged-models/" + quote(model_id, safe=""))
        if body is None:
            return None
        model = body.get("model")
        info = model.get("info") if isinstance(model, dict) else None
        source = info.get("source_run_id") if isinstance(info, dict) else None
        if source in (None, ""):
            return None
        if not isinstance(source, str) or not RUN_ID.fullmatch(source):
            raise self._malformed(f"model {model_id}: source_run_id "
                                  f"{self.http.said(repr(source))} is not a run id")
        return source

    def search_runs(self, branch: str, since_ms: int | None) -> list[Run]:
        clauses = [f"tags.`{BRANCH_TAG}` = '{_sql_quote(branch)}'"]
        return self._search(self._experiment_ids(), clauses, since_ms, "ASC", 3)

    def recent_runs(self, since_ms: int | None) -> list[Run]:
        newest = self._search(self._experiment_ids(), [], since_ms, "DESC", 3)
        return newest[::-1]

    def child_runs(self, parent: Run) -> list[Run]:
        ids = [parent.experiment_id] if parent.experiment_id else self._experiment_ids()
        return self._search(ids, [f"tags.`{PARENT_TAG}` = '{_sql_quote(parent.id)}'"],
                            None, "ASC", 2)

    def _search(self, ids: list[str], clauses: list[str], since_ms: int | None, order: str,
                pages: int) -> list[Run]:
        if not ids:
            return []
        if since_ms is not None:
            clauses = [*clauses, f"attributes.start_time >= {since_ms}"]
        runs: list[Run] = []
        for page in self._pages("runs/search", {
                "experiment_ids": ids, "filter": " and ".join(clauses),
                "run_view_type": "ACTIVE_ONLY", "max_results": 100,
                "order_by": [f"attributes.start_time {order}"]}, "runs", limit=pages):
            runs.extend(self._run(r) for r in page)
        return runs

    def _run(self, run: Any, asked: str | None = None) -> Run:
        try:
            return run_from_json(run, self.http.said, asked, self.http.scrub)
        except Malformed as error:
            raise self._malformed(str(error)) from None

    def _malformed(self, what: str) -> StoreUnreachable:
        return StoreUnreachable(f"{redact(self.uri)} answered a malformed reply ({what}): "
                                "not MLflow's REST API, or a version flowwarden cannot read")

    def _experiment_ids(self) -> list[str]:
        ids: list[str] = []
        for page in self._pages("experiments/search",
                                {"max_results": 1000, "view_type": "ACTIVE_ONLY"},
                                "experiments", limit=5):
            for experiment in page:
                found = experiment.get("experiment_id") if isinstance(experiment, dict) else None
                if not isinstance(found, (str, int)) or isinstance(found, bool) \
                        or not 0 < len(str(found)) <= 100:
                    raise self._malformed(f"experiment_id {self.http.said(repr(found))} is "
                                          "not an experiment id")
                ids.append(str(found))
        return ids

    def _pages(self, endpoint: str, payload: dict[str, Any], key: str,
               limit: int) -> Iterator[list[dict[str, Any]]]:
        # Bounded: a hook must not page through a whole tracking server.
        token = None
        for _ in range(limit):
            body = {**payload, **({"page_token": token} if token else {})}
            answer = self._call("POST", endpoint, json.dumps(body).encode())
            found = self._answer(answer)
            if found is None:
                raise StoreUnreachable(f"{redact(self.uri)} answered {NOT_FOUND} to {endpoint}")
            page = found.get(key, [])
            if not isinstance(page, list):
                raise self._malformed(f"{key} is not a list")
            yield page
            token = found.get("next_page_token")
            if not token:
                return
            if not isinstance(token, str):
                raise self._malformed("next_page_token is not text")

    def _get(self, endpoint: str) -> dict[str, Any] | None:
        return self._answer(self._call("GET", endpoint))

    def _call(self, method: str, endpoint: str, body: bytes = b"") -> Answer:
        return self.http.request(method, f"/api/2.0/mlflow/{endpoint}", body)

    def _answer(self, answer: Answer) -> dict[str, Any] | None:
        """The JSON body of a success; None for MLflow's "does not exist"; else unreachable."""
        body = parse_json(answer.body) if "json" in answer.content_type.lower() else None
        if body is not None and body.get("error_code") == NOT_FOUND:
            return None
        if answer.status == 200 and body is not None:
            return body
        name = redact(self.uri)
        if answer.status in (401, 403):
            raise StoreUnreachable(f"{name} refused the credentials (HTTP {answer.status}); "
                                   f"{self.auth_hint}")
        if body is None:
            kind = self.http.said(answer.content_type.split(";")[0].strip(), 60) \
                or "no content type"
            hint = (": is this MLflow's address? A server behind a path prefix needs the "
                    "prefix in the tracking URI" if answer.status in (404, 405, 200) else "")
            raise StoreUnreachable(f"{name} answered HTTP {answer.status} with {kind}, not "
                                   f"MLflow's REST API{hint}")
        detail = body.get("message") or body.get("error_code") or "no details"
        raise StoreUnreachable(f"{name} answered HTTP {answer.status}: "
                               f"{self.http.said(str(detail))}")


def server_store(uri: str, env: Mapping[str, str], timeout: float) -> RestStore:
    """An http(s) server or DagsHub: Basic from the URI or the environment, else Bearer."""
    parts = urlsplit(uri)
    base = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query="",
                                     fragment=""))
    user = env.get("MLFLOW_TRACKING_USERNAME")
    password = env.get("MLFLOW_TRACKING_PASSWORD")
    if parts.username and not user:
        user, password = unquote(parts.username), unquote(parts.password or "")
    auth = None
    if user and password is not None:
        import base64

        auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    elif env.get("MLFLOW_TRACKING_TOKEN"):
        auth = f"Bearer {env['MLFLOW_TRACKING_TOKEN']}"
    return RestStore(uri, base, auth, env, timeout)


def _sql_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")
