"""What one request may do with a resource: who asks, and the conditions the resource's
metadata must meet for them. Operations take an Access and treat a resource that does not
meet it as absent (404), so another user's thread is indistinguishable from no thread."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from waypost.auth.filters import Condition, matches
from waypost.auth.users import ANONYMOUS, AuthUser


@dataclass(frozen=True, slots=True)
class Access:
    user: AuthUser | None = None
    conditions: tuple[Condition, ...] = ()

    def admits(self, metadata: Mapping[str, Any] | None) -> bool:
        return not self.conditions or matches(self.conditions, metadata or {})

    @property
    def identity(self) -> str:
        return self.user.identity if self.user is not None else ANONYMOUS


# No authentication configured: everything is visible to everyone.
OPEN = Access()
