"""Streaming with the official JS SDK (both installed majors) under node: `runs.stream`
around an interrupt and its resume, `runs.joinStream` live and replayed (tests/js/stream.mjs)."""

from __future__ import annotations

import json
import re

import pytest

from tests.js.node import SDKS, run_script
from tests.markers import Markers
from tests.serverproc import ServerProcess
from tests.stream.helpers import HEX32, UUID

pytestmark = pytest.mark.js


def _run(pkg: str, url: str, markers: Markers) -> dict:
    # the background run waits in its node until the script's live join is answered
    hold = {
        "WAYPOST_HOLD_CONFIG": json.dumps(markers.config(hold=["slow_node"])),
        "WAYPOST_RELEASE": str(markers.go_file("slow_node")),
    }
    out, lines = run_script("stream.mjs", pkg, url, hold)
    chunk_lines = [json.loads(line) for line in lines if line.startswith("{")]
    out["chunk_lines"] = chunk_lines
    return out


@pytest.mark.parametrize("pkg", list(SDKS))
def test_js_stream_and_join_stream(pkg: str, graphs_server: ServerProcess, markers: Markers) -> None:
    out = _run(pkg, graphs_server.url, markers)
    tid = out["threadId"]

    # ---- runs.stream to the interrupt
    streamed = out["streamed"]
    events = [c["event"] for c in streamed]
    assert events[0] == "metadata", events
    run_id = streamed[0]["data"]["run_id"]
    assert re.fullmatch(UUID, run_id)
    assert set(events[1:]) == {"values", "updates"}, events
    assert out["created"] == {"run_id": run_id, "thread_id": tid}, out["created"]
    update = [c["data"] for c in streamed if c["event"] == "updates"][-1]
    (u_item,) = update["__interrupt__"]
    final = [c["data"] for c in streamed if c["event"] == "values"][-1]
    assert final["some_text"] == "js text"
    (v_item,) = final["__interrupt__"]
    for item in (u_item, v_item):
        assert item["value"] == {"text_to_revise": "js text"}
        assert re.fullmatch(HEX32, item["id"])
        assert item["resumable"] is True and item["when"] == "during"
        assert len(item["ns"]) == 1 and item["ns"][0].startswith("human_node:")
    assert u_item["id"] == v_item["id"]

    # ---- resume through runs.stream
    resumed = out["resumed"]
    assert resumed[0]["event"] == "metadata" and resumed[0]["data"]["run_id"] != run_id
    assert [c["data"] for c in resumed if c["event"] == "values"][-1] == {"some_text": "js edit"}
    assert {"human_node": {"some_text": "js edit"}} in [c["data"] for c in resumed if c["event"] == "updates"]
    assert out["threadAfter"]["status"] == "idle"
    assert out["threadAfter"]["values"] == {"some_text": "js edit"}

    # ---- joinStream on a background run: live events, then a full replay
    assert out["statusAtJoin"] in ("pending", "running"), out["statusAtJoin"]
    joined = out["joined"]
    assert joined, "joinStream yielded nothing"
    assert joined[-1]["event"] == "values", joined
    assert joined[-1]["data"]["__interrupt__"][0]["value"] == {"text_to_revise": "bg"}
    assert any(c["event"] == "updates" and "__interrupt__" in c["data"] for c in joined), joined
    assert out["bgRun"]["status"] == "success", out["bgRun"]

    replayed = out["replayed"]
    ids = [c["id"] for c in replayed]
    assert all(i and re.fullmatch(r"\d+-\d+", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert replayed[0]["event"] == "metadata" and replayed[0]["data"] == {
        "run_id": out["bgRun"]["run_id"],
        "attempt": 1,
    }
    assert replayed[1]["event"] == "values" and replayed[1]["data"] == {"some_text": "bg", "delay": 0}
    # the live join saw the tail of what the run stored, nothing else and nothing twice
    joined_ids = [c["id"] for c in joined]
    assert joined_ids == ids[-len(joined_ids) :], (joined_ids, ids)

    # one JSON line per chunk was printed
    assert len(out["chunk_lines"]) == len(streamed) + len(resumed) + len(joined) + len(replayed)
