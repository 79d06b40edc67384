"""Users' SPARQL with a hard time limit: each query runs in a worker process that is killed at the limit.

Why processes: neither pyoxigraph nor an HTTP client can stop a query once the backend runs it. A
thread abandoned at the time limit keeps a core busy until the query ends -- minutes or hours for a
cross product -- and two such threads starve the checker that shares the machine. A process can be
killed. A worker is ``python -m normkg.kg.sparql_runner`` speaking JSON lines on its stdin and
stdout (not ``multiprocessing``, whose spawn re-runs the caller's main script). For each query it
opens the store's ``reader_url`` (a read-only view of the on-disk store, or the same SPARQL server),
so it sees what was ingested since the service started; opening the on-disk store read-only takes
about 7 ms, starting a worker about 0.2 s (once; it then serves query after query). A worker also
ends itself a second after a query's limit, so a runaway query stops even when the service that
should kill it has died (pyoxigraph releases the GIL while it computes, so the worker's timer runs).

A store that no other process can open (the in-memory one) falls back to a thread: the caller still
gets its answer or a timeout error on time, but the abandoned query runs on. The API documents this.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import IO, Any

from normkg import errors
from normkg.errors import NormkgError, QueryTimeout, SparqlBusy, StoreError
from normkg.kg.sparql_read import ReadAnswer, run_read_only
from normkg.kg.store import GraphStore
from normkg.settings import Settings

#: how long a new worker may take to start (imports), not counted against a query's time limit
STARTUP_TIMEOUT_S = 60.0
#: a worker exits this long after a query's time limit if nobody has stopped it
SELF_STOP_GRACE_S = 1.0


def _settings_message(settings: Settings) -> dict[str, Any]:
    """The settings a worker needs, secrets included (they go through a pipe, never argv or env)."""
    message = settings.model_dump(mode="json", exclude={"api_key"})  # the worker never needs it
    password = settings.store_password
    message["store_password"] = password.get_secret_value() if password is not None else None
    return message


def main() -> None:
    """A worker: first line the settings and reader URL, then one query per line, one reply per line."""
    protocol, sys.stdout = sys.stdout, sys.stderr  # stdout carries replies only: stray prints go to stderr
    first = json.loads(sys.stdin.readline())
    settings, reader_url = Settings.model_validate(first["settings"]), first["reader_url"]
    _reply(protocol, {"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        # the parent kills this process at the limit; if the parent is gone, this timer does
        deadline = threading.Timer(request["timeout_s"] + SELF_STOP_GRACE_S, os._exit, (3,))
        deadline.daemon = True
        deadline.start()
        try:
            answer = _answer(reader_url, settings, request["query"], request["max_rows"])
            _reply(protocol, {"result": answer.result, "truncated": answer.truncated})
        except NormkgError as exc:
            _reply(protocol, {"error": type(exc).__name__, "message": exc.message, "hint": exc.hint})
        except Exception as exc:  # noqa: BLE001 - reported to the caller; the worker stays up
            _reply(protocol, {"error": "StoreError", "message": f"the query failed: {exc}", "hint": None})
        finally:
            deadline.cancel()


def _answer(reader_url: str, settings: Settings, query: str, max_rows: int | None) -> ReadAnswer:
    """Open the reader (a fresh view each time: it sees the latest ingest), run the query, close."""
    from normkg.kg.open import open_store

    store = open_store(reader_url, settings)
    try:
        return run_read_only(store, query, max_rows)
    finally:
        store.close()


def _reply(protocol: IO[str], message: dict[str, Any]) -> None:
    protocol.write(json.dumps(message) + "\n")
    protocol.flush()


def _error(name: str, message: str, hint: str | None) -> NormkgError:
    """The worker's error, as the same class of the one hierarchy (StoreError if unknown)."""
    cls = getattr(errors, name, StoreError)
    if not (isinstance(cls, type) and issubclass(cls, NormkgError)):
        cls = StoreError
    return cls(message, hint=hint)


@dataclass(eq=False)  # compared and hashed by identity: a set holds the running ones
class _Worker:
    """A worker process; a thread moves its stdout lines into ``replies`` (a portable timed wait)."""

    process: subprocess.Popen[str]
    replies: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue)

    def __post_init__(self) -> None:
        threading.Thread(target=self._pump, name="normkg-sparql-reader", daemon=True).start()

    def _pump(self) -> None:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        for line in stdout:
            try:
                self.replies.put(json.loads(line))
            except json.JSONDecodeError:  # not a reply: the worker is broken, let the caller see it end
                self.process.kill()
                break
        self.replies.put(None)  # the process ended

    def send(self, message: dict[str, Any]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps(message) + "\n")
        stdin.flush()

    def receive(self, timeout_s: float) -> dict[str, Any] | None:
        """The next reply; None if the process ended; raises queue.Empty at the time limit."""
        return self.replies.get(timeout=timeout_s)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait(5)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


class SparqlRunner:
    """Runs read-only user queries against ``store`` within a time limit, at most ``workers`` at once."""

    def __init__(self, store: GraphStore, settings: Settings, workers: int = 2) -> None:
        self.store = store
        self.settings = settings
        self.reader_url = store.reader_url() if store.capabilities.sparql else None
        self.workers = max(1, workers)
        # a slot per worker: None until the worker is started (lazily: most services never get a query);
        # last in, first out, so that a running worker is reused before another is started
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(self.workers):
            self._idle.put(None)
        self._running: set[_Worker] = set()
        self._threads: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def killable(self) -> bool:
        """Whether a query past its limit is stopped (True) or only abandoned (in-memory store)."""
        return self.reader_url is not None

    def run(self, query: str, timeout_s: float, max_rows: int | None = None) -> ReadAnswer:
        """The answer of ``query`` within ``timeout_s`` seconds in all (waiting for a free worker
        included; starting one is not): :class:`QueryTimeout` past it, :class:`SparqlBusy` when every
        worker stayed busy."""
        if self.reader_url is None:
            return self._run_in_thread(query, timeout_s, max_rows)
        deadline = time.monotonic() + timeout_s
        try:
            worker = self._idle.get(timeout=timeout_s)
        except queue.Empty:
            raise SparqlBusy(
                f"all {self.workers} SPARQL workers stayed busy for {timeout_s:g} s",
                hint="retry in a few seconds, or raise NORMKG_SPARQL_WORKERS",
            ) from None
        try:
            if worker is None or not worker.alive:
                if worker is not None:
                    self._stop(worker)
                starting = time.monotonic()
                worker = self._start()
                deadline += time.monotonic() - starting  # a worker's startup is not the query's time
            left = max(deadline - time.monotonic(), 0.0)
            worker.send({"query": query, "max_rows": max_rows, "timeout_s": left})
            reply = worker.receive(left)
            if reply is None:
                raise OSError("it ended")
        except queue.Empty:
            assert worker is not None
            self._stop(worker)
            worker = None
            raise QueryTimeout(
                f"query took longer than {timeout_s:g} s and was stopped",
                hint="add a LIMIT or narrow the patterns",
            ) from None
        except OSError as exc:  # a broken pipe, or a worker that died
            if worker is not None:
                self._stop(worker)
            worker = None
            raise StoreError(f"the SPARQL worker process failed: {exc}", hint="retry the query") from exc
        finally:
            self._idle.put(worker)
        if "error" in reply:
            raise _error(reply["error"], reply["message"], reply["hint"])
        return ReadAnswer(reply["result"], reply["truncated"])

    def _start(self) -> _Worker:
        process = subprocess.Popen(
            # -P: never import a normkg/ folder from the working directory instead of the installed one
            [sys.executable, "-P", "-m", "normkg.kg.sparql_runner"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        worker = _Worker(process)
        with self._lock:
            self._running.add(worker)
        try:
            worker.send({"settings": _settings_message(self.settings), "reader_url": self.reader_url})
            ready = worker.receive(STARTUP_TIMEOUT_S)
        except (OSError, queue.Empty):
            ready = None
        if ready is None:
            self._stop(worker)
            raise StoreError(f"the SPARQL worker did not start within {STARTUP_TIMEOUT_S:g} s")
        return worker

    def _stop(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._running.discard(worker)

    def _run_in_thread(self, query: str, timeout_s: float, max_rows: int | None) -> ReadAnswer:
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="normkg-sparql")
            threads = self._threads
        future = threads.submit(run_read_only, self.store, query, max_rows)
        try:
            return future.result(timeout=timeout_s)
        except FutureTimeout:
            raise QueryTimeout(
                f"query took longer than {timeout_s:g} s",
                hint="add a LIMIT or narrow the patterns (an in-memory store cannot stop it: it runs on)",
            ) from None

    def worker_processes(self) -> list[subprocess.Popen[str]]:
        """The running worker processes (for tests and health reporting)."""
        with self._lock:
            return [w.process for w in self._running if w.alive]

    def close(self, wait: bool = False) -> None:
        """Stop the idle workers (at the app's shutdown). A busy one ends with its query or at its time
        limit, and every worker ends when this process does (its stdin closes). A later query starts
        a new worker: an ASGI host may run the app's shutdown and startup more than once. ``wait``
        waits for queries abandoned in the in-memory fallback's threads."""
        held: list[_Worker | None] = []
        while True:
            try:
                held.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for worker in held:
            if worker is not None:
                self._stop(worker)
            self._idle.put(None)
        with self._lock:
            threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=wait, cancel_futures=True)


if __name__ == "__main__":
    main()
