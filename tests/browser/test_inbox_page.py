"""The inbox page at /inbox, in a real browser, against a real server.

Waypost serves tests/graphs with an API key; the official Python SDK stops threads at their
interrupts (a response_schema, langchain's HumanInTheLoopMiddleware, Agent Inbox's
HumanInterrupt, a plain value); Debian's Chromium, driven step by step by playwright-core
(inbox.mjs), signs in, lists, filters and answers them as a person would; and every answer is
checked through the API: the run it started, the thread's state, the interrupt's history.

The screenshots in docs/ (inbox-list.png, inbox-answer.png, inbox-conflict.png) are taken here,
and written there when WAYPOST_UPDATE_SCREENSHOTS is set.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Command

from tests.backends import SQLITE
from tests.browser.site import NODE_MODULES
from tests.browser.test_cross_origin import require_browser
from tests.js.node import JS_DIR
from tests.polling import eventually
from tests.serverproc import ROOT, TEST_GRAPHS_CONFIG, ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

KEY = "inbox-page-key-0123456789abcdef"
DRIVER = Path(__file__).resolve().parent / "inbox.mjs"
DOCS = ROOT / "docs"
# The committed screenshots change only on purpose: `WAYPOST_UPDATE_SCREENSHOTS=1 make test`.
SHOTS = DOCS if os.environ.get("WAYPOST_UPDATE_SCREENSHOTS") else Path(tempfile.mkdtemp(prefix="inbox-shots-"))
# One browser step (a click, a wait for text) fails well before this, with Playwright's reason.
STEP_TIMEOUT_S = 30.0
AGENT_INPUT = {"messages": [{"role": "user", "content": "Email Ann, then look up the weather."}]}
# A value whose text is markup: the page must show it as text, never build elements from it.
MARKUP = "<b>not bold</b><img src=x onerror=window.pwned=1>"


@dataclass(frozen=True)
class Asked:
    """A thread stopped at an interrupt."""

    graph: str
    thread_id: str
    interrupt_id: str

    @property
    def route(self) -> str:
        return f"#/interrupts/{self.thread_id}/{self.interrupt_id}"


@dataclass(frozen=True)
class Stopped:
    """Every thread the module stopped, oldest first."""

    order: list[Asked]

    def of(self, graph: str) -> list[Asked]:
        return [a for a in self.order if a.graph == graph]


class Page:
    """The page in Chromium, one step at a time through inbox.mjs."""

    def __init__(self, proc: asyncio.subprocess.Process, log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path
        self.last_id = 0

    async def _call(self, target: str, method: str = "", *args: Any, selector: str | None = None) -> Any:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        self.last_id += 1
        command = {"id": self.last_id, "target": target, "selector": selector, "method": method, "args": list(args)}
        stdin.write(json.dumps(command).encode() + b"\n")
        await stdin.drain()
        while True:
            line = await asyncio.wait_for(stdout.readline(), STEP_TIMEOUT_S)
            if not line:
                raise AssertionError(f"the browser driver exited:\n{self.log_path.read_text(errors='replace')[-3000:]}")
            if line.startswith(b"REPLY "):
                break
        reply = json.loads(line.removeprefix(b"REPLY "))
        assert reply["id"] == self.last_id, reply
        if "error" in reply:
            console = "" if target == "console" else "\n".join(await self._call("console"))
            raise AssertionError(
                f"{method}({selector or ''} {args}) failed in the browser: {reply['error']}\n"
                f"--- the page's console\n{console}"
            )
        return reply["value"]

    async def goto(self, url: str) -> None:
        # From a blank page, so that a URL differing only in its hash still loads the page anew.
        await self._call("page", "goto", "about:blank")
        await self._call("page", "goto", url)
        await self.wait_for("body[data-ready]", "attached")

    async def wait_for(self, selector: str, state: str = "visible") -> None:
        await self._call("locator", "waitFor", {"state": state}, selector=selector)

    async def wait_until(self, expression: str) -> None:
        """Wait until a JS expression is truthy in the page. Polled from here: Playwright's own
        waitForFunction evaluates a string with eval, which the page's CSP rightly forbids."""
        await eventually(
            lambda: self.evaluate(expression), bool, within=10.0, interval=0.1, what=f"the page: {expression}"
        )

    async def evaluate(self, expression: str) -> Any:
        return await self._call("page", "evaluate", expression)

    async def click(self, selector: str) -> None:
        await self._call("locator", "click", selector=selector)

    async def fill(self, selector: str, text: str) -> None:
        await self._call("locator", "fill", text, selector=selector)

    async def check(self, selector: str) -> None:
        await self._call("locator", "check", selector=selector)

    async def select(self, selector: str, value: str) -> None:
        await self._call("locator", "selectOption", value, selector=selector)

    async def press(self, selector: str, key: str) -> None:
        await self._call("locator", "press", key, selector=selector)

    async def focus(self, selector: str) -> None:
        await self._call("locator", "focus", selector=selector)

    async def text(self, selector: str) -> str:
        return str(await self._call("locator", "innerText", selector=selector))

    async def texts(self, selector: str) -> list[str]:
        return list(await self._call("locator", "allInnerTexts", selector=selector))

    async def attribute(self, selector: str, name: str) -> str | None:
        value = await self._call("locator", "getAttribute", name, selector=selector)
        return None if value is None else str(value)

    async def count(self, selector: str) -> int:
        return int(await self._call("locator", "count", selector=selector))

    async def viewport(self, width: int, height: int) -> None:
        await self._call("page", "setViewportSize", {"width": width, "height": height})

    async def screenshot(self, name: str) -> Path:
        """A 1280x800 picture of what the page shows (into docs/, for the README, when asked)."""
        SHOTS.mkdir(exist_ok=True)
        path = SHOTS / name
        await self._call("page", "screenshot", {"path": str(path)})
        return path

    async def console(self) -> list[str]:
        return list(await self._call("console"))


@asynccontextmanager
async def chromium(folder: Path) -> AsyncIterator[Page]:
    """Chromium with a fresh profile, closed (stdin shut, then its PID killed if need be) after."""
    log_path = folder / "driver.log"
    env = {k: v for k, v in os.environ.items() if k not in ("LANGGRAPH_API_KEY", "LANGSMITH_API_KEY")}
    env["PROFILE_DIR"] = str(folder / "profile")
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(DRIVER),
            cwd=JS_DIR,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
    try:
        yield Page(proc, log_path)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    require_browser()
    if shutil.which("node") is None:
        pytest.fail("`node` is not on PATH: install Node.js (>= 18), then run `make test`")
    assert (NODE_MODULES / "playwright-core").is_dir()
    folder = tmp_path_factory.mktemp("inbox-page")
    with SQLITE.place(folder) as place:
        proc = ServerProcess(
            config=TEST_GRAPHS_CONFIG,
            database_url=place.database_url,
            log_path=folder / "waypost.log",
            extra_args=["--api-key", KEY],
        ).start()
        try:
            yield proc
        finally:
            proc.stop()


@pytest.fixture
async def client(server: ServerProcess) -> AsyncIterator[LangGraphClient]:
    c = get_client(url=server.url, api_key=KEY)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, headers={"x-api-key": KEY}, timeout=30.0) as c:
        yield c


@pytest.fixture(scope="module")
async def asked(server: ServerProcess) -> Stopped:
    """Threads stopped at interrupts; two of them given assignees and a deadline."""
    c = get_client(url=server.url, api_key=KEY)
    order: list[Asked] = []
    try:
        for graph, run_input in [
            ("agent", {"some_text": MARKUP}),
            ("inbox_request", {"draft": "Spring newsletter"}),
            ("schema", {"some_text": "draft three"}),
            ("schema", {"some_text": "draft two"}),
            ("hitl_agent", AGENT_INPUT),
            ("schema", {"some_text": "draft one"}),
        ]:
            thread = await c.threads.create()
            stopped = await c.runs.wait(thread["thread_id"], graph, input=run_input)
            assert isinstance(stopped, dict), stopped
            (interrupt,) = stopped["__interrupt__"]
            order.append(Asked(graph, thread["thread_id"], interrupt["id"]))
    finally:
        await c.aclose()
    found = Stopped(order)
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=server.url, headers={"x-api-key": KEY}) as http:
        for item, plan in [
            (found.of("schema")[-1], {"assignees": ["ops"], "deadline": (now + timedelta(minutes=45)).isoformat()}),
            (
                found.of("inbox_request")[0],
                {"assignees": ["editors", "legal"], "deadline": (now + timedelta(hours=3)).isoformat()},
            ),
        ]:
            patched = await http.patch(
                f"/interrupts/{item.interrupt_id}", params={"thread_id": item.thread_id}, json=plan
            )
            assert patched.status_code == 200, patched.text
    return found


@pytest.fixture(scope="module")
async def page(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Page]:
    async with chromium(tmp_path_factory.mktemp("inbox-browser")) as opened:
        yield opened


async def signed_in(page: Page, url: str) -> None:
    """Open `url` (a page URL) signed in: the key is kept in the tab's sessionStorage once given."""
    await page.goto(url)
    if await page.evaluate("!document.querySelector('#signin').hidden"):
        await page.fill("#signin-secret", KEY)
        await page.press("#signin-secret", "Enter")
    await page.wait_for("#app")


async def open_item(page: Page, server: ServerProcess, item: Asked) -> None:
    """Open an interrupt by the link a notification carries."""
    await signed_in(page, f"{server.url}/inbox{item.route}")
    await page.wait_for(f'#detail-pane .facts code:text-is("{item.interrupt_id}")')


async def history(http: httpx.AsyncClient, item: Asked) -> list[dict[str, Any]]:
    got = await http.get(f"/interrupts/{item.interrupt_id}/history", params={"thread_id": item.thread_id})
    assert got.status_code == 200, got.text
    entries: list[dict[str, Any]] = got.json()["entries"]
    return entries


def _rows(graph: str | None = None) -> str:
    """JS: the interrupt ids the list shows (of one graph only, if given)."""
    only = f"[data-graph={json.dumps(graph)}]" if graph else ""
    return f"[...document.querySelectorAll('#items a{only}')].map(a => a.dataset.interruptId)"


async def test_the_page_and_its_files_are_served_without_credentials(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/inbox")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-cache"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert '<script type="module" src="inbox/inbox.js">' in page.text
        for name, content_type in [("inbox.js", "text/javascript"), ("inbox.css", "text/css")]:
            asset = await http.get(f"/inbox/{name}")
            assert asset.status_code == 200 and asset.headers["content-type"].startswith(content_type), asset
            assert asset.headers["cache-control"] == "no-cache"
            again = await http.get(f"/inbox/{name}", headers={"if-none-match": asset.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
        for path in ["/inbox/app.py", "/inbox/index.html", "/inbox/..%2F..%2Fpyproject.toml", "/inbox/%2e%2e"]:
            assert (await http.get(path)).status_code in (401, 404), path
        # only the page became public: its data still needs the key
        refused = await http.get("/interrupts")
        assert refused.status_code == 401 and "detail" in refused.json()


async def test_signs_in_lists_and_filters(page: Page, server: ServerProcess, asked: Stopped) -> None:
    await page.goto(f"{server.url}/inbox")
    # without the key the API said 401, and the page says why
    await page.wait_for("#signin-reason:not(:empty)")
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        refused = await anonymous.get("/interrupts")
    assert refused.status_code == 401 and refused.json()["detail"] in await page.text("#signin-reason")
    assert await page.evaluate("document.querySelector('#app').hidden")
    await page.fill("#signin-secret", KEY)
    await page.press("#signin-secret", "Enter")

    newest_first = [i.interrupt_id for i in reversed(asked.order)]
    await page.wait_until(f"{_rows()}.length === {len(newest_first)}")
    assert await page.evaluate(_rows()) == newest_first
    assert await page.text("#who") == "Signed in with an API key"
    assert await page.evaluate("sessionStorage.length") == 1 and KEY not in await page.evaluate("location.href")

    soon = asked.of("schema")[-1]
    row = await page.text(f'#items a[data-interrupt-id="{soon.interrupt_id}"]')
    assert "for ops" in row and re.search(r"due in 4[0-4] min", row) and "pending" in row, row
    later = await page.text(f'#items a[data-interrupt-id="{asked.of("inbox_request")[0].interrupt_id}"]')
    assert "Publish this draft?" in later and "for editors, legal" in later, later
    assert re.search(r"due in 2 h 5\d min", later), later
    hitl = await page.text(f'#items a[data-interrupt-id="{asked.of("hitl_agent")[0].interrupt_id}"]')
    assert "Review 2 actions: send_email, lookup" in hitl and "hitl_agent" in hitl, hitl
    await page.screenshot("inbox-list.png")

    await page.select("#filters select[name=graph_id]", "schema")
    schema_ids = [i.interrupt_id for i in asked.of("schema")]
    await page.wait_until(f"{_rows()}.length === {len(schema_ids)}")
    assert await page.evaluate(_rows("schema")) == schema_ids[::-1]
    assert "1\N{EN DASH}3 of 3 pending interrupts" in await page.text("#list-status")

    await page.fill("#filters input[name=assignee]", "ops")
    await page.press("#filters input[name=assignee]", "Enter")
    await page.wait_until(f"{_rows()}.length === 1")
    assert await page.evaluate(_rows()) == [soon.interrupt_id]

    await page.fill("#filters input[name=metadata]", "[1, 2]")
    await page.press("#filters input[name=metadata]", "Enter")
    assert "must be a JSON object" in await page.text("#filters-error")


async def test_answers_through_the_form_generated_from_the_schema(
    page: Page, server: ServerProcess, asked: Stopped, client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    item = asked.of("schema")[-1]
    await signed_in(page, f"{server.url}/inbox")
    link = f'#items a[data-interrupt-id="{item.interrupt_id}"]'
    # list items are links: the keyboard opens them
    await page.focus(link)
    await page.press(link, "Enter")
    await page.wait_for("#detail-pane form.answer")
    assert await page.evaluate("location.hash") == item.route
    assert "Fields marked * are required" in await page.text("#detail-pane form.answer")
    assert await page.attribute('#detail-pane [data-path="approved"]', "type") == "checkbox"
    await page.check('#detail-pane [data-path="approved"]')
    await page.fill('#detail-pane [data-path="note"]', "Looks good")
    await page.fill("#detail-pane textarea[name=comment]", "Checked the figures")
    await page.press('#detail-pane [data-path="note"]', "Enter")  # Enter sends

    await page.wait_for("#detail-pane .notice.success")
    run_id = await page.attribute("#detail-pane .notice.success", "data-run-id")
    assert run_id and run_id in await page.text("#detail-pane .notice.success")
    assert await client.runs.join(item.thread_id, run_id) == {"some_text": "draft one approved=True"}
    state = await client.threads.get_state(item.thread_id)
    assert state["values"] == {"some_text": "draft one approved=True"} and not state["next"]
    (applied,) = [e for e in await history(http, item) if e["event"] == "answer"]
    assert applied["outcome"] == "applied" and applied["run_id"] == run_id
    assert applied["detail"]["value"] == {"approved": True, "note": "Looks good"}
    assert applied["detail"]["comment"] == "Checked the figures" and applied["detail"]["via"] == "inbox"

    # the page shows it answered, and the list of pending ones no longer has it
    await page.wait_for("#detail-pane .facts .status-answered")
    assert await page.count("#detail-pane form.answer") == 0
    await page.wait_until(f"!{_rows()}.includes({json.dumps(item.interrupt_id)})")
    await page.wait_for("#detail-pane .history-body li:has-text('answer applied')")


async def test_decides_on_the_actions_of_a_hitl_middleware_request(
    page: Page, server: ServerProcess, asked: Stopped, client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    item = asked.of("hitl_agent")[0]
    await open_item(page, server, item)
    await page.wait_for('#detail-pane .card[data-index="1"]')
    assert await page.texts("#detail-pane .card h4") == ["1. send_email", "2. lookup"]
    # a button for each allowed decision, and no other
    assert await page.texts('.card[data-index="0"] .choice') == ["Approve", "Edit", "Reject"]
    assert await page.texts('.card[data-index="1"] .choice') == ["Approve", "Respond"]
    subject = '.card[data-index="0"] [data-path="subject"]'
    assert await page.evaluate(f"document.querySelector('{subject}').matches(':disabled')")  # until Edit is chosen
    await page.check('.card[data-index="0"] input[value="edit"]')
    await page.fill(subject, "Quarterly numbers")
    await page.check('.card[data-index="1"] input[value="approve"]')
    await page.click("#detail-pane details.values > summary")
    await page.wait_for("#detail-pane .transcript li:has-text('Email Ann')")
    await page.evaluate("document.querySelector('#detail-pane details.values').scrollIntoView()")
    await page.screenshot("inbox-answer.png")
    await page.click("#detail-pane button[type=submit]")

    await page.wait_for("#detail-pane .notice.success")
    run_id = await page.attribute("#detail-pane .notice.success", "data-run-id")
    assert run_id
    await client.runs.join(item.thread_id, run_id)
    messages = (await client.threads.get_state(item.thread_id))["values"]["messages"]
    tools = {m["name"]: m["content"] for m in messages if m["type"] == "tool"}
    assert "sent 'Quarterly numbers' to ann@example.com" in tools["send_email"], tools
    assert tools["lookup"] == "found weather" and messages[-1]["content"] == "all done"
    (applied,) = [e for e in await history(http, item) if e["event"] == "answer"]
    assert applied["detail"]["value"] == {
        "decisions": [
            {
                "type": "edit",
                "edited_action": {
                    "name": "send_email",
                    "args": {"to": "ann@example.com", "subject": "Quarterly numbers"},
                },
            },
            {"type": "approve"},
        ]
    }


async def test_responds_to_an_agent_inbox_request(
    page: Page, server: ServerProcess, asked: Stopped, client: LangGraphClient
) -> None:
    item = asked.of("inbox_request")[0]
    await open_item(page, server, item)
    assert await page.texts('.card[data-index="0"] .choice') == ["Accept", "Edit", "Respond"]  # ignore not allowed
    assert await page.evaluate("document.querySelector('.card [data-path=\"draft\"]').value") == "Spring newsletter"
    await page.check('.card[data-index="0"] input[value="response"]')
    await page.fill('.card[data-index="0"] textarea.decision-message', "Make it shorter")
    await page.click("#detail-pane button[type=submit]")
    await page.wait_for("#detail-pane .notice.success")
    run_id = await page.attribute("#detail-pane .notice.success", "data-run-id")
    assert run_id
    assert (await client.runs.join(item.thread_id, run_id))["outcome"] == "response:Make it shorter"


async def test_an_answer_given_meanwhile_is_a_conflict(
    page: Page, server: ServerProcess, asked: Stopped, client: LangGraphClient
) -> None:
    item = asked.of("schema")[1]
    await open_item(page, server, item)
    await page.check('#detail-pane [data-path="approved"]')
    # someone else answers through the API while the page shows the form
    await client.runs.wait(item.thread_id, "schema", command=Command(resume={item.interrupt_id: {"approved": False}}))
    await page.click("#detail-pane button[type=submit]")

    await page.wait_for("#detail-pane .notice.conflict")
    notice = await page.text("#detail-pane .notice.conflict")
    assert "Someone else answered this first." in notice
    assert f"interrupt {item.interrupt_id} already answered" in notice, notice
    await page.wait_for("#detail-pane .facts .status-answered")
    assert await page.count("#detail-pane form.answer") == 0
    await page.screenshot("inbox-conflict.png")
    # the answer that came first is the one the thread went on with
    assert (await client.threads.get_state(item.thread_id))["values"] == {"some_text": "draft two approved=False"}


async def test_an_answer_the_schema_refuses_shows_the_servers_422(
    page: Page, server: ServerProcess, asked: Stopped, client: LangGraphClient, http: httpx.AsyncClient
) -> None:
    item = asked.of("schema")[0]
    await open_item(page, server, item)
    await page.check("#detail-pane input.as-json")
    area = '#detail-pane textarea[data-path="json"]'
    # the JSON starts from what the form held
    assert json.loads(await page.evaluate(f"document.querySelector('{area}').value")) == {"approved": False}

    await page.fill(area, '{"approved": tru')
    await page.click("#detail-pane button[type=submit]")
    await page.wait_for("#detail-pane .answer-error:has-text('The answer is not valid JSON')")

    wrong = '{"approved": "yes"}'
    await page.fill(area, wrong)
    await page.click("#detail-pane button[type=submit]")
    await page.wait_for("#detail-pane .answer-error:has-text('The server refused this answer')")
    said = await page.text("#detail-pane .answer-error")
    same = await http.post(f"/interrupts/{item.interrupt_id}/answer", json={"value": json.loads(wrong)})
    assert same.status_code == 422 and same.json()["detail"] in said, (same.text, said)
    # nothing else changed: the form and its text stay, the interrupt still waits, no run started
    assert await page.evaluate(f"document.querySelector('{area}').value") == wrong
    assert await page.count("#detail-pane .notice") == 0
    still = await http.get(f"/interrupts/{item.interrupt_id}")
    assert still.json()["status"] == "pending"
    assert len(await client.runs.list(item.thread_id)) == 1


async def test_text_from_the_server_is_never_markup_and_narrow_screens_work(
    page: Page, server: ServerProcess, asked: Stopped, client: LangGraphClient
) -> None:
    item = asked.of("agent")[0]
    await page.viewport(390, 800)
    try:
        await open_item(page, server, item)
        assert MARKUP in await page.text("#detail-pane .question")
        assert await page.evaluate("document.querySelectorAll('#detail-pane b, #detail-pane img').length") == 0
        assert await page.evaluate("window.pwned === undefined")
        # one column: the list makes way for the open interrupt, and nothing overflows sideways
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert not await page.evaluate("document.querySelector('#list-pane').checkVisibility()")
        # no schema: free text, sent as a plain string here, with Ctrl+Enter from the text box
        await page.check("#detail-pane input[type=radio][value=text]")
        await page.fill('#detail-pane textarea[data-path="json"]', "Edited text")
        await page.press('#detail-pane textarea[data-path="json"]', "Control+Enter")
        await page.wait_for("#detail-pane .notice.success")
        run_id = await page.attribute("#detail-pane .notice.success", "data-run-id")
        assert run_id
        assert await client.runs.join(item.thread_id, run_id) == {"some_text": "Edited text"}
    finally:
        await page.viewport(1280, 800)
    # the page runs under its own CSP without tripping it, and without errors of its own
    assert not [line for line in await page.console() if "pageerror" in line or "Content Security Policy" in line]
