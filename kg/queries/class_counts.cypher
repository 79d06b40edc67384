// Instances per class (for stats): rdf:type is mapped to node labels (n10s style).
// Labels are turned back into class IRIs with the prefix table (_NsPrefDef), so that ORDER BY
// sorts by IRI as the SPARQL version does.
// @iri: class
MATCH (n:Resource)
UNWIND labels(n) AS label
WITH label, n WHERE label <> 'Resource'
WITH label, count(DISTINCT n) AS instances
MATCH (ns:_NsPrefDef)
WITH ns[split(label, '__')[0]] + substring(label, size(split(label, '__')[0]) + 2) AS class, instances
RETURN class, instances AS n
ORDER BY class
