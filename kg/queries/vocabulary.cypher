// The situational vocabulary: settings, roles, attributes, environment conditions with labels,
// and the setting / attribute kind / slot each belongs to.
// @iri: term class group
MATCH (t:Resource)
WHERE any(l IN labels(t) WHERE l IN ['nkg__Setting', 'nkg__Role', 'nkg__Attribute', 'nkg__EnvironmentCondition', 'nkg__Country'])
UNWIND [l IN labels(t) WHERE l IN ['nkg__Setting', 'nkg__Role', 'nkg__Attribute', 'nkg__EnvironmentCondition', 'nkg__Country']] AS class
UNWIND t.skos__prefLabel AS label
OPTIONAL MATCH (t)-[:nkg__roleIn|nkg__attributeKind|nkg__slot]->(g:Resource)
RETURN t.uri AS term, class, label, g.uri AS group, head(coalesce(g.skos__prefLabel, [null])) AS groupLabel
