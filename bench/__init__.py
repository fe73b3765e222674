"""The benchmark's modules; `bench/run.py` (`make bench`) is the entry point that ties them together.

plan (what to measure, the command line) -> meta (machine, versions, commit) -> floor (langgraph
in-process, no server) -> servers (the Waypost and `langgraph dev` processes) -> load (the HTTP
client and its phases; flame adds an optional py-spy profile) -> report (targets, json,
markdown, summary) and chart (the png). log is the progress line they all write. Helpers shared
with the tests come from tests/: `tests.serverproc` (server processes) and `tests.stats`
(percentiles).
"""
