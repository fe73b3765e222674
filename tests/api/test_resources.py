"""Assistants, threads and runs through the official async SDK (plus raw HTTP where the
status code or a header is the point)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Command

from tests.api.support import AGENT_ASSISTANT_ID, UNKNOWN_THREAD, UUID_RE, assert_error, flatten_interrupts
from tests.markers import Markers


async def status_of(call) -> int:
    try:
        await call
    except httpx.HTTPStatusError as exc:
        return exc.response.status_code
    return 200


def tag() -> str:
    return uuid.uuid4().hex


# --- assistants ----------------------------------------------------------------------------


async def test_system_assistant_for_agent(client: LangGraphClient) -> None:
    found = await client.assistants.search(graph_id="agent", metadata={"created_by": "system"})
    [system] = [a for a in found if a["assistant_id"] == AGENT_ASSISTANT_ID]
    assert system["graph_id"] == "agent"
    assert system["metadata"] == {"created_by": "system"}
    assert system["name"] == "agent"
    assert system["version"] == 1
    assert await client.assistants.get(AGENT_ASSISTANT_ID) == system

    # One system assistant per graph in langgraph.json.
    systems = await client.assistants.search(metadata={"created_by": "system"}, limit=100)
    assert {a["graph_id"] for a in systems} >= {
        "agent",
        "double",
        "parallel",
        "subgraph",
        "static_bp",
        "followup",
        "slow",
        "schema",
        "failing",
        "factory",
        "builder",
        "steps",
    }
    # A graph name is not an assistant id for GET.
    assert await status_of(client.assistants.get("agent")) == 422


async def test_assistant_lifecycle(client: LangGraphClient) -> None:
    t = tag()
    created = await client.assistants.create(
        "agent", config={"tags": ["x"]}, metadata={"suite": t, "a": 1}, name="mine"
    )
    aid = created["assistant_id"]
    assert UUID_RE.match(aid)
    assert created["version"] == 1 and created["name"] == "mine" and created["graph_id"] == "agent"
    assert created["metadata"] == {"suite": t, "a": 1}
    assert await client.assistants.get(aid) == created

    patched = await client.assistants.update(aid, metadata={"b": 2}, name="mine v2")
    assert patched["version"] == 2
    assert patched["metadata"] == {"suite": t, "a": 1, "b": 2}
    assert patched["name"] == "mine v2"
    assert await client.assistants.get(aid) == patched

    versions = await client.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["metadata"] == {"suite": t, "a": 1}
    assert all("updated_at" not in v for v in versions)

    latest = await client.assistants.set_latest(aid, 1)
    assert latest["version"] == 1 and latest["name"] == "mine" and latest["metadata"] == {"suite": t, "a": 1}
    assert (await client.assistants.get(aid))["version"] == 1

    assert await client.assistants.count(metadata={"suite": t}) == 1
    assert [a["assistant_id"] for a in await client.assistants.search(metadata={"suite": t})] == [aid]

    # A user assistant runs its graph like the system one.
    thread = await client.threads.create()
    result = await client.runs.wait(thread["thread_id"], aid, input={"some_text": "via mine"})
    assert result["some_text"] == "via mine" and len(result["__interrupt__"]) == 1

    await client.assistants.delete(aid)
    assert await status_of(client.assistants.get(aid)) == 404
    assert await client.assistants.count(metadata={"suite": t}) == 0


async def test_assistant_create_conflict(client: LangGraphClient) -> None:
    aid = str(uuid.uuid4())
    first = await client.assistants.create("agent", assistant_id=aid, name="one")
    assert await status_of(client.assistants.create("agent", assistant_id=aid)) == 409
    same = await client.assistants.create("agent", assistant_id=aid, if_exists="do_nothing")
    assert same == first
    await client.assistants.delete(aid)


async def test_assistant_delete_is_204(http: httpx.AsyncClient) -> None:
    aid = (await http.post("/assistants", json={"graph_id": "agent"})).json()["assistant_id"]
    r = await http.delete(f"/assistants/{aid}")
    assert r.status_code == 204 and r.content == b""
    assert_error(await http.delete(f"/assistants/{aid}"), 404)
    assert_error(await http.get(f"/assistants/{aid}"), 404)


async def test_assistant_count(client: LangGraphClient) -> None:
    total = await client.assistants.count()
    assert total >= 12
    assert await client.assistants.count(graph_id="agent", metadata={"created_by": "system"}) == 1


async def test_get_graph(client: LangGraphClient) -> None:
    drawing = await client.assistants.get_graph("agent")
    assert {n["id"] for n in drawing["nodes"]} == {"__start__", "human_node", "__end__"}
    edges = {(e["source"], e["target"]) for e in drawing["edges"]}
    assert edges == {("__start__", "human_node"), ("human_node", "__end__")}
    by_uuid = await client.assistants.get_graph(AGENT_ASSISTANT_ID)
    assert by_uuid == drawing


async def test_get_schemas(client: LangGraphClient) -> None:
    schemas = await client.assistants.get_schemas("agent")
    assert set(schemas) == {
        "graph_id",
        "input_schema",
        "output_schema",
        "state_schema",
        "config_schema",
        "context_schema",
    }
    assert schemas["graph_id"] == "agent"
    assert isinstance(schemas["config_schema"], dict)
    assert await client.assistants.get_schemas(AGENT_ASSISTANT_ID) == schemas


async def test_get_subgraphs(client: LangGraphClient) -> None:
    subgraphs = await client.assistants.get_subgraphs("subgraph")
    assert list(subgraphs) == ["sub"]
    assert "input_schema" in subgraphs["sub"] and "graph_id" not in subgraphs["sub"]
    assert await client.assistants.get_subgraphs("agent") == {}


# --- threads ---------------------------------------------------------------------------------


async def test_thread_create_get_conflict(client: LangGraphClient) -> None:
    tid = str(uuid.uuid4())
    created = await client.threads.create(thread_id=tid, metadata={"owner": "me"})
    assert created["thread_id"] == tid
    assert created["metadata"] == {"owner": "me"}
    assert created["status"] == "idle" and created["values"] is None and created["interrupts"] == {}
    assert await client.threads.get(tid) == created

    assert await status_of(client.threads.create(thread_id=tid)) == 409
    assert await status_of(client.threads.create(thread_id=tid, if_exists="raise")) == 409
    same = await client.threads.create(thread_id=tid, metadata={"owner": "other"}, if_exists="do_nothing")
    assert same == created


async def test_thread_update_merges_metadata(client: LangGraphClient) -> None:
    thread = await client.threads.create(metadata={"a": 1, "b": 1})
    tid = thread["thread_id"]
    updated = await client.threads.update(tid, metadata={"b": 2, "c": 3})
    assert updated["metadata"] == {"a": 1, "b": 2, "c": 3}
    assert (await client.threads.get(tid))["metadata"] == {"a": 1, "b": 2, "c": 3}


async def test_a_run_stamps_its_graph_and_assistant_on_the_thread(client: LangGraphClient) -> None:
    """As the official server does: a thread's metadata names the graph and the assistant of
    its latest run, beside the metadata it was created with; a run of another assistant of
    the same graph renames it, and what the graph sees as its metadata agrees."""
    thread = await client.threads.create(metadata={"owner": "ann"})
    tid = thread["thread_id"]
    await client.runs.wait(tid, "agent", input={"some_text": "x"})
    after = await client.threads.get(tid)
    assert after["metadata"] == {"owner": "ann", "graph_id": "agent", "assistant_id": AGENT_ASSISTANT_ID}
    mine = await client.assistants.create(graph_id="agent", name=f"mine-{tag()}")
    await client.runs.wait(tid, mine["assistant_id"], command=Command(resume="y"))
    renamed = await client.threads.get(tid)
    assert renamed["metadata"] == {"owner": "ann", "graph_id": "agent", "assistant_id": mine["assistant_id"]}
    assert renamed["status"] == "idle" and renamed["values"] == {"some_text": "y"}
    (checkpoint, *_) = await client.threads.get_history(tid, limit=1)
    assert checkpoint["metadata"]["assistant_id"] == mine["assistant_id"]
    assert checkpoint["metadata"]["owner"] == "ann"


async def test_thread_search_count_sort_page(client: LangGraphClient) -> None:
    t = tag()
    made = [await client.threads.create(metadata={"suite": t, "n": i}) for i in range(4)]
    ids = [m["thread_id"] for m in made]

    assert await client.threads.count(metadata={"suite": t}) == 4
    asc = await client.threads.search(metadata={"suite": t}, sort_by="created_at", sort_order="asc")
    assert [x["thread_id"] for x in asc] == ids
    desc = await client.threads.search(metadata={"suite": t}, sort_by="created_at", sort_order="desc")
    assert [x["thread_id"] for x in desc] == ids[::-1]
    page1 = await client.threads.search(metadata={"suite": t}, sort_by="created_at", sort_order="asc", limit=2)
    page2 = await client.threads.search(
        metadata={"suite": t}, sort_by="created_at", sort_order="asc", limit=2, offset=2
    )
    assert [x["thread_id"] for x in page1 + page2] == ids
    assert await client.threads.search(metadata={"suite": t}, limit=2, offset=4) == []
    [only] = await client.threads.search(metadata={"suite": t, "n": 2})
    assert only["thread_id"] == ids[2]


async def test_thread_search_pagination_headers(http: httpx.AsyncClient) -> None:
    t = tag()
    for _ in range(3):
        await http.post("/threads", json={"metadata": {"suite": t}})
    r = await http.post("/threads/search", json={"metadata": {"suite": t}, "limit": 2, "offset": 0})
    assert len(r.json()) == 2
    assert r.headers["x-pagination-total"] == "3" and r.headers["x-pagination-next"] == "2"
    r = await http.post("/threads/search", json={"metadata": {"suite": t}, "limit": 2, "offset": 2})
    assert len(r.json()) == 1 and "x-pagination-next" not in r.headers


async def test_thread_search_by_status(client: LangGraphClient) -> None:
    t = tag()
    idle = await client.threads.create(metadata={"suite": t})
    waiting = await client.threads.create(metadata={"suite": t})
    await client.runs.wait(waiting["thread_id"], "agent", input={"some_text": "s"})

    found = await client.threads.search(status="interrupted", metadata={"suite": t})
    assert [x["thread_id"] for x in found] == [waiting["thread_id"]]
    assert found[0]["status"] == "interrupted" and len(flatten_interrupts(found[0])) == 1
    assert found[0]["metadata"]["suite"] == t and found[0]["metadata"]["graph_id"] == "agent"
    assert [x["thread_id"] for x in await client.threads.search(status="idle", metadata={"suite": t})] == [
        idle["thread_id"]
    ]
    assert await client.threads.count(status="interrupted", metadata={"suite": t}) == 1
    # Unfiltered by metadata, the interrupted thread is among the interrupted ones.
    everyone = await client.threads.search(status="interrupted", limit=1000)
    assert waiting["thread_id"] in {x["thread_id"] for x in everyone}
    assert all(x["status"] == "interrupted" for x in everyone)


async def test_thread_search_by_values(client: LangGraphClient) -> None:
    text = f"values-{tag()}"
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "agent", input={"some_text": text})
    found = await client.threads.search(values={"some_text": text})
    assert [x["thread_id"] for x in found] == [thread["thread_id"]]


async def test_thread_copy_resumes_independently(client: LangGraphClient) -> None:
    original = await client.threads.create(metadata={"kind": "orig"})
    tid = original["thread_id"]
    first = await client.runs.wait(tid, "agent", input={"some_text": "original text"})
    [item] = first["__interrupt__"]

    copy = await client.threads.copy(tid)
    cid = copy["thread_id"]
    assert cid != tid
    assert copy["status"] == "interrupted"
    assert copy["values"] == {"some_text": "original text"}
    assert copy["metadata"]["kind"] == "orig"
    copied_state = await client.threads.get_state(cid)
    original_state = await client.threads.get_state(tid)
    assert copied_state["values"] == original_state["values"]
    assert copied_state["next"] == original_state["next"] == ["human_node"]
    assert [i["id"] for i in copied_state["interrupts"]] == [item["id"]]

    assert await client.runs.wait(cid, "agent", command=Command(resume="copy answer")) == {"some_text": "copy answer"}
    # The original still waits, untouched, and takes its own answer.
    still = await client.threads.get(tid)
    assert still["status"] == "interrupted" and still["values"] == {"some_text": "original text"}
    assert await client.runs.wait(tid, "agent", command=Command(resume="orig answer")) == {"some_text": "orig answer"}
    assert (await client.threads.get_state(cid))["values"] == {"some_text": "copy answer"}
    assert len(await client.runs.list(cid)) == 1
    assert len(await client.runs.list(tid)) == 2


async def test_update_state_as_node(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "agent", input={"some_text": "original text"})
    before = await client.threads.get_state(tid)

    response = await client.threads.update_state(tid, {"some_text": "by hand"}, as_node="human_node")
    checkpoint = response["checkpoint"]
    assert checkpoint["thread_id"] == tid and checkpoint["checkpoint_ns"] == ""
    assert checkpoint["checkpoint_id"] and checkpoint["checkpoint_id"] != before["checkpoint"]["checkpoint_id"]

    state = await client.threads.get_state(tid)
    assert state["values"] == {"some_text": "by hand"}
    assert state["checkpoint"]["checkpoint_id"] == checkpoint["checkpoint_id"]
    assert state["metadata"]["source"] == "update"
    assert state["next"] == []
    thread = await client.threads.get(tid)
    assert thread["values"] == {"some_text": "by hand"}
    assert thread["status"] == "idle" and thread["interrupts"] == {}


async def test_update_state_on_thread_without_graph_is_400(http: httpx.AsyncClient) -> None:
    tid = (await http.post("/threads", json={})).json()["thread_id"]
    r = await http.post(f"/threads/{tid}/state", json={"values": {"some_text": "x"}})
    assert_error(r, 400)


async def test_history_and_state_at_checkpoint(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "agent", input={"some_text": "original text"})
    interrupted = await client.threads.get_state(tid)
    await client.runs.wait(tid, "agent", command=Command(resume="Edited text"))
    final = await client.threads.get_state(tid)

    history = await client.threads.get_history(tid, limit=10)
    assert len(history) >= 3
    assert history[0]["checkpoint"]["checkpoint_id"] == final["checkpoint"]["checkpoint_id"]
    assert history[0]["values"] == {"some_text": "Edited text"}
    steps = [h["metadata"]["step"] for h in history]
    assert steps == sorted(steps, reverse=True)
    created = [h["created_at"] for h in history]
    assert created == sorted(created, reverse=True)
    assert interrupted["checkpoint"]["checkpoint_id"] in [h["checkpoint"]["checkpoint_id"] for h in history]
    assert history[-1]["metadata"]["source"] == "input" and history[-1]["next"] == ["__start__"]
    assert len(await client.threads.get_history(tid, limit=1)) == 1

    cid = interrupted["checkpoint"]["checkpoint_id"]
    at = await client.threads.get_state(tid, checkpoint_id=cid)  # GET /threads/{id}/state/{checkpoint_id}
    assert at["values"] == {"some_text": "original text"}
    assert at["next"] == ["human_node"]
    assert at["checkpoint"]["checkpoint_id"] == cid
    at2 = await client.threads.get_state(tid, checkpoint={"checkpoint_id": cid})  # POST .../state/checkpoint
    assert at2["values"] == at["values"] and at2["next"] == at["next"]
    before = await client.threads.get_history(tid, before=cid, limit=10)
    assert all(h["checkpoint"]["checkpoint_id"] < cid for h in before)
    assert len(before) == len(history) - [h["checkpoint"]["checkpoint_id"] for h in history].index(cid) - 1


async def test_state_of_fresh_thread(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"] == {} and state["next"] == [] and state["tasks"] == []
    assert state["checkpoint"] is None and state["interrupts"] == []
    assert await client.threads.get_history(thread["thread_id"]) == []


async def test_thread_delete(client: LangGraphClient, http: httpx.AsyncClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "agent", input={"some_text": "x"})
    r = await http.delete(f"/threads/{tid}")
    assert r.status_code == 204 and r.content == b""
    assert_error(await http.get(f"/threads/{tid}"), 404)
    assert_error(await http.get(f"/threads/{tid}/state"), 404)
    assert_error(await http.delete(f"/threads/{tid}"), 404)
    assert await status_of(client.threads.get(tid)) == 404


# --- runs ------------------------------------------------------------------------------------


async def test_background_run_join_matches_wait(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(tid, "agent", input={"some_text": "original text"})
    assert run["status"] == "pending" and run["thread_id"] == tid
    assert run["assistant_id"] == AGENT_ASSISTANT_ID
    assert run["multitask_strategy"] == "enqueue"
    joined = await client.runs.join(tid, run["run_id"])
    assert joined["some_text"] == "original text"
    assert joined["__interrupt__"] == flatten_interrupts(await client.threads.get(tid))
    # Joining a finished run again answers the same.
    assert await client.runs.join(tid, run["run_id"]) == joined
    got = await client.runs.get(tid, run["run_id"])
    assert got["status"] == "success"  # ending in an interrupt is a success; the thread is interrupted

    waited = await client.runs.wait(tid, "agent", command=Command(resume="Edited text"))
    assert waited == {"some_text": "Edited text"}
    runs = await client.runs.list(tid)
    assert len(runs) == 2
    resume_run = next(r for r in runs if r["run_id"] != run["run_id"])
    assert await client.runs.join(tid, resume_run["run_id"]) == waited


async def test_background_resume_then_join(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "agent", input={"some_text": "original text"})
    run = await client.runs.create(tid, "agent", command=Command(resume="later"))
    assert await client.runs.join(tid, run["run_id"]) == {"some_text": "later"}


async def test_run_create_headers(http: httpx.AsyncClient) -> None:
    tid = (await http.post("/threads", json={})).json()["thread_id"]
    r = await http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": "x"}})
    assert r.status_code == 200
    run = r.json()
    assert r.headers["content-location"] == f"/threads/{tid}/runs/{run['run_id']}"
    assert set(run) >= {
        "run_id",
        "thread_id",
        "assistant_id",
        "created_at",
        "updated_at",
        "status",
        "metadata",
        "kwargs",
        "multitask_strategy",
    }
    joined = await http.get(f"/threads/{tid}/runs/{run['run_id']}/join")
    assert joined.status_code == 200 and joined.json()["some_text"] == "x"


async def test_run_get_and_list(client: LangGraphClient, http: httpx.AsyncClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "agent", input={"some_text": "x"}, metadata={"mine": "yes"})
    await client.runs.wait(tid, "agent", command=Command(resume="y"))
    runs = await client.runs.list(tid)
    assert len(runs) == 2
    assert all(r["status"] == "success" and r["thread_id"] == tid for r in runs)
    assert runs[0]["created_at"] >= runs[1]["created_at"]  # newest first
    first = runs[1]
    assert first["metadata"]["mine"] == "yes"
    assert first["kwargs"]["input"] == {"some_text": "x"}
    assert runs[0]["kwargs"]["command"] == {"resume": "y"}
    assert await client.runs.get(tid, first["run_id"]) == first
    assert len(await client.runs.list(tid, limit=1)) == 1
    assert [r["run_id"] for r in await client.runs.list(tid, limit=1, offset=1)] == [first["run_id"]]
    assert len(await client.runs.list(tid, status="success")) == 2
    assert await client.runs.list(tid, status="error") == []
    assert_error(await http.get(f"/threads/{tid}/runs/{uuid.uuid4()}"), 404)
    # A run is only found under its own thread.
    other = await client.threads.create()
    assert_error(await http.get(f"/threads/{other['thread_id']}/runs/{first['run_id']}"), 404)


async def test_stateless_wait_returns_the_interrupt(client: LangGraphClient) -> None:
    result = await client.runs.wait(None, "agent", input={"some_text": "stateless"})
    assert result["some_text"] == "stateless"
    [item] = result["__interrupt__"]
    assert item["value"] == {"text_to_revise": "stateless"}


async def test_stateless_wait_default_deletes_the_temporary_thread(http: httpx.AsyncClient) -> None:
    r = await http.post("/runs/wait", json={"assistant_id": "factory", "input": {"some_text": "d"}})
    assert r.status_code == 200
    assert r.json() == {"some_text": "d (factory)"}
    tid = r.headers["content-location"].split("/")[2]
    assert_error(await http.get(f"/threads/{tid}"), 404)


async def test_stateless_wait_keep(http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/runs/wait", json={"assistant_id": "factory", "input": {"some_text": "k"}, "on_completion": "keep"}
    )
    assert r.status_code == 200 and r.json() == {"some_text": "k (factory)"}
    tid = r.headers["content-location"].split("/")[2]
    thread = (await http.get(f"/threads/{tid}")).json()
    assert thread["values"] == {"some_text": "k (factory)"}


async def test_stateless_resume_is_refused(http: httpx.AsyncClient) -> None:
    r = await http.post("/runs/wait", json={"assistant_id": "agent", "command": {"resume": "x"}})
    assert r.status_code in (400, 422)
    assert_error(r, r.status_code)


async def test_if_not_exists_create(client: LangGraphClient) -> None:
    tid = str(uuid.uuid4())
    result = await client.runs.wait(tid, "agent", input={"some_text": "new"}, if_not_exists="create")
    assert result["some_text"] == "new" and len(result["__interrupt__"]) == 1
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert thread["metadata"]["graph_id"] == "agent" and thread["metadata"]["assistant_id"] == AGENT_ASSISTANT_ID
    # Default (reject) on a missing thread is 404.
    assert await status_of(client.runs.wait(str(uuid.uuid4()), "agent", input={"some_text": "x"})) == 404


async def test_enqueue_second_run_waits_for_first(client: LangGraphClient, markers: Markers) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    # the first run stays inside its node until released, however long the checks below take
    first = await client.runs.create(
        tid, "slow", input={"some_text": "one", "delay": 0}, config=markers.config(hold=["slow_node"])
    )
    await markers.wait("slow_node")
    second = await client.runs.create(tid, "slow", input={"some_text": "two", "delay": 0})
    assert second["multitask_strategy"] == "enqueue"
    # While the first one runs, the second one stays pending.
    assert (await client.runs.get(tid, second["run_id"]))["status"] == "pending"
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "running"
    assert (await client.threads.get(tid))["status"] == "busy"
    markers.release("slow_node")

    result = await client.runs.join(tid, second["run_id"])
    assert result["some_text"] == "two" and result["__interrupt__"][0]["value"] == {"text_to_revise": "two"}
    done_first = await client.runs.get(tid, first["run_id"])
    assert done_first["status"] == "success"
    first_result = await client.runs.join(tid, first["run_id"])
    assert first_result["some_text"] == "one"

    # The checkpoints show the order: every checkpoint of run one precedes every one of run two.
    history = await client.threads.get_history(tid, limit=50)
    run_ids = [h["metadata"].get("run_id") for h in reversed(history)]
    ones = [i for i, r in enumerate(run_ids) if r == first["run_id"]]
    twos = [i for i, r in enumerate(run_ids) if r == second["run_id"]]
    assert ones and twos and max(ones) < min(twos)
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert flatten_interrupts(thread)[0]["value"] == {"text_to_revise": "two"}


async def test_run_delete(client: LangGraphClient, http: httpx.AsyncClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(tid, "factory", input={"some_text": "d"})
    await client.runs.join(tid, run["run_id"])
    await client.runs.delete(tid, run["run_id"])
    assert await status_of(client.runs.get(tid, run["run_id"])) == 404
    assert await client.runs.list(tid) == []
    assert_error(await http.delete(f"/threads/{tid}/runs/{run['run_id']}"), 404)
    assert_error(await http.delete(f"/threads/{UNKNOWN_THREAD}/runs/{run['run_id']}"), 404)


@pytest.mark.parametrize("size", [10, 20_000])
async def test_wait_answers_any_output_exactly(client: LangGraphClient, size: int) -> None:
    """/wait answers from the run's end as its notice carried it when that is small, and
    reads the run when it is too big for a notice: the same answer either way."""
    text = ("é😀" * size)[:size]
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "agent", input={"some_text": "draft"})
    done = await client.runs.wait(thread["thread_id"], "agent", command={"resume": text})
    assert done == {"some_text": text}
    (run, *_) = await client.runs.list(thread["thread_id"])
    assert run["status"] == "success"
