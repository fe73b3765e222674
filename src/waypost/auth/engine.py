"""Authentication and authorization policies: a langgraph_sdk `Auth` module, built-in API
keys, or none. The API calls `authenticate` once per request and `authorize` once per
operation; neither knows anything about HTTP routes beyond the request it is given."""

from __future__ import annotations

import abc
import hashlib
import hmac
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from langgraph_sdk.auth import Auth
from langgraph_sdk.auth.exceptions import HTTPException as AuthHTTPException
from langgraph_sdk.auth.types import AuthContext
from starlette.requests import Request

from waypost.auth.filters import Condition, FilterError, parse
from waypost.auth.users import AuthUser
from waypost.errors import Forbidden, Unauthorized, WaypostError

log = logging.getLogger("waypost.auth")

Resource = str  # threads | assistants | crons | store
Action = str  # create | read | update | delete | search | create_run | ...


class AuthFailed(WaypostError):
    """A status and detail chosen by the auth module (Auth.exceptions.HTTPException)."""


class Policy(abc.ABC):
    @property
    def enabled(self) -> bool:
        return True

    @abc.abstractmethod
    async def authenticate(self, request: Request, path_params: Mapping[str, str]) -> AuthUser | None:
        """The user making the request; raises Unauthorized (or the module's own error)."""

    async def authorize(
        self, user: AuthUser | None, resource: Resource, action: Action, value: dict[str, Any]
    ) -> tuple[Condition, ...]:
        """The conditions the resource's metadata must meet for this user and action; raises
        Forbidden. `value` may be changed in place (a handler stamping metadata)."""
        return ()


class NoAuth(Policy):
    @property
    def enabled(self) -> bool:
        return False

    async def authenticate(self, request: Request, path_params: Mapping[str, str]) -> AuthUser | None:
        return None


class ApiKeys(Policy):
    """Requests carry one of the configured keys in `x-api-key` (what both official SDKs send
    when given `api_key`). Each key is compared in constant time, all of them every time, so
    the response time says nothing about which key came close."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = [k.encode() for k in keys]

    async def authenticate(self, request: Request, path_params: Mapping[str, str]) -> AuthUser | None:
        given = request.headers.get("x-api-key", "").encode()
        matched = None
        for key in self._keys:
            if hmac.compare_digest(given, key):
                matched = key
        if not given or matched is None:
            raise Unauthorized("a valid API key is required in the x-api-key header")
        # The identity names the key without revealing it: who answered an interrupt is
        # recorded, and keys can be told apart in the audit trail.
        return AuthUser({"identity": f"api-key:{hashlib.sha256(matched).hexdigest()[:12]}", "kind": "api-key"})


class CustomAuth(Policy):
    """The `auth` module of langgraph.json, called as the LangGraph docs define it."""

    AUTHENTICATE_PARAMS = ("request", "path", "method", "path_params", "query_params", "headers", "authorization")

    def __init__(self, auth: Auth) -> None:
        self._auth = auth
        self._authenticate = auth._authenticate_handler
        if self._authenticate is not None:
            params = inspect.signature(self._authenticate).parameters
            unknown = [p for p in params if p not in self.AUTHENTICATE_PARAMS]
            if unknown:
                raise ValueError(
                    f"the authenticate handler asks for {', '.join(unknown)}; it may ask for "
                    f"{', '.join(self.AUTHENTICATE_PARAMS)}"
                )
            self._wants = tuple(params)

    async def authenticate(self, request: Request, path_params: Mapping[str, str]) -> AuthUser | None:
        if self._authenticate is None:
            return None  # authorization handlers only: every request is anonymous
        available = {
            "request": lambda: request,
            "path": lambda: request.url.path,
            "method": lambda: request.method,
            "path_params": lambda: dict(path_params),
            "query_params": lambda: dict(request.query_params),
            "headers": lambda: {k.lower(): v for k, v in request.headers.raw},
            "authorization": lambda: request.headers.get("authorization"),
        }
        kwargs = {name: available[name]() for name in self._wants}
        try:
            returned: Any = self._authenticate(**kwargs)
            if inspect.isawaitable(returned):
                returned = await returned
            return AuthUser.of(returned)
        except AuthHTTPException as exc:
            raise _failure(exc) from None
        except (ValueError, TypeError) as exc:
            log.warning("authenticate handler returned no usable user: %s", exc)
            raise Unauthorized() from None
        except Exception:
            # A bug in the auth module must never let a request in.
            log.exception("authenticate handler failed")
            raise Unauthorized() from None

    def _handler(self, resource: Resource, action: Action) -> Any:
        """The most specific handler: resource and action, then resource, then global."""
        handlers = self._auth._handlers
        for key in ((resource, action), (resource, "*"), ("*", action)):
            if key in handlers:
                return handlers[key][-1]
        return self._auth._global_handlers[-1] if self._auth._global_handlers else None

    async def authorize(
        self, user: AuthUser | None, resource: Resource, action: Action, value: dict[str, Any]
    ) -> tuple[Condition, ...]:
        handler = self._handler(resource, action)
        if handler is None:
            return ()
        subject = user or AuthUser({"identity": "anonymous", "is_authenticated": False})
        ctx = AuthContext(permissions=subject.permissions, user=subject, resource=resource, action=action)  # type: ignore[arg-type]
        try:
            result = await handler(ctx=ctx, value=value)
        except AuthHTTPException as exc:
            raise _failure(exc) from None
        except WaypostError:
            raise
        except Exception:
            log.exception("authorization handler for %s.%s failed", resource, action)
            raise WaypostError("the authorization handler failed") from None
        if result is None or result is True:
            return ()
        if result is False:
            raise Forbidden()
        if isinstance(result, Mapping):
            try:
                return parse(result)
            except FilterError as exc:
                log.error("authorization handler for %s.%s returned a bad filter: %s", resource, action, exc)
                raise WaypostError("the authorization handler returned a filter Waypost cannot apply") from None
        log.error("authorization handler for %s.%s returned %r", resource, action, type(result).__name__)
        raise WaypostError("the authorization handler returned something that is not a filter")


def _failure(exc: AuthHTTPException) -> WaypostError:
    error = AuthFailed(str(exc.detail), headers=exc.headers)
    error.status = exc.status_code
    return error
