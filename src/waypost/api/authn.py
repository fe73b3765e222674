"""Authentication on every request but the liveness probe: the configured policy decides who
is asking before any route runs, and a request it refuses gets its status with
{"detail": ...}. Operations then ask the policy what that user may do (api/access.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match, Mount, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from waypost.auth.engine import Policy
from waypost.errors import WaypostError

# Always answered without credentials: load balancers probe these.
PUBLIC_PATHS = frozenset({"/ok", "/"})
# The inbox page and its files (api/inbox_page.py) hold no data: the page sends the person's
# credentials with each API call it makes.
PAGE_PATH = "/inbox"
USER_KEY = "auth_user"


class Authentication:
    """`router` holds the API's routes (to give a handler its path_params); with
    `custom_routes_open`, paths no API route serves (a custom app's) are not authenticated."""

    def __init__(self, app: ASGIApp, router: Router, *, custom_routes_open: bool = False) -> None:
        self.app = app
        self.router = router
        self.custom_routes_open = custom_routes_open

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = _policy(scope)
        if scope["type"] != "http" or policy is None or not policy.enabled or _public(scope["path"]):
            await self.app(scope, receive, send)
            return
        path_params = self._path_params(scope)
        if path_params is None and self.custom_routes_open:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            user = await policy.authenticate(request, path_params or {})
        except WaypostError as exc:
            response = JSONResponse({"detail": exc.message}, status_code=exc.status, headers=exc.headers or None)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[USER_KEY] = user
        await self.app(scope, receive, send)

    def _path_params(self, scope: Scope) -> dict[str, str] | None:
        """The matched API route's path parameters; None when no API route serves the path."""
        for route in self.router.routes:
            if isinstance(route, Mount) and route.path in ("", "/"):
                continue  # the custom app mounted at the root serves everything else
            match, child = route.matches(scope)
            if match == Match.FULL:
                return dict(child.get("path_params", {}))
        return None


def _public(path: str) -> bool:
    """/ok, /, /inbox and /inbox/<one segment>: deeper paths are not the page's."""
    if path in PUBLIC_PATHS or path == PAGE_PATH:
        return True
    asset = path.removeprefix(PAGE_PATH + "/")
    return asset != path and "/" not in asset


def _policy(scope: Scope) -> Policy | None:
    """The running process's policy (set up by the app's lifespan)."""
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    return getattr(runtime, "auth", None)
