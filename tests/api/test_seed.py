"""The seed document, run as written: its Python block (async and sync SDK) and its curl block."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.schema import Command

from tests.api.support import AGENT_ASSISTANT_ID, HEX32, UUID_RE
from tests.serverproc import ServerProcess


def check_first_result(result: dict, thread: dict) -> None:
    """What the seed prints after the first runs.wait, checked against the thread that holds it."""
    assert result["some_text"] == "original text"
    assert set(result) == {"some_text", "__interrupt__"}
    items = result["__interrupt__"]
    assert isinstance(items, list) and len(items) == 1
    item = items[0]
    assert set(item) == {"value", "id", "response_schema", "resumable", "ns", "when"}
    assert item["value"] == {"text_to_revise": "original text"}
    assert HEX32.match(item["id"]), item["id"]
    assert item["response_schema"] is None
    assert item["resumable"] is True
    assert item["when"] == "during"

    assert thread["status"] == "interrupted"
    assert thread["values"] == {"some_text": "original text"}
    assert list(thread["interrupts"]) and len(thread["interrupts"]) == 1
    task_id = next(iter(thread["interrupts"]))
    assert UUID_RE.match(task_id), task_id
    assert item["ns"] == [f"human_node:{task_id}"]
    assert thread["interrupts"] == {task_id: [item]}
    assert thread["metadata"]["graph_id"] == "agent"
    assert thread["metadata"]["assistant_id"] == AGENT_ASSISTANT_ID


def check_interrupted_state(state: dict, item: dict) -> None:
    assert state["values"] == {"some_text": "original text"}
    assert state["next"] == ["human_node"]
    assert len(state["tasks"]) == 1
    task = state["tasks"][0]
    assert task["name"] == "human_node"
    assert item["ns"] == [f"human_node:{task['id']}"]
    assert task["interrupts"] == [item]
    assert state["interrupts"] == [item]
    assert state["checkpoint"]["checkpoint_id"]


def check_finished(thread: dict, state: dict) -> None:
    assert thread["status"] == "idle"
    assert thread["interrupts"] == {}
    assert thread["values"] == {"some_text": "Edited text"}
    assert state["values"] == {"some_text": "Edited text"}
    assert state["next"] == []
    assert state["tasks"] == []
    assert state["interrupts"] == []


async def test_seed_python_block_async(seed_server: ServerProcess) -> None:
    client = get_client(url=seed_server.url, api_key=None)
    try:
        # Using the graph deployed with the name "agent"
        assistant_id = "agent"

        # create a thread
        thread = await client.threads.create()
        thread_id = thread["thread_id"]
        assert thread["status"] == "idle"
        assert thread["values"] is None
        assert thread["interrupts"] == {}
        assert thread["metadata"] == {}

        # Run the graph until the interrupt is hit.
        result = await client.runs.wait(thread_id, assistant_id, input={"some_text": "original text"})
        check_first_result(result, await client.threads.get(thread_id))
        check_interrupted_state(await client.threads.get_state(thread_id), result["__interrupt__"][0])

        # Resume the graph
        resumed = await client.runs.wait(thread_id, assistant_id, command=Command(resume="Edited text"))
        assert resumed == {"some_text": "Edited text"}
        check_finished(await client.threads.get(thread_id), await client.threads.get_state(thread_id))
    finally:
        await client.aclose()


def test_seed_python_block_sync(seed_server: ServerProcess) -> None:
    client = get_sync_client(url=seed_server.url, api_key=None)
    try:
        assistant_id = "agent"
        thread = client.threads.create()
        thread_id = thread["thread_id"]
        assert thread["status"] == "idle"

        result = client.runs.wait(thread_id, assistant_id, input={"some_text": "original text"})
        check_first_result(result, client.threads.get(thread_id))
        check_interrupted_state(client.threads.get_state(thread_id), result["__interrupt__"][0])

        resumed = client.runs.wait(thread_id, assistant_id, command=Command(resume="Edited text"))
        assert resumed == {"some_text": "Edited text"}
        check_finished(client.threads.get(thread_id), client.threads.get_state(thread_id))
    finally:
        client.close()


# The seed's curl block, character for character (both copies of it in the document agree
# apart from indentation); only <DEPLOYMENT_URL> and <THREAD_ID> are substituted.
CURL_CREATE_THREAD = """curl --request POST \\
--url <DEPLOYMENT_URL>/threads \\
--header 'Content-Type: application/json' \\
--data '{}'"""

CURL_RUN_TO_INTERRUPT = """curl --request POST \\
--url <DEPLOYMENT_URL>/threads/<THREAD_ID>/runs/wait \\
--header 'Content-Type: application/json' \\
--data "{
  \\"assistant_id\\": \\"agent\\",
  \\"input\\": {\\"some_text\\": \\"original text\\"}
}\""""

CURL_RESUME = """curl --request POST \\
 --url <DEPLOYMENT_URL>/threads/<THREAD_ID>/runs/wait \\
 --header 'Content-Type: application/json' \\
 --data "{
   \\"assistant_id\\": \\"agent\\",
   \\"command\\": {
     \\"resume\\": \\"Edited text\\"
   }
 }\""""


def run_curl(command: str, url: str, thread_id: str = "") -> tuple[int, dict, dict]:
    """Run a curl command line through the shell, as a user pasting it would; add only
    `--silent --include` so the status line and headers can be checked."""
    line = command.replace("<DEPLOYMENT_URL>", url).replace("<THREAD_ID>", thread_id)
    line = line.replace("curl --request POST", "curl --silent --show-error --include --request POST", 1)
    done = subprocess.run(["bash", "-c", line], capture_output=True, timeout=60, check=True)
    raw = done.stdout.decode()
    head, _, body = raw.partition("\r\n\r\n")
    lines = head.split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    return status, headers, json.loads(body)


def test_seed_curl_block(seed_server: ServerProcess) -> None:
    status, _, thread = run_curl(CURL_CREATE_THREAD, seed_server.url)
    assert status == 200
    assert thread["status"] == "idle" and thread["metadata"] == {} and thread["interrupts"] == {}
    assert thread["values"] is None
    thread_id = thread["thread_id"]

    status, headers, result = run_curl(CURL_RUN_TO_INTERRUPT, seed_server.url, thread_id)
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert result["some_text"] == "original text"
    [item] = result["__interrupt__"]
    assert item["value"] == {"text_to_revise": "original text"}
    assert HEX32.match(item["id"])
    assert item["response_schema"] is None

    status, headers, result = run_curl(CURL_RESUME, seed_server.url, thread_id)
    assert status == 200
    assert result == {"some_text": "Edited text"}

    final = httpx.get(f"{seed_server.url}/threads/{thread_id}").json()
    assert final["status"] == "idle" and final["values"] == {"some_text": "Edited text"}


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_seed_flow_without_json_content_type(seed_server: ServerProcess, content_type: str | None) -> None:
    """`curl -d` without a header sends a form content type; the body is JSON all the same."""
    headers = {"content-type": content_type} if content_type else {}
    with httpx.Client(base_url=seed_server.url, timeout=30) as http:
        r = http.post("/threads", content=b"{}", headers=headers)
        assert r.status_code == 200, r.text
        tid = r.json()["thread_id"]
        body = b'{"assistant_id": "agent", "input": {"some_text": "original text"}}'
        r = http.post(f"/threads/{tid}/runs/wait", content=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["some_text"] == "original text" and len(r.json()["__interrupt__"]) == 1
        body = b'{"assistant_id": "agent", "command": {"resume": "Edited text"}}'
        r = http.post(f"/threads/{tid}/runs/wait", content=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"some_text": "Edited text"}


def test_seed_curl_without_content_type_header(seed_server: ServerProcess) -> None:
    """The seed's curl commands with the --header line removed (what people type): curl then
    sends application/x-www-form-urlencoded, and the server must still read the JSON."""

    def strip(cmd: str) -> str:
        return "\n".join(line for line in cmd.splitlines() if "--header" not in line)

    status, _, thread = run_curl(strip(CURL_CREATE_THREAD), seed_server.url)
    assert status == 200
    tid = thread["thread_id"]
    status, _, result = run_curl(strip(CURL_RUN_TO_INTERRUPT), seed_server.url, tid)
    assert status == 200 and result["some_text"] == "original text" and len(result["__interrupt__"]) == 1
    status, _, result = run_curl(strip(CURL_RESUME), seed_server.url, tid)
    assert status == 200 and result == {"some_text": "Edited text"}


def test_runs_wait_headers(seed_server: ServerProcess) -> None:
    with httpx.Client(base_url=seed_server.url, timeout=30) as http:
        tid = http.post("/threads", json={}).json()["thread_id"]
        for body in (
            {"assistant_id": "agent", "input": {"some_text": "original text"}},
            {"assistant_id": "agent", "command": {"resume": "Edited text"}},
        ):
            r = http.post(f"/threads/{tid}/runs/wait", json=body)
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("application/json")
            content_location = r.headers["content-location"]
            prefix = f"/threads/{tid}/runs/"
            assert content_location.startswith(prefix)
            run_id = content_location.removeprefix(prefix)
            assert UUID_RE.match(run_id), content_location
            assert r.headers["location"] == f"{content_location}/join"
            run = http.get(content_location)
            assert run.status_code == 200
            assert run.json()["run_id"] == run_id and run.json()["status"] == "success"
            # The Location really is a join of the same run: it answers with the same body.
            joined = http.get(r.headers["location"])
            assert joined.status_code == 200 and joined.json() == r.json()
