"""Copy every source graph from one store to another (``normkg copy --from URL --to URL``).

Why through the protocol and not a dump file: any backend pair works the same way (embedded to a
SPARQL server, a server to Neo4j, back to disk), each source goes over as one atomic ``replace``
that keeps its content key and row counts, and a copy that is run again skips what is already
there. The copy ends with a count check per source, so a silently short copy is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from normkg.errors import StoreError
from normkg.kg.store import GraphInfo, GraphStore
from normkg.kg.terms import Triple

CopyProgress = Callable[[str, int, int], None]
"""Called as ``progress(source, triples_copied, triples_total)`` while a source streams over."""

PROGRESS_EVERY = 10_000


def _counted(triples: Iterable[Triple], report: Callable[[int], None]) -> Iterator[Triple]:
    n = 0
    for triple in triples:
        yield triple
        n += 1
        if n % PROGRESS_EVERY == 0:
            report(n)
    report(n)


def copy_store(
    source: GraphStore, target: GraphStore, progress: CopyProgress | None = None, *, force: bool = False
) -> dict[str, int]:
    """Copy each source graph of ``source`` into ``target``; returns ``{source name: triples}``.

    A source whose content key is already live in ``target`` is not sent again unless ``force``.
    Sources that only ``target`` has are left alone. Raises :class:`StoreError` when a source's
    triple count in ``target`` differs from the one in ``source``.
    """
    return {
        name: _copy_source(source, target, info, progress, force) for name, info in source.sources().items()
    }


def _copy_source(
    source: GraphStore, target: GraphStore, info: GraphInfo, progress: CopyProgress | None, force: bool
) -> int:
    name, total = info.source, info.triples
    streamed = 0

    def report(done: int) -> None:
        nonlocal streamed
        streamed = done
        if progress is not None:
            progress(name, done, total)

    result = target.replace(
        name,
        _counted(source.triples(name), report),
        content_key=info.content_key,
        rows_read=info.rows_read,
        rows_rejected=info.rows_rejected,
        skip_if_unchanged=not force,
    )
    if result.unchanged:
        report(total)
    landed = target.count(name)
    if landed != total or streamed != total:
        raise StoreError(
            f"copy of {name} is incomplete: the source has {total} triples, "
            f"{streamed} were read and the target holds {landed}",
            hint="run the copy again; if it persists, check both stores (normkg stats)",
        )
    return landed
