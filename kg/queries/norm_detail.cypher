// One norm with judgment, behaviour, frame and provenance (dataset and source row).
// @iri: norm judgment deontic behavior frame dataset license row
MATCH (n:Resource) WHERE n.uri IN $norm
UNWIND n.nkg__text AS text
OPTIONAL MATCH (n)-[:nkg__judgment]->(own:Resource)
OPTIONAL MATCH (n)-[:nkg__about]->(:Resource)-[:nkg__judgment]->(acted:Resource)
WITH n, text, coalesce(own, acted) AS j
OPTIONAL MATCH (n)-[:nkg__deonticStatus]->(ds:Resource)
OPTIONAL MATCH (n)-[:nkg__about]->(b:Resource)
OPTIONAL MATCH (n)-[:nkg__hasFrame]->(f:Resource)
OPTIONAL MATCH (n)-[:prov__wasDerivedFrom]->(r:Resource)
OPTIONAL MATCH (r)-[:nkg__inDataset]->(d:Resource)
OPTIONAL MATCH (d)-[:dcterms__license]->(lic:Resource)
RETURN n.uri AS norm, text, j.uri AS judgment, head(j.skos__prefLabel) AS judgmentLabel,
       head(j.nkg__polarity) AS polarity, head(n.nkg__judgmentText) AS judgmentText,
       ds.uri AS deontic, head(ds.skos__prefLabel) AS deonticLabel, b.uri AS behavior,
       head(b.nkg__text) AS behaviorText, f.uri AS frame, d.uri AS dataset,
       head(d.nkg__sourceName) AS source, head(d.dcterms__title) AS title, lic.uri AS license,
       head(d.nkg__licenseNote) AS licenseNote, head(d.nkg__citation) AS citation, r.uri AS row,
       head(r.nkg__sourceFile) AS file, head(r.nkg__sourceLine) AS line, head(r.nkg__sourceId) AS rowId
