// Every norm (and principle) with text, frame, judgment polarity, behaviour and source.
// @iri: norm frame behavior
MATCH (n:Resource)
WHERE n:nkg__Norm OR n:nkg__Principle
UNWIND n.nkg__text AS text
OPTIONAL MATCH (n)-[:nkg__hasFrame]->(f:Resource)
OPTIONAL MATCH (n)-[:nkg__judgment]->(own:Resource)
OPTIONAL MATCH (n)-[:nkg__about]->(:Resource)-[:nkg__judgment]->(acted:Resource)
WITH n, text, f, coalesce(own, acted) AS j
OPTIONAL MATCH (n)-[:nkg__about]->(b:Resource)
OPTIONAL MATCH (n)-[:prov__wasDerivedFrom]->(:Resource)-[:nkg__inDataset]->(d:Resource)
RETURN n.uri AS norm, text, f.uri AS frame, head(j.nkg__polarity) AS polarity, b.uri AS behavior,
       head(d.nkg__sourceName) AS source
