"""The page's own origin: a small static server for tests/browser/page and for the packages that
`make js` installed in tests/js/node_modules.

The page loads the official JS SDK as ES modules straight from those files, with no bundler and no
build step: an import map, written into the page here, tells the browser where each bare
specifier (`@langchain/langgraph-sdk`, `p-retry`, `p-queue`, ...) lives. It is worked out from the
packages' own package.json files, the way node finds them, so it follows whatever npm installed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.js.node import JS_DIR

PAGE_DIR = Path(__file__).resolve().parent / "page"
NODE_MODULES = JS_DIR / "node_modules"
# The name pages import, and the npm alias SDK 2.x is installed under in tests/js/package.json.
SDK_NAME, SDK_ALIAS = "@langchain/langgraph-sdk", "sdk2"
# The export conditions a browser build uses, as bundlers do.
CONDITIONS = ("browser", "import", "default")
# eventemitter3's "import" entry (index.mjs) only re-exports its CommonJS index.js, which a browser
# cannot load; the package also ships a real ES module build, taken instead.
ESM_BUILDS = {"eventemitter3": "dist/eventemitter3.esm.js"}
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json"}


def _manifest(package: Path) -> dict[str, Any]:
    return json.loads((package / "package.json").read_text())  # type: ignore[no-any-return]


def _pick(target: object) -> str | None:
    """The file an `exports` target names for a browser: the first condition it matches, in the
    order the package lists them (as node does)."""
    if isinstance(target, str):
        return target
    if isinstance(target, dict):
        for condition, sub in target.items():
            if condition in CONDITIONS and (found := _pick(sub)):
                return found
    return None


def esm_entry(package: Path) -> str:
    """The ES module a browser should load for `import "<package>"`, relative to its folder."""
    manifest = _manifest(package)
    if manifest["name"] in ESM_BUILDS:
        return ESM_BUILDS[manifest["name"]]
    exports = manifest.get("exports")
    if isinstance(exports, dict) and "." in exports:
        exports = exports["."]
    entry = _pick(exports) if exports is not None else manifest.get("module") or manifest.get("main")
    assert entry, f"{package}: its package.json names no entry a browser can load"
    return str(entry).removeprefix("./")


def _installed(name: str, importer: Path) -> Path:
    """Where node finds package `name` for code in `importer`: the nearest node_modules above it."""
    for folder in (importer, *importer.parents):
        if (candidate := folder / "node_modules" / name).is_dir():
            return candidate
        if folder == JS_DIR:
            break
    raise AssertionError(f"{name} (a dependency of {importer.name}) is not installed: run `make js`")


def _url(path: Path) -> str:
    return "/" + path.relative_to(JS_DIR).as_posix()


def import_map() -> dict[str, Any]:
    """`imports` names the SDK; each package gets a scope mapping its own dependencies, so two
    packages that need different majors of one dependency each get theirs (sdk1 and sdk2 do)."""
    sdk = NODE_MODULES / SDK_ALIAS
    scopes: dict[str, dict[str, str]] = {}
    todo, seen = [sdk], set()
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        for name in _manifest(package).get("dependencies", {}):
            if name.startswith("@types/"):
                continue  # type declarations: nothing to load
            found = _installed(name, package)
            scopes.setdefault(_url(package) + "/", {})[name] = _url(found / esm_entry(found))
            todo.append(found)
    return {"imports": {SDK_NAME: _url(sdk / esm_entry(sdk))}, "scopes": scopes}


class _Files(BaseHTTPRequestHandler):
    """GET only: "/" is the page with its import map, /node_modules/... the installed packages,
    anything else a file of tests/browser/page."""

    index = b""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/":
            self._send(self.index, CONTENT_TYPES[".html"])
            return
        root = JS_DIR if path.startswith("/node_modules/") else PAGE_DIR
        file = (root / path.lstrip("/")).resolve()
        if not file.is_relative_to(root) or not file.is_file():
            self.send_error(404)
            return
        self._send(file.read_bytes(), CONTENT_TYPES.get(file.suffix, "application/octet-stream"))

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the browser reports what it could not load; a line per file would only be noise


@contextmanager
def page_site() -> Iterator[str]:
    """Serve the page on a free loopback port (an origin of its own); yields its URL."""
    html = (PAGE_DIR / "index.html").read_text()
    index = html.replace("__IMPORT_MAP__", json.dumps(import_map(), indent=2)).encode()
    handler = type("PageFiles", (_Files,), {"index": index})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="page-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
