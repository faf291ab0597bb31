"""MLflow's SQLAlchemy store in a sqlite file, read with sqlite3, read-only."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flowwarden.adapters.mlflow import BRANCH_TAG, PARENT_TAG, Run, StoreUnreachable
from flowwarden.adapters.mlflow.replies import Malformed, clip, run_from_json

RUN_COLUMNS = "r.run_uuid, r.status, r.lifecycle_stage, r.start_time, r.experiment_id"
ACTIVE = ("JOIN experiments e ON e.experiment_id = r.experiment_id "
          "WHERE r.lifecycle_stage = 'active' AND e.lifecycle_stage = 'active'")

if TYPE_CHECKING:
    import sqlite3


class SqliteStore:
    """MLflow's SQLAlchemy store in a sqlite file, opened read-only."""

    def __init__(self, uri: str, path: Path, timeout: float) -> None:
        self.uri = uri
        self.path = path
        self.timeout = timeout

    def get_run(self, run_id: str) -> Run | None:
        with self._connect() as db:
            row = db.execute(f"SELECT {RUN_COLUMNS} FROM runs r WHERE run_uuid = ?",
                             (run_id,)).fetchone()
            return self._run(db, row) if row else None

    def search_runs(self, branch: str, since_ms: int | None) -> list[Run]:
        return self._tagged(BRANCH_TAG, branch, since_ms)

    def child_runs(self, parent: Run) -> list[Run]:
        return self._tagged(PARENT_TAG, parent.id, None)

    def recent_runs(self, since_ms: int | None) -> list[Run]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {RUN_COLUMNS} FROM runs r {ACTIVE} AND r.start_time >= ? "
                "ORDER BY r.start_time DESC LIMIT 300",
                (since_ms if since_ms is not None else -1,)).fetchall()
            return [self._run(db, row) for row in reversed(rows)]

    def model_run(self, model_id: str) -> str | None:
        import sqlite3

        with self._connect() as db:
            try:
                row = db.execute("SELECT source_run_id FROM logged_models WHERE model_id = ?",
                                 (model_id,)).fetchone()
            except sqlite3.OperationalError:  # a store older than MLflow 3: no logged models
                return None
            return str(row[0]) if row and row[0] else None

    def _tagged(self, key: str, value: str, since_ms: int | None) -> list[Run]:
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {RUN_COLUMNS} FROM runs r "
                "JOIN tags t ON t.run_uuid = r.run_uuid AND t.key = ? AND t.value = ? "
                f"{ACTIVE} AND r.start_time >= ? ORDER BY r.start_time LIMIT 300",
                (key, value, since_ms if since_ms is not None else -1)).fetchall()
            return [self._run(db, row) for row in rows]

    def _connect(self) -> _ReadOnly:
        if not self.path.is_file():
            raise StoreUnreachable(f"no MLflow database at {self.path} ({self.uri})")
        import sqlite3  # only sqlite stores pay for it

        try:
            db = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True,
                                 timeout=self.timeout)
        except sqlite3.Error as error:
            raise StoreUnreachable(f"cannot open {self.path}: {error}") from None
        return _ReadOnly(db, self.path)

    def _run(self, db: sqlite3.Connection, row: tuple[Any, ...]) -> Run:
        """The run from its rows, checked as a server's reply is: any column may hold any type."""
        run_id, status, stage, start, experiment = row

        def pairs(table: str) -> list[dict[str, Any]]:
            return [{"key": key, "value": "" if value is None else value} for key, value in
                    db.execute(f"SELECT key, value FROM {table} WHERE run_uuid = ?", (run_id,))]

        metrics = [{"key": key, "value": "NaN" if is_nan else value, "step": step or 0}
                   for key, value, is_nan, step in self._metrics(db, run_id)]
        return run_from_json({"info": {"run_id": run_id, "status": status,
                                       "lifecycle_stage": stage, "start_time": start,
                                       "experiment_id": experiment},
                              "data": {"metrics": metrics, "params": pairs("params"),
                                       "tags": pairs("tags")}}, clip)

    def _metrics(self, db: sqlite3.Connection, run_id: str) -> list[tuple[Any, ...]]:
        import sqlite3

        try:
            return db.execute("SELECT key, value, is_nan, step FROM latest_metrics "
                              "WHERE run_uuid = ?", (run_id,)).fetchall()
        except sqlite3.OperationalError:
            # Stores older than MLflow 1.9 have no latest_metrics: take the last step.
            return db.execute(
                "SELECT key, value, is_nan, step FROM metrics m WHERE run_uuid = ? AND "
                "(step, timestamp) = (SELECT step, timestamp FROM metrics WHERE "
                "run_uuid = m.run_uuid AND key = m.key ORDER BY step DESC, timestamp DESC "
                "LIMIT 1)", (run_id,)).fetchall()


class _ReadOnly:
    """A connection that turns sqlite errors into StoreUnreachable and always closes."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 _tb: object) -> None:
        import sqlite3

        self.db.close()
        if isinstance(error, (sqlite3.Error, Malformed)):
            raise StoreUnreachable(f"cannot read {self.path} as an MLflow store: {error}") \
                from None

