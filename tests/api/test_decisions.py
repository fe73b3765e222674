"""The standard decision shapes, validated on the server: langchain's HumanInTheLoopMiddleware
(an agent built with its own create_agent) and Agent Inbox's HumanInterrupt. Every decision
type works; a wrong answer is 422 saying which decision is wrong, and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.support import assert_error, assert_unchanged, snapshot


async def _review(http: httpx.AsyncClient, graph: str, body: dict[str, Any]) -> tuple[str, list[dict]]:
    tid = (await http.post("/threads", json={})).json()["thread_id"]
    first = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": graph, **body})
    assert first.status_code == 200, first.text
    return tid, first.json()["__interrupt__"]


@pytest.fixture(params=["runs", "inbox"])
def via(request: pytest.FixtureRequest) -> str:
    """Where the answer arrives: a Command(resume=...) through runs/wait, or the inbox's
    POST /interrupts/{id}/answer (then a join for the result). Both are checked alike."""
    return str(request.param)


async def _answer(http: httpx.AsyncClient, tid: str, graph: str, resume: Any, via: str = "runs") -> httpx.Response:
    if via == "runs":
        body = {"assistant_id": graph, "command": {"resume": resume}}
        return await http.post(f"/threads/{tid}/runs/wait", json=body)
    (pending,) = (await http.get("/interrupts", params={"thread_id": tid})).json()["interrupts"]
    answered = await http.post(f"/interrupts/{pending['interrupt_id']}/answer", json={"value": resume})
    if answered.status_code != 200:
        return answered
    return await http.get(f"/threads/{tid}/runs/{answered.json()['run_id']}/join")


AGENT_INPUT = {"input": {"messages": [{"role": "user", "content": "email ann and look up the weather"}]}}


@pytest.mark.parametrize(
    ("decisions", "tool_results"),
    [
        ([{"type": "approve"}, {"type": "approve"}], ["sent 'hi' to ann@example.com", "found weather"]),
        (
            [
                {
                    "type": "edit",
                    "edited_action": {"name": "send_email", "args": {"to": "bob@example.com", "subject": "yo"}},
                },
                {"type": "respond", "message": "sunny, asked a person"},
            ],
            ["sent 'yo' to bob@example.com", "sunny, asked a person"],
        ),
        ([{"type": "reject", "message": "not now"}, {"type": "approve"}], ["not now", "found weather"]),
    ],
)
async def test_hitl_middleware_decisions(
    http: httpx.AsyncClient, decisions: list, tool_results: list, via: str
) -> None:
    tid, (request,) = await _review(http, "hitl_agent", AGENT_INPUT)
    assert [a["name"] for a in request["value"]["action_requests"]] == ["send_email", "lookup"]
    done = await _answer(http, tid, "hitl_agent", {"decisions": decisions}, via)
    assert done.status_code == 200, done.text
    tools = [m["content"] for m in done.json()["messages"] if m["type"] == "tool"]
    assert len(tools) == len(tool_results), tools
    for expected in tool_results:  # answered tools come back before executed ones
        assert any(expected in content for content in tools), (tools, expected)
    assert done.json()["messages"][-1]["content"] == "all done"


@pytest.mark.parametrize(
    ("decisions", "says"),
    [
        ([{"type": "approve"}], "2 action request(s) need 2 decision(s), got 1"),
        (
            [{"type": "approve"}, {"type": "edit", "edited_action": {"name": "lookup", "args": {}}}],
            "decision 1 (for 'lookup'): 'edit' is not allowed",
        ),
        (
            [{"type": "respond", "message": "x"}, {"type": "approve"}],
            "decision 0 (for 'send_email'): 'respond' is not allowed",
        ),
        (
            [{"type": "approve"}, {"type": "respond"}],
            "decision 1 (for 'lookup'): a respond decision needs a string message",
        ),
        (
            [{"type": "edit", "edited_action": {"name": "send_email"}}, {"type": "approve"}],
            "decision 0 (for 'send_email'): edited_action.args",
        ),
        (
            [{"type": "maybe"}, {"type": "approve"}],
            "decision 0 (for 'send_email'): type must be one of approve, edit, reject, respond",
        ),
    ],
)
async def test_wrong_hitl_decisions_are_422_and_change_nothing(
    http: httpx.AsyncClient, decisions: list, says: str, via: str
) -> None:
    tid, _ = await _review(http, "hitl_agent", AGENT_INPUT)
    before = await snapshot(http, tid)
    assert says in assert_error(await _answer(http, tid, "hitl_agent", {"decisions": decisions}, via), 422)
    assert_unchanged(before, await snapshot(http, tid))


async def test_not_a_decisions_object_is_422(http: httpx.AsyncClient) -> None:
    tid, _ = await _review(http, "hitl_agent", AGENT_INPUT)
    before = await snapshot(http, tid)
    assert "decisions" in assert_error(await _answer(http, tid, "hitl_agent", "approve"), 422)
    assert_unchanged(before, await snapshot(http, tid))


async def test_per_call_mode_is_checked_against_its_response_schema(http: httpx.AsyncClient) -> None:
    tid, requests = await _review(http, "hitl_agent_per_call", AGENT_INPUT)
    first = requests[0]
    assert first["value"]["type"] == "tool_approval" and first["response_schema"]
    before = await snapshot(http, tid)
    bad = await _answer(http, tid, "hitl_agent_per_call", {requests[0]["id"]: {"type": "respond", "message": "x"}})
    assert "response_schema" in assert_error(bad, 422)
    assert_unchanged(before, await snapshot(http, tid))


@pytest.mark.parametrize(
    ("response", "outcome"),
    [
        ({"type": "accept", "args": None}, "accept:None"),
        ({"type": "response", "args": "looks good"}, "response:looks good"),
    ],
)
async def test_agent_inbox_responses(http: httpx.AsyncClient, response: dict, outcome: str, via: str) -> None:
    tid, _ = await _review(http, "inbox_request", {"input": {"draft": "d"}})
    done = await _answer(http, tid, "inbox_request", [response], via)
    assert done.status_code == 200 and done.json()["outcome"] == outcome


@pytest.mark.parametrize(
    ("responses", "says"),
    [
        ([{"type": "ignore", "args": None}], "'ignore' is not allowed"),
        ([{"type": "response", "args": None}], "a response needs its text in args"),
        ([{"type": "edit", "args": {"action": "publish"}}], "an edit needs args"),
        ([{"type": "accept"}, {"type": "accept"}], "1 request(s) need 1 response(s), got 2"),
    ],
)
async def test_wrong_agent_inbox_responses_are_422(
    http: httpx.AsyncClient, responses: list, says: str, via: str
) -> None:
    tid, _ = await _review(http, "inbox_request", {"input": {"draft": "d"}})
    before = await snapshot(http, tid)
    assert says in assert_error(await _answer(http, tid, "inbox_request", responses, via), 422)
    assert_unchanged(before, await snapshot(http, tid))
