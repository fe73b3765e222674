"""Interrupts beyond the seed: sequential, parallel, nested, static, with a schema, and failures."""

from __future__ import annotations

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Command

from tests.api.support import HEX32, UUID_RE, flatten_interrupts
from tests.graphs.schema_graph import REVIEW_SCHEMA


async def start(client: LangGraphClient, graph: str, values: dict) -> tuple[str, dict]:
    thread = await client.threads.create()
    result = await client.runs.wait(thread["thread_id"], graph, input=values)
    return thread["thread_id"], result


async def test_double_sequential_interrupts(client: LangGraphClient) -> None:
    tid, first = await start(client, "double", {"some_text": "t"})
    [i1] = first["__interrupt__"]
    assert first["some_text"] == "t"
    assert i1["value"] == {"question": "first", "text": "t"}

    second = await client.runs.wait(tid, "double", command=Command(resume="A"))
    assert second["some_text"] == "t"
    [i2] = second["__interrupt__"]
    assert i2["value"] == {"question": "second", "first_answer": "A"}
    assert HEX32.match(i2["id"]) and i2["id"] != i1["id"]
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert flatten_interrupts(thread) == [i2]

    done = await client.runs.wait(tid, "double", command=Command(resume={i2["id"]: "B"}))
    assert done == {"some_text": "A|B"}
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle" and thread["interrupts"] == {}
    assert len(await client.runs.list(tid)) == 3


async def test_parallel_first_result_has_values_and_both_interrupts(client: LangGraphClient) -> None:
    tid, first = await start(client, "parallel", {"some_text": "p"})
    # Waypost keeps the state values next to several interrupts (the peer drops them).
    assert first["some_text"] == "p"
    assert first["answers"] == []
    items = first["__interrupt__"]
    assert sorted(i["value"]["branch"] for i in items) == ["left", "right"]
    assert len({i["id"] for i in items}) == 2
    for item in items:
        assert item["value"]["text"] == "p"
        assert item["ns"] == [f"{item['value']['branch']}:{item['ns'][0].split(':', 1)[1]}"]

    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert len(thread["interrupts"]) == 2
    for task_id, task_items in thread["interrupts"].items():
        [item] = task_items
        assert item["ns"][0].endswith(f":{task_id}")
    assert sorted(i["id"] for i in flatten_interrupts(thread)) == sorted(i["id"] for i in items)

    state = await client.threads.get_state(tid)
    assert sorted(state["next"]) == ["left", "right"]
    assert sorted(t["name"] for t in state["tasks"]) == ["left", "right"]
    assert all(len(t["interrupts"]) == 1 for t in state["tasks"])


async def test_parallel_map_answering_both(client: LangGraphClient) -> None:
    tid, first = await start(client, "parallel", {"some_text": "p"})
    answers = {i["id"]: f"V-{i['value']['branch']}" for i in first["__interrupt__"]}
    done = await client.runs.wait(tid, "parallel", command=Command(resume=answers))
    assert "__interrupt__" not in done
    assert done["some_text"] == "p"
    assert sorted(done["answers"]) == ["left:V-left", "right:V-right"]
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle" and thread["interrupts"] == {}


async def test_subgraph_interrupt(client: LangGraphClient) -> None:
    tid, first = await start(client, "subgraph", {"some_text": "s"})
    assert first["some_text"] == "s"
    [item] = first["__interrupt__"]
    assert item["value"] == {"where": "inner", "text": "s"}
    assert len(item["ns"]) == 2
    outer, inner = item["ns"]
    assert outer.startswith("sub:") and inner.startswith("inner_human:")
    parent_task_id = outer.removeprefix("sub:")
    assert UUID_RE.match(parent_task_id)

    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert thread["interrupts"] == {parent_task_id: [item]}

    plain = await client.threads.get_state(tid)
    assert plain["next"] == ["sub"]
    assert plain["tasks"][0]["id"] == parent_task_id
    assert [i["id"] for i in plain["tasks"][0]["interrupts"]] == [item["id"]]

    nested = await client.threads.get_state(tid, subgraphs=True)
    child = nested["tasks"][0]["state"]
    assert child is not None
    assert child["next"] == ["inner_human"]
    assert child["checkpoint"]["checkpoint_ns"] == outer
    assert child["tasks"][0]["interrupts"] == [item]

    done = await client.runs.wait(tid, "subgraph", command=Command(resume="inner-answer"))
    assert done == {"some_text": "inner-answer"}
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle" and thread["interrupts"] == {}


async def test_subgraph_interrupt_ns_is_the_same_everywhere(client: LangGraphClient) -> None:
    """One interrupt, one `ns`: the wait result, Thread.interrupts and GET /state (with or
    without ?subgraphs=true) all describe the same interrupt, down to the inner node."""
    tid, first = await start(client, "subgraph", {"some_text": "s"})
    [item] = first["__interrupt__"]
    thread = await client.threads.get(tid)
    assert flatten_interrupts(thread) == [item]
    nested = await client.threads.get_state(tid, subgraphs=True)
    assert nested["tasks"][0]["interrupts"] == [item]
    assert nested["interrupts"] == [item]
    plain = await client.threads.get_state(tid)
    assert plain["interrupts"] == [item]
    assert plain["tasks"][0]["interrupts"] == [item]


async def test_static_breakpoint_compiled(client: LangGraphClient) -> None:
    tid, first = await start(client, "static_bp", {"some_text": "bp"})
    assert first == {"some_text": "bp"}
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert thread["interrupts"] == {}
    state = await client.threads.get_state(tid)
    assert state["next"] == ["node"]

    done = await client.runs.wait(tid, "static_bp")  # no input: continue from the breakpoint
    assert done == {"some_text": "bp (processed)"}
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle"
    assert (await client.threads.get_state(tid))["next"] == []


async def test_static_breakpoint_continue_with_explicit_null_input(http: httpx.AsyncClient) -> None:
    tid = (await http.post("/threads", json={})).json()["thread_id"]
    r = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "static_bp", "input": {"some_text": "bp"}})
    assert r.json() == {"some_text": "bp"}
    r = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "static_bp", "input": None})
    assert r.status_code == 200 and r.json() == {"some_text": "bp (processed)"}


async def test_per_run_interrupt_before(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    result = await client.runs.wait(tid, "agent", input={"some_text": "x"}, interrupt_before=["human_node"])
    assert result == {"some_text": "x"}
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    state = await client.threads.get_state(tid)
    assert state["next"] == ["human_node"]
    assert state["tasks"][0]["interrupts"] == []

    # Continuing runs into the node's own interrupt(), which is then answered as usual.
    cont = await client.runs.wait(tid, "agent")
    assert cont["some_text"] == "x" and len(cont["__interrupt__"]) == 1
    done = await client.runs.wait(tid, "agent", command=Command(resume="y"))
    assert done == {"some_text": "y"}


async def test_response_schema_is_passed_through(client: LangGraphClient) -> None:
    tid, first = await start(client, "schema", {"some_text": "draft"})
    [item] = first["__interrupt__"]
    assert item["response_schema"] == REVIEW_SCHEMA
    assert item["value"] == {"draft": "draft"}
    thread = await client.threads.get(tid)
    assert flatten_interrupts(thread)[0]["response_schema"] == REVIEW_SCHEMA
    state = await client.threads.get_state(tid)
    assert state["tasks"][0]["interrupts"][0]["response_schema"] == REVIEW_SCHEMA
    done = await client.runs.wait(tid, "schema", command=Command(resume={"approved": False, "note": "no"}))
    assert done == {"some_text": "draft approved=False"}


async def test_failing_graph(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    try:
        await client.runs.wait(tid, "failing", input={"some_text": "x"})
    except Exception as exc:  # the SDK turns __error__ into a plain Exception
        assert str(exc) == "ValueError: boom"
    else:
        raise AssertionError("runs.wait did not raise for a failing graph")
    assert (await client.threads.get(tid))["status"] == "error"

    result = await client.runs.wait(tid, "failing", input={"some_text": "x"}, raise_error=False)
    assert result == {"__error__": {"error": "ValueError", "message": "boom"}}
    thread = await client.threads.get(tid)
    assert thread["status"] == "error"
    runs = await client.runs.list(tid)
    assert [r["status"] for r in runs] == ["error", "error"]


async def test_failing_graph_raw_is_200(http: httpx.AsyncClient) -> None:
    tid = (await http.post("/threads", json={})).json()["thread_id"]
    r = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "failing", "input": {"some_text": "x"}})
    assert r.status_code == 200
    assert r.json() == {"__error__": {"error": "ValueError", "message": "boom"}}


async def test_factory_and_builder_graphs(client: LangGraphClient) -> None:
    _, result = await start(client, "factory", {"some_text": "f"})
    assert result == {"some_text": "f (factory)"}

    tid, first = await start(client, "builder", {"some_text": "b"})
    assert first["some_text"] == "b"
    [item] = first["__interrupt__"]
    assert item["value"] == {"text_to_revise": "b"}
    done = await client.runs.wait(tid, "builder", command=Command(resume="B2"))
    assert done == {"some_text": "B2"}


async def test_followup_node_runs_after_resume(client: LangGraphClient) -> None:
    tid, first = await start(client, "followup", {"some_text": "f"})
    assert first["some_text"] == "f" and len(first["__interrupt__"]) == 1
    done = await client.runs.wait(tid, "followup", command=Command(resume="Edited text"))
    assert done == {"some_text": "Edited text [after]"}
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_followup_resume_with_update(client: LangGraphClient) -> None:
    tid, _ = await start(client, "followup", {"some_text": "f"})
    done = await client.runs.wait(tid, "followup", command=Command(resume="R", update={"some_text": "U"}))
    assert done == {"some_text": "R [after]"}
