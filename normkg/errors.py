"""One exception hierarchy for normkg.

Bad *rows* are not exceptions: loaders report them and go on (see ``normkg.ingest.report``).
Exceptions are for what stops an operation: a missing data folder, a broken store, a bad query,
bad user input. Each carries a stable ``code`` (used in API error bodies) and an HTTP status.
"""

from __future__ import annotations


class NormkgError(Exception):
    """Base class of every error normkg raises on purpose."""

    code = "normkg_error"
    http_status = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class ConfigError(NormkgError):
    """A setting is missing or malformed (store URL, data dir, API key)."""

    code = "config_error"


class DataDirNotFound(ConfigError):
    code = "data_dir_not_found"


class SourceError(NormkgError):
    """A source cannot be read at all (missing file, unknown source name)."""

    code = "source_error"
    http_status = 400


class StoreError(NormkgError):
    """The graph store failed (I/O, storage, server unreachable)."""

    code = "store_error"
    http_status = 503


class StoreNotFound(StoreError):
    """A command that only reads was pointed at an embedded store that does not exist yet."""

    code = "store_not_found"


class QueryError(StoreError):
    """A SPARQL or Cypher query is malformed or refused."""

    code = "bad_query"
    http_status = 400


class ReadOnlyError(QueryError):
    """A write was sent where only reads are allowed."""

    code = "read_only"
    http_status = 400


class QueryTimeout(QueryError):
    """A user's query ran past its time limit and was stopped."""

    code = "query_timeout"
    http_status = 400


class SparqlBusy(StoreError):
    """Every worker for users' SPARQL stayed busy: the service is overloaded, retry later."""

    code = "sparql_busy"
    http_status = 503


class InputError(NormkgError):
    """User input (CLI argument, request field, norm pack) is invalid."""

    code = "bad_input"
    http_status = 422


class NotFoundError(NormkgError):
    code = "not_found"
    http_status = 404
