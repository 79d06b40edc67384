"""Ingest speed: full ingest of shared/data into a fresh on-disk store, next to pyoxigraph's raw bulk
load of the very same triples (the floor for any loader on this store) and rdflib's in-memory parse of
them (what a pure-rdflib loader would pay just to read them).

Run: .venv/bin/python bench/bench_ingest.py
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

import pyoxigraph as ox
import rdflib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import timed, write  # noqa: E402

from normkg.ingest.pipeline import ingest  # noqa: E402
from normkg.kg.oxigraph_store import OxigraphStore  # noqa: E402
from normkg.kg.store import ExportFormat  # noqa: E402
from normkg.settings import Settings  # noqa: E402


def _bulk_load(path: Path, data: bytes) -> tuple[float, int]:
    """pyoxigraph's raw bulk load of the same quads; the store is closed when this returns."""
    raw_store = ox.Store(str(path))
    seconds, _ = timed(lambda: raw_store.bulk_load(data, ox.RdfFormat.N_QUADS))
    return seconds, len(raw_store)


def main() -> dict[str, object]:
    data_dir = Settings().resolve_data_dir()
    # RocksDB may still be finishing background files when the directory goes: ignore those errors
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        store = OxigraphStore(Path(tmp) / "store")
        seconds, reports = timed(lambda: ingest(store, data_dir, force=True))
        triples = store.count()
        rows = sum(r.rows_read for r in reports)
        again, _ = timed(lambda: ingest(store, data_dir))
        buffer = io.BytesIO()
        store.export(buffer, ExportFormat.NQUADS)
        data = buffer.getvalue()
        store.close()
        raw_seconds, raw_count = _bulk_load(Path(tmp) / "raw", data)
    rdflib_seconds, parsed = timed(
        lambda: len(rdflib.Dataset().parse(data=data.decode("utf-8"), format="nquads"))
    )
    figures = {
        "sources": {
            r.source: {
                "rows": r.rows_read,
                "rejected": r.rows_rejected,
                "triples": r.triples,
                "seconds": round(r.seconds, 3),
            }
            for r in reports
        },
        "rows": rows,
        "triples": triples,
        "ingest_s": round(seconds, 2),
        "ingest_triples_per_s": round(triples / seconds),
        "reingest_unchanged_s": round(again, 3),
        "baseline_pyoxigraph_bulk_load_s": round(raw_seconds, 2),
        "baseline_pyoxigraph_triples_per_s": round(raw_count / raw_seconds),
        "baseline_rdflib_parse_s": round(rdflib_seconds, 2),
        "baseline_rdflib_triples_per_s": round(raw_count / rdflib_seconds),
        "ingest_over_bulk_load": round(seconds / raw_seconds, 2),
        "targets": {"ingest_s_max": 60, "ingest_over_bulk_load_max": 2.0},
    }
    print(f"rows read                 {rows:>10}")
    print(f"triples                   {triples:>10}")
    print(f"normkg ingest             {seconds:>10.2f} s  ({triples / seconds:,.0f} triples/s)")
    print(f"re-ingest, unchanged      {again:>10.3f} s")
    print(
        f"pyoxigraph bulk_load      {raw_seconds:>10.2f} s  "
        f"({raw_count / raw_seconds:,.0f} triples/s)  baseline"
    )
    print(f"rdflib in-memory parse    {rdflib_seconds:>10.2f} s  ({parsed:,} quads)  baseline")
    print(f"ingest / bulk_load        {seconds / raw_seconds:>10.2f} x   (target <= 2.0)")
    path = write("ingest", figures)
    print(f"wrote {path}")
    return figures


if __name__ == "__main__":
    main()
