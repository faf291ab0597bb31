"""Property-based fuzzing of what a tracking server answers: the server is not trusted.

A real HTTP server on 127.0.0.1 answers every request with a reply hypothesis chose (status,
headers, redirects, bodies that are not JSON, not UTF-8, nested 100,000 deep, or an MLflow
run with fields of the wrong type), and the real code paths run against it: the run rules
verifying a cited run (commit-msg), and prepare-commit-msg offering the branch's new runs.

Whatever the reply: nothing escapes but the adapter's own answers ("not found", or "cannot
check" through StoreUnreachable); a cited run passes only when the reply is a well-formed
FINISHED run with the asked id; an offer writes only well-formed run ids; no message holds
the credentials (even when the server echoes them) or more than a bounded share of the
server's text; and work is bounded by counting (bytes the server got to send), not timing.
"""
from __future__ import annotations

import base64
import gzip
import json
import re
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runkit import BRANCH, make_ctx, msg, violations

from flowwarden.adapters.mlflow import StoreUnreachable
from flowwarden.adapters.mlflow.http import MAX_BODY
from flowwarden.adapters.mlflow.store import open_store
from flowwarden.core.records import CommitMessage, Violation
from flowwarden.core.stages import Stage
from flowwarden.entry.prepare import prepare_message
from fwkit import Repo

RUN = "0123456789abcdef0123456789abcdef"  # the run every commit message cites
USER, PASSWORD, TOKEN = "fwuser", "pa55-W0rd-s3cret", "tok-7f3e9a1c55d04b2e"
BASIC = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, TOKEN, BASIC)
STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
MESSAGE_LIMIT = 2000  # characters: a server's text is shown clipped, never whole


# --- the server --------------------------------------------------------------------------


@dataclass
class Reply:
    """One answer: `mode` plain, or endless (bytes until the client hangs up), drip (one byte
    at a time, slowly), lying (Content-Length far beyond the body), gzip (a decompression
    bomb), keep-alive (plain, and the connection stays open for the next request).
    `@@AUTH@@` and `@@PASSWORD@@` in the body or headers echo what the client sent."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    body: bytes = b"{}"
    mode: str = "plain"


@dataclass
class Stub:
    """What the server answers (by endpoint, `*` for any) and what it saw and sent."""

    port: int = 0
    replies: dict[str, Reply] = field(default_factory=dict)
    requests: list[tuple[str, str, str]] = field(default_factory=list, repr=False)
    sent: int = 0  # body bytes written, counted for endless and drip replies

    def answer(self, path: str) -> Reply:
        endpoint = path.split("/api/2.0/mlflow/", 1)[-1].split("?", 1)[0]
        return self.replies.get(endpoint) or self.replies.get("*") or Reply()


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            auth = self.headers.get("Authorization") or ""
            stub.requests.append((self.command, self.path, auth))
            reply = stub.answer(self.path)

            scheme, _, credential = auth.partition(" ")
            secret = base64.b64decode(credential).partition(b":")[2] if scheme == "Basic" \
                else credential.encode()

            def echo(data: bytes) -> bytes:
                return data.replace(b"@@AUTH@@", auth.encode()).replace(b"@@PASSWORD@@", secret)

            body = echo(reply.body)
            self.send_response_only(reply.status)
            for name, value in reply.headers:
                self.send_header(name, echo(value.encode("latin-1")).decode("latin-1"))
            if reply.mode in ("plain", "keep-alive"):
                self.send_header("Content-Length", str(len(body)))
            elif reply.mode == "lying":
                self.send_header("Content-Length", str(10**12))
            elif reply.mode == "gzip":
                body = BOMB
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(len(body)))
            if reply.mode != "keep-alive":
                self.send_header("Connection", "close")
            self.end_headers()
            try:
                if reply.mode in ("endless", "drip"):
                    self._forever(reply.mode)
                else:
                    self.wfile.write(body)
            except OSError:
                pass  # the client hung up: what a bounded client does
            self.close_connection = reply.mode != "keep-alive"

        def _forever(self, mode: str) -> None:
            chunk = b"[" * 65536 if mode == "endless" else b" "
            limit = 512 * 1024**2 if mode == "endless" else 500  # a runaway client fails the test
            while stub.sent < limit:
                self.wfile.write(chunk)
                self.wfile.flush()
                stub.sent += len(chunk)
                if mode == "drip":
                    time.sleep(0.02)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


BOMB = gzip.compress(b"[" * (256 * 1024**2), compresslevel=9)  # 256 MiB in about 250 KB


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    state = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


CREDENTIALS = ("uri", "env", "token")


def setting(stub: Stub, credentials: str, timeout: float = 2.0
            ) -> tuple[dict[str, Any], dict[str, str]]:
    """The policy's `runs:` and the hook's environment, with credentials one way or another."""
    origin = f"127.0.0.1:{stub.port}"
    env = {"NO_PROXY": "*"}
    if credentials == "uri":
        uri = f"http://{USER}:{PASSWORD}@{origin}"
    else:
        uri = f"http://{origin}"
        env.update({"MLFLOW_TRACKING_USERNAME": USER, "MLFLOW_TRACKING_PASSWORD": PASSWORD}
                   if credentials == "env" else {"MLFLOW_TRACKING_TOKEN": TOKEN})
    return {"tracking_uri": uri, "timeout": timeout}, env


def check_said(found: list[Violation] | list[str]) -> None:
    """No credential and no unbounded server text in anything flowwarden says."""
    for item in found:
        text = item if isinstance(item, str) else \
            f"{item.message}\n{item.fix}\n{item.subject}\n{item.details}"
        for secret in SECRETS:
            assert secret not in text
        assert len(text) < MESSAGE_LIMIT * 3, text[:300]


def verify(repo: Repo, stub: Stub, credentials: str, timeout: float = 2.0,
           run_id: str = RUN) -> list[Violation]:
    """The run rules on a commit message citing `run_id`, as commit-msg runs them."""
    runs, env = setting(stub, credentials, timeout)
    ctx = make_ctx(repo, Stage.COMMIT_MSG, runs, env)
    found = violations(CommitMessage(BRANCH, msg("Subject", run_id)), ctx)
    assert all(v.rule.startswith("mlflow-") for v in found), found
    check_said(found)
    return found


# --- replies -------------------------------------------------------------------------------


def finished_run(run_id: str = RUN, **info: Any) -> dict[str, Any]:
    """A run as MLflow's REST API writes it."""
    return {"info": {"run_id": run_id, "run_uuid": run_id, "experiment_id": "1",
                     "status": "FINISHED", "lifecycle_stage": "active",
                     "start_time": 1_700_000_000_000, **info},
            "data": {"metrics": [{"key": "val_accuracy", "value": 0.93, "step": 3,
                                  "timestamp": 1_700_000_000_500}],
                     "params": [{"key": "lr", "value": "0.01"}],
                     "tags": [{"key": "mlflow.source.git.branch", "value": BRANCH},
                              {"key": "mlflow.runName", "value": "brave-owl-12"}]}}


def as_json(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


ECHOES = st.sampled_from(["@@AUTH@@", "@@PASSWORD@@", "http://u:@@PASSWORD@@@h/", "x"])
texts = st.one_of(st.text(max_size=40), ECHOES, st.just("A" * 100_000))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                    st.floats(allow_nan=True, allow_infinity=True), texts,
                    st.sampled_from(["notanint", "FINISHED", "NaN", "Infinity", "", RUN,
                                     "1700000000000", "active", "deleted", "3"]))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4),
    st.dictionaries(st.sampled_from(["key", "value", "step", "run_id", "status", "info",
                                     "data", "metrics", "params", "tags"]), inner,
                    max_size=4)), max_leaves=12)

#: Where a well-formed run can be broken: a path into it, and what goes there (None: deleted).
RUN_PATHS = [("info",), ("data",), ("info", "run_id"), ("info", "run_uuid"), ("info", "status"),
             ("info", "lifecycle_stage"), ("info", "start_time"), ("info", "experiment_id"),
             ("data", "metrics"), ("data", "params"), ("data", "tags"),
             ("data", "metrics", 0), ("data", "metrics", 0, "key"),
             ("data", "metrics", 0, "value"), ("data", "metrics", 0, "step"),
             ("data", "params", 0, "value"), ("data", "tags", 0), ("data", "tags", 1, "key"),
             ("data", "tags", 1, "value")]


@st.composite
def broken_runs(draw: st.DrawFn, run_id: str = RUN) -> dict[str, Any]:
    run = finished_run(run_id)
    for path in draw(st.lists(st.sampled_from(RUN_PATHS), max_size=3)):
        node: Any = run
        for step in path[:-1]:
            if isinstance(node, dict):
                node = node.get(step)
            elif isinstance(node, list) and isinstance(step, int) and step < len(node):
                node = node[step]
            else:
                node = None
            if node is None or not isinstance(node, (dict, list)):
                break
        else:
            value = draw(st.one_of(st.just(None), json_values))
            if isinstance(node, dict) and value is None and draw(st.booleans()):
                node.pop(path[-1], None)
            elif isinstance(node, dict) or (isinstance(node, list) and isinstance(
                    path[-1], int) and path[-1] < len(node)):
                node[path[-1]] = value
    return run


def deep(levels: int) -> bytes:
    return b'{"run": ' + b"[" * levels + b"]" * levels + b"}"


bodies = st.one_of(
    broken_runs().map(lambda run: as_json({"run": run})),
    json_values.map(lambda v: as_json({"run": v})),
    json_values.map(as_json),
    st.fixed_dictionaries({"error_code": st.sampled_from(
        ["RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "INTERNAL_ERROR"]),
        "message": texts}).map(as_json),
    st.binary(max_size=64),
    st.sampled_from([b"\xff\xfe{\x00", b'{"run": "\xc3\x28"}', b"", b"null", b"[]",
                     b'{"run": {"info": {"run_id": "' + RUN.encode() + b'", "status": '
                     b'"FINISHED", "start_time": Infinity}}}']),
    st.sampled_from([10, 1000, 100_000]).map(deep),
)
CONTENT_TYPES = st.sampled_from(["application/json", "application/json; charset=utf-8",
                                 "text/html", "", "application/problem+json", "text/plain",
                                 "application/json" + "x" * 5000, "@@AUTH@@/json"])
STATUS_CODES = st.one_of(st.sampled_from([200, 200, 200, 204, 400, 401, 403, 404, 500, 503]),
                         st.integers(100, 599))
LOCATIONS = st.sampled_from([
    "", "/api/2.0/mlflow/runs/get?run_id=" + RUN, "file:///etc/passwd", "ftp://127.0.0.1/x",
    "http://[::1", "//127.0.0.1:1/x", "http://u:@@PASSWORD@@@127.0.0.1:1/x", "javascript:x",
    "http://127.0.0.1:99999/", "/\x7f\x01", "?token=@@PASSWORD@@"])


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    status = draw(st.one_of(STATUS_CODES, st.sampled_from([301, 302, 303, 307, 308])))
    headers = [("Content-Type", draw(CONTENT_TYPES))]
    if status in (301, 302, 303, 307, 308) or draw(st.booleans()):
        headers.append(("Location", draw(LOCATIONS)))
    if draw(st.booleans()):
        headers.append((draw(st.sampled_from(["X-Echo", "WWW-Authenticate", "Set-Cookie"])),
                        draw(st.sampled_from(["@@AUTH@@", "Basic realm=x", "a" * 8000]))))
    mode = draw(st.sampled_from(["plain"] * 8 + ["lying"]))
    return Reply(status, tuple(headers), draw(bodies), mode)


def well_formed_finished(reply: Reply, run_id: str = RUN) -> bool:
    """What a reply must be for a cited run to pass: necessary, checked independently."""
    kind = dict(reply.headers).get("Content-Type", "")
    if reply.status != 200 or "json" not in kind.lower() or reply.mode != "plain":
        return False
    try:
        run = json.loads(reply.body)["run"]
        info = run["info"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return False
    return (isinstance(info, dict) and info.get("run_id", info.get("run_uuid")) == run_id
            and info.get("status") == "FINISHED"
            and info.get("lifecycle_stage", "active") == "active"
            and isinstance(run.get("data", {}), dict))


FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# --- verifying a cited run -----------------------------------------------------------------


@pytest.mark.parametrize("credentials", CREDENTIALS)
def test_a_well_formed_finished_run_passes(repo: Repo, stub: Stub, credentials: str) -> None:
    """The property below could hold by refusing everything: this reply must pass."""
    stub.replies = {"*": Reply(body=as_json({"run": finished_run()}))}
    stub.requests.clear()
    assert verify(repo, stub, credentials) == []
    assert stub.requests[-1][2] in (f"Basic {BASIC}", f"Bearer {TOKEN}")


@FUZZ
@given(reply=replies(), credentials=st.sampled_from(CREDENTIALS))
def test_any_reply_to_a_cited_run(repo: Repo, stub: Stub, reply: Reply,
                                  credentials: str) -> None:
    stub.replies = {"*": reply}
    found = verify(repo, stub, credentials)
    if not found:
        assert well_formed_finished(reply), reply


@pytest.mark.parametrize("run", [
    finished_run(start_time="notanint"), finished_run(start_time=1e400),
    finished_run(status=["FINISHED"]), finished_run(status="FINISHED\n::error::x"),
    {**finished_run(), "data": {"metrics": 5}}, {**finished_run(), "data": {"tags": [5]}},
    {**finished_run(), "data": {"params": [{"key": ["a"], "value": "b"}]}},
    finished_run("ffffffffffffffffffffffffffffffff"), {"info": 5}, "run", 5,
    {**finished_run(), "data": {"metrics": [{"key": "val_accuracy", "value": 10 ** 400,
                                             "step": 0, "timestamp": 0}]}},
], ids=["start-notanint", "start-inf", "status-list", "status-text", "metrics-int", "tag-int",
        "param-key-list", "another-run", "info-int", "run-str", "run-int", "metric-overflow"])
def test_a_malformed_run_cannot_be_checked(repo: Repo, stub: Stub, run: Any) -> None:
    stub.replies = {"*": Reply(body=as_json({"run": run}).replace(b"1e+400", b"1e400"))}
    [found] = verify(repo, stub, "uri")
    assert found.rule == "mlflow-run-unknown" and "cannot verify run" in found.message
    assert "malformed" in found.message or "another run" in found.message, found.message


def test_a_server_echoing_the_credentials_is_not_repeated(repo: Repo, stub: Stub) -> None:
    stub.replies = {"*": Reply(500, body=as_json({"error_code": "INTERNAL_ERROR",
                                                  "message": "bad @@AUTH@@ @@PASSWORD@@"}))}
    [found] = verify(repo, stub, "env")
    assert "HTTP 500: bad" in found.message and "***" in found.message


def test_deep_json_cannot_be_checked(repo: Repo, stub: Stub) -> None:
    stub.replies = {"*": Reply(body=deep(200_000))}
    [found] = verify(repo, stub, "uri")
    assert "cannot verify run" in found.message


# --- offering the branch's runs (prepare-commit-msg) -------------------------------------

TRAILER = re.compile(r"MLflow-Run-Id: [0-9a-f]{32}")
run_ids = st.one_of(st.text("0123456789abcdef", min_size=32, max_size=32),
                    st.sampled_from(["x\n\nSigned-off-by: Mallory <m@evil>", "", "A" * 32,
                                     "0" * 31 + "\n", RUN + " "]))
offered_runs = st.lists(run_ids.flatmap(broken_runs), max_size=4)
experiment_pages = st.one_of(
    st.just(as_json({"experiments": [{"experiment_id": "1"}]})),
    st.lists(st.fixed_dictionaries({"experiment_id": json_values}), max_size=3).map(
        lambda e: as_json({"experiments": e})),
    json_values.map(lambda v: as_json({"experiments": v})), bodies)
run_pages = st.one_of(
    st.builds(lambda runs, token: as_json({"runs": runs, **token}), offered_runs,
              st.sampled_from([{}, {"next_page_token": "more"}, {"next_page_token": 5}])),
    json_values.map(lambda v: as_json({"runs": v})), bodies)


def offer(repo: Repo, stub: Stub, credentials: str, folder: Path) -> tuple[str | None, str]:
    """prepare-commit-msg on the experiment branch, as git runs it with an editor to come."""
    if repo.git("branch", "--show-current").out.strip() != BRANCH:
        repo.git("switch", "-qc", BRANCH, "develop")
    runs, env = setting(stub, credentials)
    message = folder / "COMMIT_EDITMSG"
    message.write_text("Subject\n\n# Please enter the commit message\n")
    note = prepare_message(make_ctx(repo, Stage.PREPARE_COMMIT_MSG, runs, env), message, None)
    check_said([note] if note else [])
    added = [line for line in message.read_text().splitlines()
             if line and line != "Subject" and not line.startswith("#")]
    assert all(TRAILER.fullmatch(line) for line in added), added
    return note, message.read_text()


def test_well_formed_runs_are_offered(repo: Repo, stub: Stub, tmp_path: Path) -> None:
    stub.replies = {"experiments/search": Reply(body=as_json({"experiments": [
        {"experiment_id": "1"}]})), "runs/search": Reply(body=as_json({"runs": [
            finished_run()]}))}
    note, text = offer(repo, stub, "uri", tmp_path)
    assert f"MLflow-Run-Id: {RUN}" in text and note is not None and "added" in note


def test_a_run_id_carrying_lines_is_not_written_into_the_message(
        repo: Repo, stub: Stub, tmp_path: Path) -> None:
    forged = finished_run()
    forged["info"]["run_id"] = RUN + "\n\nSigned-off-by: Mallory <m@evil.example>"
    stub.replies = {"experiments/search": Reply(body=as_json({"experiments": [
        {"experiment_id": "1"}]})), "runs/search": Reply(body=as_json({"runs": [forged]}))}
    note, text = offer(repo, stub, "uri", tmp_path)
    assert "Mallory" not in text and note is not None and "could not offer" in note
    assert "malformed" in note


@FUZZ
@given(experiments=experiment_pages, runs=run_pages, status=STATUS_CODES,
       credentials=st.sampled_from(CREDENTIALS))
def test_any_reply_to_the_offer(repo: Repo, stub: Stub, tmp_path: Path, experiments: bytes,
                                runs: bytes, status: int, credentials: str) -> None:
    stub.replies = {"experiments/search": Reply(body=experiments),
                    "runs/search": Reply(status, body=runs)}
    offer(repo, stub, credentials, tmp_path)


# --- replies that never end ----------------------------------------------------------------


def bounded_call(call: Callable[[], Any]) -> tuple[Any, int]:
    """`call()`'s result (or the StoreUnreachable it raised) and its peak allocation, bytes."""
    tracemalloc.start()
    try:
        try:
            result = call()
        except StoreUnreachable as error:
            result = error
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("mode", ["endless", "gzip"])
def test_an_endless_or_inflating_body_is_cut_at_the_cap(stub: Stub, mode: str) -> None:
    stub.replies = {"*": Reply(mode=mode)}
    stub.sent = 0
    runs, env = setting(stub, "uri", timeout=30)
    store = open_store(runs["tracking_uri"], env)
    result, peak = bounded_call(lambda: store.get_run(RUN))
    assert isinstance(result, StoreUnreachable) and "more than" in str(result), result
    assert peak < 3 * MAX_BODY
    assert stub.sent < MAX_BODY + 64 * 1024**2  # the socket buffers' share, then a hang-up


def test_a_dripping_body_is_abandoned_at_the_timeout(stub: Stub) -> None:
    """One byte every 20 ms never trips a per-read timeout; the total one stops it."""
    stub.replies = {"*": Reply(mode="drip")}
    stub.sent = 0
    runs, env = setting(stub, "uri", timeout=0.5)
    with pytest.raises(StoreUnreachable, match="did not answer"):
        open_store(runs["tracking_uri"], env, timeout=0.5).get_run(RUN)
    assert stub.sent < 250  # 25 drips in 0.5 s; unbounded, all 500 (then a hang-up)


@pytest.mark.parametrize("headers", [
    (("Content-Type", "application/json"), ("X-Long", "a" * 70_000)),
    (("Content-Type", "application/json"), *((f"X-{n}", "a") for n in range(150))),
], ids=["a-header-over-64-KiB", "150-headers"])
def test_oversized_headers_cannot_be_checked(stub: Stub, headers: tuple[tuple[str, str], ...]
                                             ) -> None:
    stub.replies = {"*": Reply(headers=headers, body=as_json({"run": finished_run()}))}
    runs, env = setting(stub, "uri")
    with pytest.raises(StoreUnreachable, match="did not answer"):
        open_store(runs["tracking_uri"], env).get_run(RUN)


def test_a_redirect_s_unread_body_does_not_become_the_next_reply(repo: Repo, stub: Stub) -> None:
    """On a kept-alive connection, the body of a redirect flowwarden does not read is closed
    with it, not left for the next request to read as its reply."""
    stub.replies = {
        "runs/get": Reply(307, (("Location", f"/api/2.0/mlflow/moved/runs/get?run_id={RUN}"),
                                ("Content-Type", "text/html")), b"<p>moved</p>" * 500,
                          "keep-alive"),
        "moved/runs/get": Reply(body=as_json({"run": finished_run()}), mode="keep-alive")}
    assert verify(repo, stub, "uri") == []


@pytest.mark.parametrize("credentials", CREDENTIALS)
def test_a_run_named_after_the_credentials_does_not_repeat_them(repo: Repo, stub: Stub,
                                                                 credentials: str) -> None:
    run = finished_run(status="FAILED")
    run["data"]["tags"][1]["value"] = "@@PASSWORD@@ @@AUTH@@"  # mlflow.runName
    stub.replies = {"*": Reply(body=as_json({"run": run}))}
    [found] = verify(repo, stub, credentials)
    assert found.rule == "mlflow-run-status" and f"run {RUN} (*** " in found.message


def test_a_run_name_with_terminal_controls_is_shown_escaped(repo: Repo, stub: Stub,
                                                           tmp_path: Path) -> None:
    """The prepare-commit-msg note, as the hook prints it: the server's run name can neither
    clear the screen, set the window title nor reorder the line."""
    import io

    from flowwarden.adapters.git import GitRepo
    from flowwarden.entry.commands import _prepare_message
    from flowwarden.entry.hook import HookCall

    hostile = finished_run()
    hostile["data"]["tags"][1]["value"] = "owl\x1b[2J\x1b]0;pwned\x07\u202eevil"
    stub.replies = {"experiments/search": Reply(body=as_json({"experiments": [
        {"experiment_id": "1"}]})), "runs/search": Reply(body=as_json({"runs": [hostile]}))}
    if repo.git("branch", "--show-current").out.strip() != BRANCH:
        repo.git("switch", "-qc", BRANCH, "develop")
    runs, env = setting(stub, "uri")
    (repo.path / ".flowwarden.yaml").write_text(
        f"extends: gitflow-ml\nruns:\n  tracking_uri: {runs['tracking_uri']}\n"
        f"  timeout: {runs['timeout']}\n")
    message = tmp_path / "COMMIT_EDITMSG"
    message.write_text("Subject\n\n# Please enter the commit message\n")
    err = io.StringIO()
    call = HookCall(Stage.PREPARE_COMMIT_MSG, (str(message), "message"), b"",
                    {**repo.env, **env})
    _prepare_message(call, GitRepo.discover(repo.path, repo.env), err)
    shown = err.getvalue()
    assert "owl" in shown, shown
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown, repr(shown)
