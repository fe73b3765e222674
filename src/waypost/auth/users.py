"""The authenticated user, as handlers and graphs see it.

An `@auth.authenticate` handler may return a string (the identity), a dict with at least
`identity`, or an object with an `identity` attribute. Whatever it returns becomes an
`AuthUser`: the attributes of langgraph_sdk's `BaseUser` protocol (identity, display_name,
is_authenticated, permissions), plus item access to every field the handler returned, so
`user.identity` and `user["identity"]` both work, in handlers and inside graphs. It is also
stored with each run as plain JSON (a run may execute in another process) and rebuilt there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from waypost import serde

ANONYMOUS = "anonymous"


class AuthUser:
    __slots__ = ("_fields",)

    def __init__(self, fields: Mapping[str, Any]) -> None:
        identity = fields.get("identity")
        if not isinstance(identity, str) or not identity:
            raise ValueError("a user needs a non-empty string identity")
        permissions = fields.get("permissions") or []
        if isinstance(permissions, str) or not isinstance(permissions, Sequence):
            raise ValueError("permissions must be a list of strings")
        self._fields = {
            "display_name": identity,
            "is_authenticated": True,
            **serde.to_jsonable(dict(fields)),
            "identity": identity,
            "permissions": [str(p) for p in permissions],
        }

    @classmethod
    def of(cls, returned: Any) -> AuthUser:
        """The user an authenticate handler returned, in any of the documented shapes."""
        if isinstance(returned, AuthUser):
            return returned
        if isinstance(returned, str):
            return cls({"identity": returned})
        if isinstance(returned, Mapping):
            return cls(returned)
        identity = getattr(returned, "identity", None)
        if identity is None:
            raise ValueError(f"the authenticate handler returned {type(returned).__name__}, not a user")
        fields = {
            name: getattr(returned, name)
            for name in ("identity", "display_name", "is_authenticated", "permissions")
            if hasattr(returned, name)
        }
        if hasattr(returned, "__iter__") and hasattr(returned, "__getitem__"):
            fields = {**{k: returned[k] for k in returned}, **fields}
        return cls(fields)

    @property
    def identity(self) -> str:
        return str(self._fields["identity"])

    @property
    def display_name(self) -> str:
        return str(self._fields["display_name"])

    @property
    def is_authenticated(self) -> bool:
        return bool(self._fields["is_authenticated"])

    @property
    def permissions(self) -> list[str]:
        return list(self._fields["permissions"])

    def __getitem__(self, key: str) -> Any:
        return self._fields[key]

    def __contains__(self, key: object) -> bool:
        return key in self._fields

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def get(self, key: str, default: Any = None) -> Any:
        return self._fields.get(key, default)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AuthUser) and other._fields == self._fields

    def __hash__(self) -> int:
        return hash(self.identity)

    def __repr__(self) -> str:
        return f"AuthUser({self.identity!r})"
