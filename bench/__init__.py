"""The benchmark's modules; `bench/run.py` (`make bench`) is the entry point that ties them together.

plan (what to measure, the command line) -> meta (machine, versions, commit) -> floor (langgraph
in-process, no server) -> servers (the Waypost and `langgraph dev` processes) -> load (the HTTP
client and its phases; flame adds an optional py-spy profile) -> scaled (PostgreSQL + Redis
with one and two processes beside Aegra: load, exactly-once, takeover; backing makes and drops
their schemas, databases and Redis keys, aegra finds a Python for Aegra and installs it) -> report
(targets, json, markdown, summary) and chart (the png). log is the progress line they all
write. Helpers shared with the tests come from tests/: `tests.serverproc` (server processes) and
`tests.stats` (percentiles).
"""
