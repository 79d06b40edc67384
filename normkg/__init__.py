"""normkg: a knowledge graph of social norms and human values.

The code is layered, and data flows one way: ingest -> kg -> reasoning -> api. Each layer lives in
its own top-level folder of the repository and installs as ``normkg.<layer>``; this package holds
only what every layer shares: settings and the exception hierarchy.
"""

__version__ = "0.1.0"
