"""A real browser calls Waypost from another origin through the official JS SDK.

Debian's Chromium, driven by playwright-core (drive.mjs), opens a page served from one loopback
port (site.py); the page loads @langchain/langgraph-sdk 2.x as ES modules and calls Waypost,
started with an API key, on another port: the seed's interrupt-and-resume cycle, a call without
the key, and a call to a second server whose CORS policy leaves the page's origin out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.auth.conftest import KEYS_CONFIG
from tests.backends import SQLITE
from tests.browser.site import NODE_MODULES, page_site
from tests.js.node import run_script
from tests.serverproc import ServerProcess

pytestmark = pytest.mark.browser

KEY = "browser-key-0123456789abcdef"
CHROMIUM = Path("/usr/bin/chromium")  # Debian's package, which .ci/run installs
NARROW_CONFIG = Path(__file__).resolve().parent / "narrow_cors.json"


@dataclass
class Visit:
    """What the page reported, and the servers it called."""

    page: dict[str, Any]
    waypost: ServerProcess
    narrowed: ServerProcess
    screenshot: Path


def require_browser() -> None:
    """Fail (never skip: CI counts a skip as a failure) with the fix when Chromium is missing."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's Chromium (`sudo apt-get install chromium`); .ci/run does")
    if not (NODE_MODULES / "playwright-core" / "package.json").is_file():
        pytest.fail("playwright-core is not installed: run `make js` (npm ci --prefix tests/js)")


@contextmanager
def waypost(folder: Path, config: Path) -> Iterator[ServerProcess]:
    folder.mkdir()
    with SQLITE.place(folder) as place:
        server = ServerProcess(
            config=config,
            database_url=place.database_url,
            log_path=folder / "waypost.log",
            extra_args=["--api-key", KEY],
        ).start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="module")
def visit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Visit]:
    require_browser()
    folder = tmp_path_factory.mktemp("browser")
    with ExitStack() as stack:
        server = stack.enter_context(waypost(folder / "waypost", KEYS_CONFIG))
        narrowed = stack.enter_context(waypost(folder / "narrowed", NARROW_CONFIG))
        page_url = stack.enter_context(page_site())
        screenshot = folder / "page.png"
        # run_script names scripts from tests/js and checks node and SDK 2.x are installed there
        page, _ = run_script(
            "../browser/drive.mjs",
            "sdk2",
            server.url,
            extra_env={
                "PAGE_URL": page_url,
                "NARROW_URL": narrowed.url,
                "API_KEY": KEY,
                "SCREENSHOT": str(screenshot),
                "PROFILE_DIR": str(folder / "chromium-profile"),
            },
        )
        yield Visit(page, server, narrowed, screenshot)


def _cors_complaints(visit: Visit, server: ServerProcess) -> list[str]:
    return [line for line in visit.page["console"] if "CORS policy" in line and server.url in line]


def test_the_page_is_on_another_origin(visit: Visit) -> None:
    assert visit.page["origin"].startswith("http://127.0.0.1:")
    assert visit.page["origin"] not in (visit.waypost.url, visit.narrowed.url)


def test_the_seed_cycle_runs_from_the_page(visit: Visit) -> None:
    flow = visit.page["flow"]
    (interrupt,) = flow["first"]["__interrupt__"]
    assert interrupt["value"] == {"text_to_revise": "original text"}
    assert flow["second"] == {"some_text": "Edited text"}
    # both run ids came from Content-Location, which the page may read only if it is exposed
    assert [run["thread_id"] for run in flow["runs"]] == [flow["threadId"]] * 2
    thread = httpx.get(f"{visit.waypost.url}/threads/{flow['threadId']}", headers={"x-api-key": KEY}).json()
    assert thread["status"] == "idle" and thread["values"] == {"some_text": "Edited text"}
    assert visit.screenshot.read_bytes().startswith(b"\x89PNG"), "no screenshot of the page"


def test_pagination_headers_reach_the_page(visit: Visit) -> None:
    flow = visit.page["flow"]
    assert [t["thread_id"] for t in flow["listed"]] == [flow["threadId"]]
    assert flow["total"] == "1"  # the page's thread is the only one: the other calls made none
    # two assistants (agent, whoami) listed one at a time: the next page starts at 1
    assert flow["next"] == "1"


def test_a_call_without_the_key_is_a_401_the_page_can_read(visit: Visit) -> None:
    refused = visit.page["withoutKey"]
    assert refused["ok"] is False
    assert refused["status"] == 401, refused  # an HTTP answer, not a network failure
    assert "a valid API key is required" in refused["message"]
    assert not _cors_complaints(visit, visit.waypost), visit.page["console"]


def test_an_origin_left_out_of_the_policy_is_blocked_by_the_browser(visit: Visit) -> None:
    blocked = visit.page["narrowed"]
    assert blocked["ok"] is False
    assert blocked["status"] is None, blocked  # no HTTP status reached the page
    assert blocked["name"] == "ConnectionError" and "Failed to fetch" in blocked["message"], blocked
    assert _cors_complaints(visit, visit.narrowed), visit.page["console"]
    # the browser stopped at the preflight: the request itself never reached the server
    listed = httpx.post(f"{visit.narrowed.url}/threads/search", json={}, headers={"x-api-key": KEY})
    assert listed.status_code == 200 and listed.json() == []
