"""Schemathesis against a real `waypost serve`: whatever a client sends, the answer is not a
5xx, and every error body is exactly {"detail": "<str>"}.

Requests are generated from the OpenAPI document the server publishes: boundary and
wrong-type values from the coverage phase, then a few random positive and negative
examples per operation. Random UUIDs would only ever reach "not found", so before each
call the ids in the path and body are swapped for real ones made in setup: threads paused
on an interrupt (a generated `command` gets a valid answer, so resumes really resume),
their runs and checkpoints, assistants, graph names. Ids that are not UUIDs are left as
generated, to be refused.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis

from tests.serverproc import TEST_GRAPHS_CONFIG, ServerProcess
from waypost.api.limits import MAX_AFTER_SECONDS
from waypost.app import create_app
from waypost.settings import Settings

SEED = 20240521
# Graphs that pause on an interrupt at once whatever their input (`slow` sleeps as long as
# a generated `delay` says), each with an answer its interrupt accepts.
ANSWERS: dict[str, Any] = {"agent": "answered", "schema": {"approved": True}, "subgraph": "answered"}
# Only a thread's own stream never ends: it is read for this long, then cut.
STREAM_READ_S = 0.5
REQUEST_TIMEOUT_S = 15
RUN_ROUTES_SHARING_ONE_BODY = r"^/runs(/wait|/stream|/batch)?$|^/threads/\{thread_id\}/runs/(wait|stream)$"

CONFIG = {
    "seed": SEED,
    # These judge how fast data is generated, which on a busy machine says nothing about
    # the server; a slow server still fails by its request timeout.
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large", "large_base_example"],
    "generation": {
        "mode": "all",  # positive and negative data
        "max-examples": 4,  # per operation, in the fuzzing phase
        "database": "none",  # nothing written to .hypothesis/
    },
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
    "operations": [
        # Seven routes parse the same RunCreate body; its boundary values (some 270 cases,
        # each a real run) are covered once, on POST /threads/{thread_id}/runs. The other
        # six still get the fuzzing phase.
        {"include-path-regex": RUN_ROUTES_SHARING_ONE_BODY, "phases": {"coverage": {"enabled": False}}},
    ],
}


def load_schema() -> Any:
    """The document `waypost serve` publishes, built from the same app code at collection
    time, when there is no server yet to fetch it from; test_served_document_is_the_one_fuzzed
    checks the running server publishes exactly this. (schemathesis.pytest.from_fixture,
    which would load it from the server, fails under pytest 9.2: it sets a node attribute
    pytest no longer has.)"""
    settings = Settings(config_path=TEST_GRAPHS_CONFIG, database_url="sqlite:///unused")
    return schemathesis.openapi.from_dict(create_app(settings).openapi(), config=schemathesis.Config.from_dict(CONFIG))


schema = load_schema()


@dataclass
class Paused:
    """A thread whose run of `graph` paused on an interrupt (ANSWERS[graph] answers it)."""

    graph: str
    thread_id: str
    run_id: str
    checkpoint_id: str


class World:
    """What setup made, handed out in turn so each operation sees several of them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)
        self.graphs = itertools.cycle(ANSWERS)
        # Assistants of its own: a patch or a `latest` on a graph's system assistant would
        # change what every later run by graph name does.
        self.assistants = itertools.cycle([self.assistant() for _ in ANSWERS])
        self.threads = [self.pause(graph) for graph in ANSWERS for _ in range(3)]
        self.turn = itertools.cycle(range(len(self.threads)))
        self.answer_next = itertools.cycle((True, False))

    def pause(self, graph: str) -> Paused:
        tid = self.http.post("/threads", json={}).json()["thread_id"]
        r = self.http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": graph, "input": {"some_text": "fuzz"}})
        assert r.status_code == 200 and r.json().get("__interrupt__"), r.text
        run_id = r.headers["content-location"].rsplit("/", 1)[1]
        checkpoint_id = self.http.get(f"/threads/{tid}/state").json()["checkpoint_id"]
        return Paused(graph, tid, run_id, checkpoint_id)

    def thread(self) -> Paused:
        return self.threads[next(self.turn)]

    def waiting(self) -> Paused:
        """A thread still waiting for its answer: an earlier case may have answered it, in
        which case a new one takes its place."""
        i = next(self.turn)
        if self.http.get(f"/threads/{self.threads[i].thread_id}").json().get("status") != "interrupted":
            self.threads[i] = self.pause(self.threads[i].graph)
        return self.threads[i]

    def assistant(self) -> str:
        made = self.http.post("/assistants", json={"graph_id": next(self.graphs)})
        assert made.status_code == 200, made.text
        return str(made.json()["assistant_id"])


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A server of its own (the fuzzer deletes, cancels and resumes what it is given), and
    the threads, runs and assistants to give it."""
    db: Path = tmp_path_factory.mktemp("fuzz") / "waypost.sqlite"
    server = ServerProcess(config=TEST_GRAPHS_CONFIG, database_url=f"sqlite:///{db}").start()
    try:
        world = World(server.url)
        yield world
        world.http.close()
    finally:
        server.stop()


def fill(case: Any, world: World) -> None:
    """Swap generated ids for real ones and keep runs short and local. A delete gets a
    thread, run or assistant of its own, so the shared ones stay for the other cases."""
    path = case.path_parameters or {}
    body = case.body
    deleting = case.method.upper() == "DELETE"
    runs_on_thread = case.path.startswith("/threads/{thread_id}/runs") and case.method.upper() == "POST"
    answer = (
        runs_on_thread
        and isinstance(body, dict)
        and isinstance(body.get("command", {}), dict)
        and is_uuid(path.get("thread_id"))
        and next(world.answer_next)
    )
    if answer:
        thread = world.waiting()
    elif deleting and "thread_id" in path:
        thread = world.pause(next(world.graphs))
    else:
        thread = world.thread()
    if is_uuid(path.get("thread_id")):
        path["thread_id"] = thread.thread_id
        if is_uuid(path.get("run_id")):
            path["run_id"] = thread.run_id
        if "checkpoint_id" in path:
            path["checkpoint_id"] = thread.checkpoint_id
    if is_uuid(path.get("assistant_id")):
        path["assistant_id"] = world.assistant() if deleting else next(world.assistants)
    elif isinstance(path.get("assistant_id"), str) and case.method.upper() == "GET":
        path["assistant_id"] = next(world.graphs)  # graph, schemas, subgraphs also take a graph name
    for item in body if isinstance(body, list) else [body]:
        if isinstance(item, dict):
            fill_body(case, item, world, thread)
    if answer:
        # The answer its interrupt asks for, by the graph that asked.
        body["assistant_id"] = thread.graph
        body["command"] = {**body.get("command", {}), "resume": ANSWERS[thread.graph]}
        body.pop("input", None)


def fill_body(case: Any, body: dict[str, Any], world: World, thread: Paused) -> None:
    if isinstance(body.get("assistant_id"), str):
        body["assistant_id"] = next(world.graphs)
    if isinstance(body.get("graph_id"), str):
        body["graph_id"] = next(world.graphs)
    if is_uuid(body.get("thread_id")) and case.path != "/threads":
        body["thread_id"] = thread.thread_id
        if isinstance(body.get("run_ids"), list):
            body["run_ids"] = [thread.run_id]
    # A run delayed by up to a year would keep /wait and /join waiting as long, and a webhook
    # would send the run to whatever host or route of ours it names. Values out of bounds
    # stay, to be refused.
    if isinstance(body.get("after_seconds"), (int, float)) and 0 <= body["after_seconds"] <= MAX_AFTER_SECONDS:
        body["after_seconds"] = 0
    if isinstance(body.get("webhook"), str) and body["webhook"].startswith(("http://", "https://", "/")):
        del body["webhook"]


def assert_well_formed(response: Any, case: Any) -> None:
    where = f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:500]}"
    assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text[:500]}"
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"detail"}, f"{where} -> {body}"
        assert isinstance(body["detail"], str) and body["detail"], f"{where} -> {body}"


def test_served_document_is_the_one_fuzzed(world: World) -> None:
    assert world.http.get("/openapi.json").json() == schema.raw_schema


@schema.parametrize()
def test_no_5xx_and_every_error_is_detail(case: Any, world: World) -> None:
    fill(case, world)
    timeout = STREAM_READ_S if case.path == "/threads/{thread_id}/stream" else REQUEST_TIMEOUT_S
    assert_well_formed(case.call(base_url=world.url, timeout=timeout), case)
