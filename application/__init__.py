"""The application layer: what every front end (the HTTP API, Open311, the CLI, and the
console and mobile app to come) calls, between them and the core (domain, store,
activities, workflows).

- ``config``, ``logs``: settings read in one place; structured logging.
- ``intake``: turning a report into the domain's command (rules, grid, routing).
- ``temporal``: the one way to reach Temporal, with timeouts and a clear error.
- ``errors``: the layer's own refusals (not found, forbidden, invalid, duplicate,
  unavailable), which each front end words its own way.
- ``principals``, ``authz``, ``photos``: who the caller is, what his role and
  jurisdiction let him do and see.
- ``cases``: the use cases that change a case (report, act).
- ``read_models``: every list, board and count, always within the caller's jurisdiction.
"""
