// Instances per class (for stats): rdf:type is mapped to node labels (n10s style).
MATCH (n:Resource)
UNWIND labels(n) AS label
WITH label, n WHERE label <> 'Resource'
RETURN label AS class, count(DISTINCT n) AS n
ORDER BY class
