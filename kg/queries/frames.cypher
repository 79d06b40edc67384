// Every frame with its constraints (relationship type = frame property, target = value).
// @iri: frame property value
MATCH (f:Resource:nkg__Frame)-[r]->(v:Resource)
WHERE type(r) IN ['nkg__country', 'nkg__region', 'nkg__setting', 'nkg__actorRole', 'nkg__otherRole',
                  'nkg__actorAttribute', 'nkg__otherAttribute', 'nkg__environment', 'nkg__actorAlsoDoing']
RETURN f.uri AS frame, type(r) AS property, v.uri AS value
