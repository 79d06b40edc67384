"""The one settings object: every option comes from an environment variable ``NORMKG_*``.

Why one object: the CLI, the API and the tests must agree on where the store and the data are, and
a setting that is read in one place is a setting that can be documented and tested in one place.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from normkg.errors import DataDirNotFound

# Where the repository's checkout is: normkg/settings.py -> repository root.
CHECKOUT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """normkg configuration. Each field is read from ``NORMKG_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="NORMKG_", extra="ignore")

    store: str = Field(
        "oxigraph:./var/normkg",
        description="Store URL: oxigraph:PATH (embedded, on disk), oxigraph:memory, "
        "sparql+http(s)://HOST:PORT[/PATH], or neo4j://HOST:PORT.",
    )
    data_dir: Path | None = Field(
        None, description="Folder with the source datasets; default: ../shared/data beside the checkout."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    cache_dir: Path = Field(
        Path("./var/cache"),
        description="Where the norm embeddings and frame rows computed at ingest are kept (3 newest).",
    )
    source_priority: list[str] = Field(
        default_factory=list,
        description="Optional tie-break for conflicts: sources in order of priority (e.g. norm packs first).",
    )
    store_user: str | None = Field(None, description="User name for a remote store.")
    store_password: SecretStr | None = Field(None, description="Password for a remote store.")
    store_timeout_s: float = Field(30.0, description="Timeout of one request to a remote store, seconds.")
    api_key: SecretStr | None = Field(None, description="API key required for write endpoints.")
    lock_reads: bool = Field(False, description="Require the API key for reads too.")
    max_body_bytes: int = Field(1_000_000, description="Largest request body the API accepts (413 above).")
    max_batch: int = Field(256, description="Largest number of items in a batch request.")
    sparql_timeout_s: float = Field(
        5.0, description="Time limit of a user SPARQL query, seconds; the query is stopped there."
    )
    sparql_max_rows: int = Field(
        10_000, ge=1, description="Most rows (or triples) one GET /v1/sparql answer holds; more are cut."
    )
    sparql_workers: int = Field(
        2, ge=1, description="User SPARQL queries run at once, each in its own worker process."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Allowed CORS origins (none: CORS off)."
    )

    def resolve_data_dir(self) -> Path:
        """The data folder: NORMKG_DATA_DIR, else ../shared/data beside the checkout or the cwd."""
        if self.data_dir is not None:
            if not self.data_dir.is_dir():
                raise DataDirNotFound(
                    f"NORMKG_DATA_DIR={self.data_dir} is not a folder",
                    hint="point it at the folder that holds normbank/, social-chem-101/, ...",
                )
            return self.data_dir
        candidates = [CHECKOUT_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
        for candidate in candidates:
            if candidate.is_dir():
                return candidate
        raise DataDirNotFound(
            "no data folder found: looked in " + ", ".join(str(c) for c in candidates),
            hint="set NORMKG_DATA_DIR, or put the datasets in ../shared/data beside the checkout",
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
