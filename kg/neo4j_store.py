"""A store on Neo4j (5.26 or later), mapping RDF the way neosemantics (n10s) users know it.

The graph users query is n10s's default model, so a Cypher query written for an n10s import works
here unchanged:

* one ``(:Resource {uri})`` node per IRI (unique ``uri``: the constraint n10s itself asks for);
  blank nodes are ``Resource`` nodes whose ``uri`` is ``_:ID``;
* ``rdf:type`` becomes labels, literals become properties, IRI objects become relationships,
  all named by prefix-shortened names ``prefix__localName`` (``nkg__text``, ``skos__prefLabel``),
  with the ontology's prefixes and ``ns0``, ``ns1``... for other namespaces, kept where n10s keeps
  them, in the ``_NsPrefDef`` node (namespaces split at the first ``#``, else the last ``/``, as n10s);
* every literal property is an array (n10s ``handleMultival: 'ARRAY'``): ``head(n.nkg__text)``;
* values keep their RDF datatype and language: ``xsd:string`` is a string, ``xsd:integer``,
  ``xsd:double`` and ``xsd:boolean`` are Cypher numbers and booleans (when that loses nothing), a
  language-tagged string is ``"text@lang"`` (n10s ``keepLangTag``), any other datatype is
  ``"lexical^^prefix__name"`` (n10s ``keepCustomDataTypes``); a string that would read as one of
  those forms is written ``"...^^xsd__string"``, so that every value reads back as exactly the
  literal that was written.

Sources: unlike a quad store, one node can hold facts from several sources (a country typed by
NormBank and by BLEnD), so replacing one source must take away only its own facts. Each source has
a catalog node ``(:_NkgCatalog {name})`` with a ``[:_NKG_HOLDS {facts}]`` edge to every subject it
describes, listing the source's own literal and ``rdf:type`` facts (as N-Triples text, exact);
each relationship lists the sources asserting it in ``graphs``. Labels and properties of a node
are recomputed from the facts of all sources holding it. ``replace`` and ``drop`` run in ONE
write transaction, so readers see the old source or the new one (Neo4j's isolation is
read-committed: a single query running across the commit can still see both; a source as large as
Social-Chem-101 needs a few GB of transaction memory: see docker-compose.neo4j.yml).

Named queries are ``kg/queries/NAME.cypher``, run with parameters only (a ``$name`` the caller
does not bind is null, so it matches nothing where SPARQL would leave ``?name`` free). A ``// @iri: a b``
line names the columns that hold IRIs (a node's ``uri``, or a label or relationship type, which is
expanded); nodes become IRIs too, numbers and strings become literals as described above, so rows
are the same pyoxigraph terms the SPARQL version returns.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import neo4j
import neo4j.exceptions as nx
import pyoxigraph as ox
from neo4j.graph import Node

from normkg.errors import ConfigError, QueryError, StoreError
from normkg.kg.queries import named_query
from normkg.kg.shared import export_sources, unchanged
from normkg.kg.store import Capabilities, ExportFormat, GraphInfo, ReplaceResult
from normkg.kg.terms import Bindings, Row, Term, Triple
from normkg.ontology.namespace import PREFIXES, RDF, XSD
from normkg.settings import Settings

ViewValue = str | int | float | bool

_LANG = re.compile(r"^(.*)@([a-zA-Z]{1,8}(?:-[a-zA-Z0-9]{1,8})*)$", re.DOTALL)
_TYPED = re.compile(r"^(.*)\^\^([A-Za-z][A-Za-z0-9_.-]*?)__(.*)$", re.DOTALL)
_IRI_COLUMNS = re.compile(r"^\s*//\s*@iri:(.*)$", re.MULTILINE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_INT64 = (-(2**63), 2**63 - 1)
_BATCH = 5_000
_BLANK = "_:"

# ---- Cypher ------------------------------------------------------------------------------------
_SCHEMA = [
    "CREATE CONSTRAINT n10s_unique_uri IF NOT EXISTS FOR (r:Resource) REQUIRE r.uri IS UNIQUE",
    "CREATE CONSTRAINT normkg_catalog_name IF NOT EXISTS FOR (c:_NkgCatalog) REQUIRE c.name IS UNIQUE",
]
# Setting the node's properties to themselves takes its write lock: prefix allocation is serialised.
_LOCK_PREFIXES = "MERGE (p:_NsPrefDef) SET p = properties(p) RETURN properties(p) AS prefixes"
_READ_PREFIXES = "MATCH (p:_NsPrefDef) RETURN properties(p) AS prefixes"
_ADD_PREFIXES = "MATCH (p:_NsPrefDef) SET p += $new"
_CATALOG = (
    "MATCH (c:_NkgCatalog) RETURN c.name AS name, c.triples AS triples, c.contentKey AS key, "
    "c.rowsRead AS rows, c.rowsRejected AS rejected ORDER BY name"
)
_ENSURE_CATALOG = "MERGE (c:_NkgCatalog {name: $source}) ON CREATE SET c.triples = 0"
_UPDATE_CATALOG = (
    "MATCH (c:_NkgCatalog {name: $source}) "
    "SET c.triples = $triples, c.contentKey = $key, c.rowsRead = $rows, c.rowsRejected = $rejected"
)
_DROP_CATALOG = "MATCH (c:_NkgCatalog {name: $source}) DETACH DELETE c"
_UNLINK = """
MATCH (:_NkgCatalog {name: $source})-[:_NKG_HOLDS]->(:Resource)-[e]->(o:Resource)
WHERE $source IN e.graphs
WITH e, o, [g IN e.graphs WHERE g <> $source] AS rest
FOREACH (_ IN CASE WHEN size(rest) = 0 THEN [1] ELSE [] END | DELETE e)
FOREACH (_ IN CASE WHEN size(rest) > 0 THEN [1] ELSE [] END | SET e.graphs = rest)
RETURN DISTINCT o.uri AS uri
"""
_UNHOLD = """
MATCH (:_NkgCatalog {name: $source})-[h:_NKG_HOLDS]->(n:Resource)
DELETE h
RETURN n.uri AS uri
"""
_HOLD = """
MATCH (c:_NkgCatalog {name: $source})
UNWIND $rows AS row
MERGE (n:Resource {uri: row.uri})
MERGE (c)-[h:_NKG_HOLDS]->(n)
SET h.facts = coalesce(h.facts, []) + [f IN row.facts WHERE NOT f IN coalesce(h.facts, [])]
"""
_LINK = """
UNWIND $rels AS r
MERGE (s:Resource {uri: r.s})
MERGE (o:Resource {uri: r.o})
MERGE (s)-[e:$(r.type)]->(o)
ON CREATE SET e.graphs = [$source]
ON MATCH SET e.graphs = CASE WHEN $source IN e.graphs THEN e.graphs ELSE e.graphs + $source END
"""
_READ_FACTS = """
UNWIND $uris AS u
MATCH (n:Resource {uri: u})
OPTIONAL MATCH (:_NkgCatalog)-[h:_NKG_HOLDS]->(n)
RETURN u AS uri, labels(n) AS labels, collect(h.facts) AS facts
"""
_WRITE_VIEW = """
UNWIND $rows AS row
MATCH (n:Resource {uri: row.uri})
SET n = row.props
FOREACH (_ IN CASE WHEN size(row.drop) > 0 THEN [1] ELSE [] END | REMOVE n:$(row.drop))
FOREACH (_ IN CASE WHEN size(row.labels) > 0 THEN [1] ELSE [] END | SET n:$(row.labels))
"""
_DELETE_ORPHANS = """
UNWIND $uris AS u
MATCH (n:Resource {uri: u})
WHERE NOT EXISTS { (n)--() }
DELETE n
"""
_COUNT_SOURCE = """
MATCH (:_NkgCatalog {name: $source})-[h:_NKG_HOLDS]->(s:Resource)
RETURN sum(size(h.facts)) + sum(COUNT { (s)-[e]->(:Resource) WHERE $source IN e.graphs }) AS n
"""
_TRIPLES = """
MATCH (:_NkgCatalog {name: $source})-[h:_NKG_HOLDS]->(s:Resource)
RETURN s.uri AS uri, h.facts AS facts,
       [(s)-[e]->(o:Resource) WHERE $source IN e.graphs | [type(e), o.uri]] AS rels
"""


# ---- names and values (pure functions: tested without a server) -------------------------------
def split_iri(iri: str) -> tuple[str, str]:
    """Namespace and local name, split where n10s (RDF4J) splits: first ``#``, else last ``/`` or ``:``."""
    index = iri.find("#")
    if index < 0:
        index = iri.rfind("/")
    if index < 0:
        index = iri.rfind(":")
    return iri[: index + 1], iri[index + 1 :]


class Prefixes:
    """The prefix <-> namespace table of the ``_NsPrefDef`` node."""

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.by_prefix = dict(mapping)
        self.by_namespace = {ns: prefix for prefix, ns in self.by_prefix.items()}

    def shorten(self, iri: str) -> str:
        namespace, local = split_iri(iri)
        prefix = self.by_namespace.get(namespace)
        if prefix is None:
            raise StoreError(f"no prefix for the namespace of {iri} (prefixes are allocated before writes)")
        return f"{prefix}__{local}"

    def expand(self, name: str) -> str:
        prefix, sep, local = name.partition("__")
        namespace = self.by_prefix.get(prefix)
        if not sep or namespace is None:
            raise StoreError(f"{name!r} is not a prefixed name known to this store")
        return namespace + local

    def allocate(self, namespaces: Iterable[str]) -> dict[str, str]:
        """New ``nsN`` prefixes (n10s's scheme) for the namespaces that have none yet."""
        new: dict[str, str] = {}
        n = 0
        for namespace in sorted(set(namespaces) - set(self.by_namespace)):
            while f"ns{n}" in self.by_prefix or f"ns{n}" in new:
                n += 1
            new[f"ns{n}"] = namespace
        return new


def _native(literal: ox.Literal) -> int | float | bool | None:
    """The Cypher number or boolean of a literal when it writes back to exactly this literal."""
    datatype = literal.datatype
    value: int | float | bool
    try:
        if datatype == XSD.integer:
            value = int(literal.value)
            if not _INT64[0] <= value <= _INT64[1]:
                return None
        elif datatype == XSD.double:
            value = float(literal.value)
        elif datatype == XSD.boolean:
            value = literal.value == "true"
        else:
            return None
    except ValueError:
        return None
    return value if ox.Literal(value) == literal else None


def to_view(literal: ox.Literal, prefixes: Prefixes, *, native: bool = True) -> ViewValue:
    """The property value of ``literal`` (see the module docstring for the forms)."""
    if literal.language:
        text = f"{literal.value}@{literal.language}"
    elif literal.datatype == XSD.string:
        text = literal.value
        if _LANG.match(text) or _TYPED.match(text):  # would read as a tagged or typed value
            text = f"{literal.value}^^xsd__string"
    else:
        number = _native(literal) if native else None
        if number is not None:
            return number
        text = f"{literal.value}^^{prefixes.shorten(literal.datatype.value)}"
    if from_view(text, prefixes) != literal:
        raise StoreError(f"the literal {literal} cannot be written to Neo4j without loss")
    return text


def from_view(value: ViewValue, prefixes: Prefixes) -> ox.Literal:
    """The literal a property value stands for (inverse of :func:`to_view`)."""
    if isinstance(value, bool | int | float):
        return ox.Literal(value)
    lang = _LANG.match(value)
    if lang:
        return ox.Literal(lang.group(1), language=lang.group(2))
    typed = _TYPED.match(value)
    if typed and typed.group(2) in prefixes.by_prefix:
        datatype = prefixes.expand(f"{typed.group(2)}__{typed.group(3)}")
        return ox.Literal(typed.group(1), datatype=ox.NamedNode(datatype))
    return ox.Literal(value)


def view_values(literals: Iterable[ox.Literal], prefixes: Prefixes) -> list[ViewValue]:
    """One property's array: Neo4j arrays hold one type, so mixed values are all written as strings."""
    ordered = sorted(set(literals), key=str)
    values = [to_view(lit, prefixes) for lit in ordered]
    if len({type(v) for v in values}) > 1:
        values = [to_view(lit, prefixes, native=False) for lit in ordered]
    return values


def node_key(term: Term) -> str:
    if isinstance(term, ox.BlankNode):
        return _BLANK + term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    raise StoreError(f"a literal cannot be a node: {term}")


def node_term(uri: str) -> ox.NamedNode | ox.BlankNode:
    return ox.BlankNode(uri[len(_BLANK) :]) if uri.startswith(_BLANK) else ox.NamedNode(uri)


def _nt_term(uri: str) -> str:
    return str(node_term(uri))


def decode_facts(uri: str, facts: Iterable[str]) -> list[Triple]:
    """The triples of a ``_NKG_HOLDS`` edge (facts are ``<predicate> object`` in N-Triples syntax)."""
    subject = _nt_term(uri)
    document = "".join(f"{subject} {fact} .\n" for fact in facts)
    if not document:
        return []
    parsed = ox.parse(document.encode("utf-8"), ox.RdfFormat.N_TRIPLES)
    return [(t.subject, t.predicate, t.object) for t in parsed]


def node_view(triples: Iterable[Triple], prefixes: Prefixes) -> tuple[list[str], dict[str, list[ViewValue]]]:
    """Labels and array properties of a node, from the literal and type facts held about it."""
    labels: set[str] = set()
    values: dict[str, list[ox.Literal]] = defaultdict(list)
    for _, p, o in triples:
        if isinstance(o, ox.Literal):
            values[prefixes.shorten(p.value)].append(o)
        elif p == RDF.type and isinstance(o, ox.NamedNode):
            labels.add(prefixes.shorten(o.value))
    return sorted(labels), {key: view_values(lits, prefixes) for key, lits in sorted(values.items())}


def iri_columns(cypher: str) -> frozenset[str]:
    return frozenset(name for line in _IRI_COLUMNS.findall(cypher) for name in line.replace(",", " ").split())


def row_term(value: Any, *, iri: bool, prefixes: Prefixes) -> Term | None:
    """One Cypher value as the RDF term the SPARQL version of the query returns."""
    if value is None:
        return None
    if isinstance(value, Node):
        return node_term(str(value["uri"]))
    if iri and isinstance(value, str):
        if value.startswith(_BLANK) or _SCHEME.match(value):
            return node_term(value)
        return ox.NamedNode(prefixes.expand(value))
    if isinstance(value, bool | int | float | str):
        return from_view(value, prefixes)
    raise QueryError(f"a named Cypher query returned {type(value).__name__}: return one value per column")


def cypher_param(term: Term, prefixes: Prefixes) -> ViewValue:
    """A bound parameter as the value it is compared with: IRIs as ``uri`` strings, literals as stored."""
    if isinstance(term, ox.Literal):
        try:
            return to_view(term, prefixes)
        except StoreError:  # a datatype no stored value has: a value that matches nothing stored
            return f"{term.value}^^<{term.datatype.value}>"
    if isinstance(term, ox.NamedNode | ox.BlankNode):
        return node_key(term)
    raise QueryError(f"cannot bind {type(term).__name__}: only RDF terms can be bound")


@dataclass
class _Batch:
    """A source's triples grouped for the writes: facts per subject, and relationships."""

    facts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    rels: set[tuple[str, str, str]] = field(default_factory=set)  # (subject, predicate IRI, object)
    namespaces: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, triples: Iterable[Triple]) -> _Batch:
        batch = cls()
        for s, p, o in triples:
            subject = node_key(s)
            batch.namespaces.add(split_iri(p.value)[0])
            if isinstance(o, ox.Literal):
                batch.facts[subject].add(f"{p} {o}")
                if not o.language and o.datatype != XSD.string:
                    batch.namespaces.add(split_iri(o.datatype.value)[0])
            elif p == RDF.type and isinstance(o, ox.NamedNode):
                batch.facts[subject].add(f"{p} {o}")
                batch.namespaces.add(split_iri(o.value)[0])
            else:
                batch.facts.setdefault(subject, set())  # held even with relationships only
                batch.rels.add((subject, p.value, node_key(o)))
        return batch


def _chunks(items: list[Any], size: int = _BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Neo4jStore:
    """A :class:`~normkg.kg.store.GraphStore` on Neo4j through the official driver."""

    def __init__(
        self,
        uri: str,
        *,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        timeout_s: float = 30.0,
        url: str | None = None,
    ) -> None:
        self.url = url or uri
        self.capabilities = Capabilities(
            sparql=False, cypher=True, transactional_replace=True, persistent=True
        )
        self._database = database
        self._driver = neo4j.GraphDatabase.driver(
            uri, auth=auth, connection_timeout=timeout_s, max_transaction_retry_time=timeout_s
        )
        self._prefixes = Prefixes(PREFIXES)
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, settings: Settings) -> Neo4jStore:
        """``neo4j://HOST:PORT[/DATABASE]`` (also ``neo4j+s://``, ``bolt://``); credentials from settings."""
        parts = urlsplit(url)
        if parts.username or parts.password:
            raise ConfigError(
                "credentials in the store URL are not accepted (store URLs get printed and logged)",
                hint="set NORMKG_STORE_USER and NORMKG_STORE_PASSWORD instead",
            )
        if parts.query or not parts.hostname:
            raise ConfigError(f"bad Neo4j store URL {url!r}", hint="use neo4j://HOST:PORT[/DATABASE]")
        password = settings.store_password.get_secret_value() if settings.store_password else None
        auth = (settings.store_user or "neo4j", password) if password is not None else None
        return cls(
            f"{parts.scheme}://{parts.netloc}",
            auth=auth,
            database=parts.path.strip("/") or None,
            timeout_s=settings.store_timeout_s,
            url=url,
        )

    # ---- plumbing --------------------------------------------------------------------------
    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except nx.AuthError as exc:
            raise StoreError(
                f"Neo4j refused the credentials: {exc}", hint="set NORMKG_STORE_USER/PASSWORD"
            ) from exc
        except nx.Forbidden as exc:
            raise StoreError(f"Neo4j refused the operation: {exc}") from exc
        except nx.ServiceUnavailable as exc:
            raise StoreError(
                f"cannot reach Neo4j at {self.url}: {exc}",
                hint="is the server running, and is the URL right?",
            ) from exc
        except nx.ClientError as exc:
            raise QueryError(f"Neo4j refused a query: {exc}") from exc
        except (nx.Neo4jError, nx.DriverError) as exc:
            raise StoreError(f"Neo4j failed: {exc}") from exc

    def _run(self, cypher: str, params: dict[str, Any] | None = None) -> list[Any]:
        self._ensure_ready()
        with self._errors():
            records, _, _ = self._driver.execute_query(
                cypher, params or {}, routing_=neo4j.RoutingControl.READ, database_=self._database
            )
        return list(records)

    def _ensure_ready(self) -> None:
        """Create the constraints and register the ontology's prefixes, once per store object."""
        if self._ready:
            return
        with self._lock, self._errors():
            if self._ready:
                return
            for statement in _SCHEMA:
                self._driver.execute_query(statement, database_=self._database)
            self._register_prefixes(PREFIXES)
            self._ready = True

    def _register_prefixes(self, wanted: Mapping[str, str], namespaces: Iterable[str] = ()) -> None:
        """Add the ``wanted`` prefixes, and ``nsN`` names for ``namespaces`` that have none.

        Runs with the ``_NsPrefDef`` node locked, so two processes never give one name to two
        namespaces; the queries in kg/queries rely on the ontology's own prefixes (``nkg__``,
        ``skos__``), so a database that names those namespaces otherwise is refused.
        """

        def work(tx: Any) -> Prefixes:
            current = Prefixes(tx.run(_LOCK_PREFIXES).single()["prefixes"])
            new: dict[str, str] = {}
            for prefix, namespace in wanted.items():
                have, named = current.by_prefix.get(prefix), current.by_namespace.get(namespace)
                if (have is not None and have != namespace) or (named is not None and named != prefix):
                    raise StoreError(
                        f"the database's prefix table (_NsPrefDef) maps {prefix!r} to {have} and "
                        f"{namespace} to {named!r}; normkg needs {prefix!r} for {namespace}",
                        hint="give normkg a database of its own",
                    )
                if have is None:
                    new[prefix] = namespace
            grown = Prefixes({**current.by_prefix, **new})
            new.update(grown.allocate(namespaces))
            if new:
                tx.run(_ADD_PREFIXES, new=new).consume()
            return Prefixes({**current.by_prefix, **new})

        with self._driver.session(database=self._database) as session:
            self._prefixes = session.execute_write(work)

    def _ensure_namespaces(self, namespaces: set[str]) -> None:
        """Name every namespace a write needs (taking the names other processes gave meanwhile)."""
        self._refresh_prefixes()
        if not namespaces <= set(self._prefixes.by_namespace):
            with self._errors():
                self._register_prefixes({}, namespaces)

    def _refresh_prefixes(self) -> None:
        rows = self._run(_READ_PREFIXES)
        merged: dict[str, str] = {}
        for row in rows:
            merged.update(row["prefixes"])
        self._prefixes = Prefixes(merged)

    # ---- writes ----------------------------------------------------------------------------
    def _write(self, source: str, batch: _Batch | None, *, remove_old: bool, info: GraphInfo | None) -> int:
        """One transaction: take away the source's old facts (replace, drop), add the new, recompute."""
        prefixes = self._prefixes
        holds: list[dict[str, Any]] = []
        rels: list[dict[str, str]] = []
        if batch is not None:
            holds = [{"uri": uri, "facts": sorted(facts)} for uri, facts in sorted(batch.facts.items())]
            rels = [{"s": s, "type": prefixes.shorten(p), "o": o} for s, p, o in sorted(batch.rels)]

        def work(tx: Any) -> int:
            tx.run(_ENSURE_CATALOG, source=source).consume()
            affected: set[str] = {row["uri"] for row in holds}
            orphans: set[str] = set()
            if remove_old:
                orphans |= {record["uri"] for record in tx.run(_UNLINK, source=source)}
                old = {record["uri"] for record in tx.run(_UNHOLD, source=source)}
                affected |= old
                orphans |= old
            for chunk in _chunks(holds):
                tx.run(_HOLD, source=source, rows=chunk).consume()
            for chunk in _chunks(rels):
                tx.run(_LINK, source=source, rels=chunk).consume()
            for chunk in _chunks(sorted(affected)):
                views = []
                for record in tx.run(_READ_FACTS, uris=chunk):
                    facts = [fact for held in record["facts"] for fact in held]
                    labels, props = node_view(decode_facts(record["uri"], facts), prefixes)
                    current = [label for label in record["labels"] if label != "Resource"]
                    views.append(
                        {
                            "uri": record["uri"],
                            "props": {"uri": record["uri"], **props},
                            "labels": ["Resource", *labels],
                            "drop": [label for label in current if label not in labels],
                        }
                    )
                tx.run(_WRITE_VIEW, rows=views).consume()
            for chunk in _chunks(sorted(orphans)):
                tx.run(_DELETE_ORPHANS, uris=chunk).consume()
            if info is None:
                tx.run(_DROP_CATALOG, source=source).consume()
                return 0
            count = int(tx.run(_COUNT_SOURCE, source=source).single()["n"] or 0)
            tx.run(
                _UPDATE_CATALOG,
                source=source,
                triples=count,
                key=info.content_key,
                rows=info.rows_read,
                rejected=info.rows_rejected,
            ).consume()
            return count

        with self._errors(), self._driver.session(database=self._database) as session:
            return int(session.execute_write(work))

    def replace(
        self,
        source: str,
        triples: Iterable[Triple],
        *,
        content_key: str = "",
        rows_read: int = 0,
        rows_rejected: int = 0,
        skip_if_unchanged: bool = True,
    ) -> ReplaceResult:
        self._ensure_ready()
        old = self.sources().get(source)
        skipped = unchanged(source, old, content_key, skip_if_unchanged)
        if skipped is not None:
            return skipped
        batch = _Batch.of(triples)
        self._ensure_namespaces(batch.namespaces)
        info = GraphInfo(source, 0, content_key, rows_read, rows_rejected)
        count = self._write(source, batch, remove_old=True, info=info)
        return ReplaceResult(source, count, unchanged=False)

    def add(self, source: str, triples: Iterable[Triple]) -> int:
        self._ensure_ready()
        old = self.sources().get(source)
        batch = _Batch.of(triples)
        self._ensure_namespaces(batch.namespaces)
        before = old.triples if old else 0
        info = GraphInfo(source, 0, "", old.rows_read if old else 0, old.rows_rejected if old else 0)
        return self._write(source, batch, remove_old=False, info=info) - before

    def drop(self, source: str) -> None:
        if source in self.sources():
            self._refresh_prefixes()
            self._write(source, None, remove_old=True, info=None)

    # ---- reads -----------------------------------------------------------------------------
    def sources(self) -> dict[str, GraphInfo]:
        return {
            row["name"]: GraphInfo(
                source=row["name"],
                triples=int(row["triples"] or 0),
                content_key=row["key"] or "",
                rows_read=int(row["rows"] or 0),
                rows_rejected=int(row["rejected"] or 0),
            )
            for row in self._run(_CATALOG)
        }

    def query(self, name: str, params: Bindings | None = None) -> list[Row]:
        cypher = named_query(name, "cypher")
        iris = iri_columns(cypher)
        self._ensure_ready()
        bound: dict[str, Any] = {name: None for name in _PARAMETER.findall(cypher)}  # unbound: null
        for key, value in (params or {}).items():
            if isinstance(value, ox.NamedNode | ox.BlankNode | ox.Literal):
                bound[key] = cypher_param(value, self._prefixes)
            else:  # a list binds ``$key`` to a Cypher list (``WHERE n.uri IN $key``)
                bound[key] = [cypher_param(term, self._prefixes) for term in value]
        records = self._run(cypher, bound)
        rows: list[Row] = []
        for record in records:
            row: Row = {}
            for key in record.keys():  # noqa: SIM118 - a neo4j Record iterates its values
                try:
                    term = row_term(record[key], iri=key in iris, prefixes=self._prefixes)
                except StoreError:  # a prefix another process added since: read the table again
                    self._refresh_prefixes()
                    term = row_term(record[key], iri=key in iris, prefixes=self._prefixes)
                if term is not None:
                    row[key] = term
            rows.append(row)
        return rows

    def _no_sparql(self) -> QueryError:
        return QueryError(
            "the Neo4j store runs named queries (kg/queries/NAME.cypher), not SPARQL",
            hint="check store.capabilities.sparql, or use a SPARQL store for raw queries",
        )

    def select(self, query: str, bindings: Bindings | None = None, *, limit: int | None = None) -> list[Row]:
        raise self._no_sparql()

    def ask(self, query: str, bindings: Bindings | None = None) -> bool:
        raise self._no_sparql()

    def construct(
        self, query: str, bindings: Bindings | None = None, *, limit: int | None = None
    ) -> list[Triple]:
        raise self._no_sparql()

    def reader_url(self) -> str | None:
        return None  # no SPARQL: user queries are refused before they would need a reader

    def count(self, source: str | None = None) -> int:
        infos = self.sources()
        if source is not None:
            return infos[source].triples if source in infos else 0
        return sum(info.triples for info in infos.values())

    def triples(self, source: str) -> Iterator[Triple]:
        self._ensure_ready()
        with self._errors(), self._driver.session(database=self._database) as session:
            for record in session.run(_TRIPLES, source=source):
                uri = record["uri"]
                yield from decode_facts(uri, record["facts"])
                subject = node_term(uri)
                for rel_type, target in record["rels"]:
                    try:
                        predicate = self._prefixes.expand(rel_type)
                    except StoreError:
                        self._refresh_prefixes()
                        predicate = self._prefixes.expand(rel_type)
                    yield subject, ox.NamedNode(predicate), node_term(target)

    def export(self, out: BinaryIO, fmt: ExportFormat, sources: list[str] | None = None) -> int:
        return export_sources(self, out, fmt, sources)

    def close(self) -> None:
        self._driver.close()
