// The datasets in the store with their credits (title, license, citation).
// @iri: dataset license
MATCH (d:Resource:nkg__Dataset)
OPTIONAL MATCH (d)-[:dcterms__license]->(lic:Resource)
RETURN d.uri AS dataset, head(d.nkg__sourceName) AS source, head(d.dcterms__title) AS title,
       head(d.nkg__licenseNote) AS licenseNote, lic.uri AS license, head(d.nkg__citation) AS citation
