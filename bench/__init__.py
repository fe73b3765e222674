"""The benchmark's modules; `bench/run.py` (`make bench`) is the entry point that ties them together.

plan (what to measure, the command line) -> floor (langgraph in-process, no server) ->
servers (Waypost and `langgraph dev` processes) -> load (the HTTP client and its phases) ->
report (json, markdown, summary, targets) and chart (the png). Helpers shared with the tests
come from tests/ (`tests.serverproc`, `tests.stats`).
"""
