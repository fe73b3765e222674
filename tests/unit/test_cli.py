"""The command line as a user meets it: clear one-line failures with exit code 2, and
settings from flags or WAYPOST_* variables."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.serverproc import SEED_CONFIG, LocalServer, ServerProcess, free_port
from waypost.storage.sql import load_migrations


def waypost(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "waypost", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("waypost: error:") and fragment in lines[0], lines[0]


def test_help_names_the_environment_variables() -> None:
    out = waypost("serve", "--help").stdout
    for name in ("WAYPOST_CONFIG", "WAYPOST_HOST", "WAYPOST_PORT", "WAYPOST_DATABASE_URL"):
        assert name in out


def test_missing_config_in_the_working_directory(tmp_path: Path) -> None:
    assert_one_line_failure(waypost("serve", cwd=tmp_path), "config file not found")


def test_broken_config_json(tmp_path: Path) -> None:
    (tmp_path / "langgraph.json").write_text("{not json")
    assert_one_line_failure(waypost("serve", "--config", str(tmp_path / "langgraph.json")), "cannot read")


def test_graph_that_does_not_import(tmp_path: Path) -> None:
    (tmp_path / "graph.py").write_text("raise RuntimeError('broken on purpose')\n")
    (tmp_path / "langgraph.json").write_text('{"graphs": {"agent": "./graph.py:graph"}}')
    result = waypost("serve", "--config", str(tmp_path / "langgraph.json"))
    assert_one_line_failure(result, "broken on purpose")


def test_graph_attribute_missing(tmp_path: Path) -> None:
    (tmp_path / "graph.py").write_text("x = 1\n")
    (tmp_path / "langgraph.json").write_text('{"graphs": {"agent": "./graph.py:graph"}}')
    assert_one_line_failure(waypost("serve", "--config", str(tmp_path / "langgraph.json")), "no attribute 'graph'")


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = waypost(
            "serve",
            "--config",
            str(SEED_CONFIG),
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{tmp_path / 'data' / 'db.sqlite'}",
        )
    assert_one_line_failure(result, f"cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "data").exists(), "a failed start created the database"


def test_database_held_by_another_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    first = ServerProcess(config=SEED_CONFIG, database_url=url, log_path=tmp_path / "first.log").start()
    try:
        result = waypost("serve", "--config", str(SEED_CONFIG), "--port", str(free_port()), "--database-url", url)
        assert_one_line_failure(result, "in use by waypost")
        assert httpx.get(first.url + "/ok").json() == {"ok": True}  # the first one is untouched
    finally:
        first.stop()


def test_environment_variables_configure_serve(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "WAYPOST_CONFIG": str(SEED_CONFIG),
        "WAYPOST_PORT": str(port),
        "WAYPOST_HOST": "127.0.0.1",
        "WAYPOST_DATABASE_URL": f"sqlite:///{tmp_path / 'env.sqlite'}",
    }
    # No flags at all: a plain LocalServer, since ServerProcess passes every setting as a flag.
    server = LocalServer(
        [sys.executable, "-m", "waypost", "serve"],
        ready_url=f"http://127.0.0.1:{port}/ok",
        log_path=tmp_path / "serve.log",
        env={**os.environ, **env},
        cwd=tmp_path,
    )
    try:
        assert server.start().wait_ready() == {"ok": True}
        assistants = httpx.post(f"http://127.0.0.1:{port}/assistants/search", json={}).json()
        assert [a["graph_id"] for a in assistants] == ["agent"]
        assert (tmp_path / "env.sqlite").exists()
    finally:
        server.stop()


def test_migrate_then_default_database_under_dot_waypost(tmp_path: Path) -> None:
    """It says what it applied to a new database, and that there was nothing to apply after."""
    names = [name for name, _ in load_migrations("sqlite")]
    first = waypost("migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / ".waypost" / "waypost.sqlite").exists()
    assert f"applied {', '.join(names)} to the database" in first.stdout, first.stdout
    again = waypost("migrate", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "applied" not in again.stdout and "is up to date" in again.stdout, again.stdout


def test_database_held_through_a_symlink_or_a_hard_link(tmp_path: Path) -> None:
    """One process per database file, whatever path names it."""
    real = tmp_path / "db.sqlite"
    first = ServerProcess(config=SEED_CONFIG, database_url=f"sqlite:///{real}", log_path=tmp_path / "first.log").start()
    try:
        (tmp_path / "linked.sqlite").symlink_to(real)
        os.link(real, tmp_path / "hard.sqlite")
        (tmp_path / "dir").symlink_to(tmp_path, target_is_directory=True)
        for other in (tmp_path / "linked.sqlite", tmp_path / "hard.sqlite", tmp_path / "dir" / "db.sqlite"):
            result = waypost(
                "serve",
                "--config",
                str(SEED_CONFIG),
                "--port",
                str(free_port()),
                "--database-url",
                f"sqlite:///{other}",
            )
            assert_one_line_failure(result, "in use by waypost")
        assert httpx.get(first.url + "/ok").json() == {"ok": True}
    finally:
        first.stop()


def test_api_only_and_worker_only_need_postgresql(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    for args in (("serve", "--no-worker"), ("worker",)):
        result = waypost(*args, "--config", str(SEED_CONFIG), "--database-url", url)
        assert_one_line_failure(result, "PostgreSQL")
    assert not (tmp_path / "db.sqlite").exists()


def test_bad_setting_values_are_one_line(tmp_path: Path) -> None:
    result = waypost("serve", "--config", str(SEED_CONFIG), env={"WAYPOST_LEASE_SECONDS": "soon"})
    assert_one_line_failure(result, "WAYPOST_LEASE_SECONDS")
    result = waypost("serve", "--config", str(SEED_CONFIG), "--workers", "0")
    assert_one_line_failure(result, "workers must be positive")
    result = waypost("serve", "--config", str(SEED_CONFIG), env={"WAYPOST_LOG_FORMAT": "xml"})
    assert_one_line_failure(result, "WAYPOST_LOG_FORMAT")


def test_json_logs_carry_run_and_thread_ids(tmp_path: Path) -> None:
    server = ServerProcess(
        config=SEED_CONFIG,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        log_path=tmp_path / "log",
        extra_args=["--log-format", "json"],
        extra_env={"WAYPOST_LOG_LEVEL": "debug"},
    ).start()
    try:
        thread = httpx.post(server.url + "/threads", json={}).json()
        httpx.post(
            f"{server.url}/threads/{thread['thread_id']}/runs/wait",
            json={"assistant_id": "agent", "input": {"some_text": "x"}},
            timeout=30,
        )
    finally:
        server.stop()
    entries = [json.loads(line) for line in (tmp_path / "log").read_text().splitlines() if line.startswith("{")]
    claimed = [e for e in entries if e["message"].endswith("claimed")]
    assert claimed and claimed[0]["thread_id"] == thread["thread_id"] and claimed[0]["run_id"], entries
    assert {"time", "level", "logger", "message"} <= set(claimed[0])


def test_a_public_address_without_authentication_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    result = waypost("serve", "--config", str(SEED_CONFIG), "--host", "0.0.0.0", "--database-url", url)
    assert_one_line_failure(result, "without authentication")
    assert not (tmp_path / "db.sqlite").exists()


def test_a_public_address_is_served_open_only_on_purpose(tmp_path: Path) -> None:
    server = ServerProcess(
        config=SEED_CONFIG,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        log_path=tmp_path / "log",
        extra_args=["--host", "0.0.0.0", "--allow-unauthenticated"],
    )
    server.start()
    try:
        assert httpx.post(f"{server.url}/threads", json={}).status_code == 200
    finally:
        server.stop()


def test_short_api_keys_are_refused(tmp_path: Path) -> None:
    result = waypost("serve", "--config", str(SEED_CONFIG), "--api-key", "short")
    assert_one_line_failure(result, "at least 16 characters")


def test_api_keys_from_a_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("first-key-0123456789\n\nsecond-key-0123456789\n")
    server = ServerProcess(
        config=SEED_CONFIG,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        log_path=tmp_path / "log",
        extra_env={"WAYPOST_API_KEYS": str(keys)},
    ).start()
    try:
        for key, status in (("first-key-0123456789", 200), ("second-key-0123456789", 200), ("x" * 20, 401)):
            assert httpx.post(f"{server.url}/threads", json={}, headers={"x-api-key": key}).status_code == status
    finally:
        server.stop()


def _config(tmp_path: Path, **keys: object) -> Path:
    path = tmp_path / "langgraph.json"
    graph = (SEED_CONFIG.parent / "graph.py").resolve()
    path.write_text(json.dumps({"graphs": {"agent": f"{graph}:graph"}, **keys}))
    return path


def test_unsupported_config_is_reported_at_start(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        store={"index": {"dims": 3, "embed": "fake"}},
        python_version="3.11",
        priority={"path": "x.py:p"},
        mystery=1,
    )
    server = ServerProcess(config=config, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", log_path=tmp_path / "log")
    server.start()
    try:
        log = (tmp_path / "log").read_text()
    finally:
        server.stop()
    for fragment in ("not supported yet: store", "python_version", "not supported yet: priority", "'mystery'"):
        assert "waypost: note: langgraph.json: " in log and fragment in log, log


def test_config_that_would_mislead_is_refused(tmp_path: Path) -> None:
    for keys, fragment in (
        ({"encryption": {"path": "./enc.py:enc"}}, "encryption"),
        ({"checkpointer": {"ttl": {"default_ttl": 60}}}, "checkpointer.ttl"),
        ({"checkpointer": {"path": "./saver.py:saver"}}, "checkpointer.path"),
        ({"http": {"mount_prefix": "/api"}}, "mount_prefix"),
        ({"auth": {"path": "no-colon"}}, "auth.path"),
        ({"webhooks": {"headers": {"x": "${{ env.HOME }}"}}}, "LG_WEBHOOK_"),
    ):
        result = waypost("serve", "--config", str(_config(tmp_path, **keys)))
        assert_one_line_failure(result, fragment)


def test_a_broken_waypost_section_is_refused(tmp_path: Path) -> None:
    env = {"WAYPOST_WEBHOOK_SECRET": ""}
    for section, fragment in (
        ({"interrupts": {"nope": {}}}, "no graph 'nope'"),
        ({"interrupts": {"agent": {"human_node": {"deadline": "soon"}}}}, "human_node.deadline"),
        ({"interrupts": {"agent": {"*": {"on_deadline": {"action": "expire"}}}}}, "needs a deadline"),
        ({"interrupts": {"agent": {"*": {"deadline": 60, "on_deadline": {"action": "shout"}}}}}, "action"),
        ({"interrupts": {"agent": {"*": {"owner": "ann"}}}}, "owner"),
        ({"notifications": [{"url": "ftp://x"}]}, "url"),
        ({"notifications": [{"url": "http://x", "events": ["run.started"]}]}, "events"),
        ({"notifications": [{"url": "http://x"}]}, "set WAYPOST_WEBHOOK_SECRET"),
        ({"notifications": [{"url": "http://x", "secret_env": "HOOK_SECRET_UNSET"}]}, "set HOOK_SECRET_UNSET"),
        ({"inbox": {}}, "unknown key(s) inbox"),
    ):
        result = waypost("serve", "--config", str(_config(tmp_path, waypost=section)), env=env)
        assert_one_line_failure(result, fragment)
