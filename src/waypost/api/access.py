"""Authorization for one operation: the route names the resource, the action and the value
(as langgraph_sdk's Auth handlers receive them); the policy answers with an Access, or
refuses (403). A handler may change `value` in place, e.g. stamp an owner into metadata; the
route then uses what it wrote."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request

from waypost.api.authn import USER_KEY
from waypost.api.http import runtime
from waypost.auth.access import OPEN, Access
from waypost.auth.users import AuthUser


def user_of(request: Request) -> AuthUser | None:
    user: AuthUser | None = request.scope.get("state", {}).get(USER_KEY)
    return user


async def authorize(request: Request, resource: str, action: str, value: dict[str, Any]) -> Access:
    rt = runtime(request)
    if not rt.auth.enabled:
        return OPEN
    user = user_of(request)
    conditions = await rt.auth.authorize(user, resource, action, value)
    return Access(user=user, conditions=conditions)


async def thread_access(request: Request, op: str, thread_id: str, **more: Any) -> Access:
    """Authorize an operation `op` (read, update, delete) on a thread a route names."""
    return await authorize(request, "threads", op, {"thread_id": uuid.UUID(thread_id), **more})
