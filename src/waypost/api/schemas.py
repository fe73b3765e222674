"""Request bodies as the official SDKs send them, and the typed values they share with query
and path parameters. Unknown fields are ignored (the SDKs send fields the schema doesn't
list); wrong types and out-of-bound values are 422s. The OpenAPI document is generated from
these same models, so what is documented is what is enforced."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, WithJsonSchema
from pydantic_core import PydanticCustomError

from waypost.api.limits import INT32_MAX, MAX_AFTER_SECONDS, MAX_LIMIT, MAX_OFFSET
from waypost.models import CancelAction  # noqa: F401  (re-exported for the routers)


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _uuid(value: Any) -> str:
    """Any spelling uuid.UUID reads, as the canonical lowercase form the rows are keyed by."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise PydanticCustomError("uuid", "must be a UUID") from None


Uuid = Annotated[str, BeforeValidator(_uuid), WithJsonSchema({"type": "string", "format": "uuid"})]


def nul_in_filter(value: dict[str, Any]) -> bool:
    # SQLite's JSON functions end a text at NUL, so such a key or value would compare as its
    # prefix and match rows it should not.
    return any("\0" in key or (isinstance(v, str) and "\0" in v) for key, v in value.items())


def _filter(value: dict[str, Any]) -> dict[str, Any]:
    if nul_in_filter(value):
        raise PydanticCustomError("nul", "filter keys and text values cannot contain NUL characters")
    return value


def _text(value: str) -> str:
    # PostgreSQL's text cannot hold NUL: such a value is refused as input, not a storage error.
    if "\0" in value:
        raise PydanticCustomError("nul", "cannot contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_text)]


# Exact match per top-level key: same JSON type and value (true is not 1, a missing key is not null).
Filter = Annotated[dict[str, Any], AfterValidator(_filter)]

CHECKPOINT_FILTER_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _checkpoint_filter(value: dict[str, Any]) -> dict[str, Any]:
    # langgraph's SQLite checkpointer reads a dot as a path step and refuses other characters
    # with an exception; only keys it takes literally are let through.
    if not all(CHECKPOINT_FILTER_KEY.match(key) for key in value):
        raise PydanticCustomError("filter_key", "checkpoint metadata keys may only contain letters, digits, _ and -")
    return value


CheckpointFilter = Annotated[
    dict[str, Any],
    AfterValidator(_checkpoint_filter),
    WithJsonSchema({"type": "object", "propertyNames": {"pattern": CHECKPOINT_FILTER_KEY.pattern}}),
]

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET)]

StreamModeName = Literal[
    "values", "messages", "updates", "events", "tasks", "checkpoints", "debug", "custom", "messages-tuple"
]
ThreadStreamMode = Literal["run_modes", "lifecycle", "state_update"]
RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
SortOrder = Literal["asc", "desc"]
ThreadField = Literal[
    "thread_id",
    "created_at",
    "updated_at",
    "state_updated_at",
    "metadata",
    "config",
    "context",
    "status",
    "values",
    "interrupts",
    "error",
]
AssistantField = Literal[
    "assistant_id",
    "graph_id",
    "name",
    "description",
    "config",
    "context",
    "created_at",
    "updated_at",
    "metadata",
    "version",
]
# A ThreadState field, or one key of its values.
StateField = Annotated[
    str,
    Field(
        pattern=r"^(values|next|tasks|checkpoint|metadata|created_at|parent_checkpoint|interrupts"
        r"|checkpoint_id|parent_checkpoint_id|values\..+)$"
    ),
]
Interrupts = Literal["*"] | list[str] | None


class Checkpoint(Body):
    """Where in a thread's history: a checkpoint id and the (sub)graph namespace it is in."""

    thread_id: str | None = None
    checkpoint_ns: str | None = None
    checkpoint_id: str | None = None
    checkpoint_map: dict[str, str] | None = None

    def selector(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Config(BaseModel):
    """A RunnableConfig as clients send it. Other keys pass through; these three are typed,
    so a config every run would fail on (a non-object `configurable`) is refused when it is
    sent, not stored."""

    model_config = ConfigDict(extra="allow")

    tags: list[str] | None = None
    recursion_limit: int | None = Field(default=None, ge=1, le=INT32_MAX)
    configurable: dict[str, Any] | None = None


class RunCreate(Body):
    assistant_id: str
    input: Any = None
    command: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    config: Config | None = None
    context: dict[str, Any] | None = None
    checkpoint: Checkpoint | None = None
    checkpoint_id: str | None = None
    interrupt_before: Interrupts = None
    interrupt_after: Interrupts = None
    stream_mode: StreamModeName | list[StreamModeName] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    feedback_keys: list[str] | None = None
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    on_completion: Literal["delete", "keep"] | None = None
    webhook: str | None = None
    after_seconds: float | None = Field(default=None, ge=0, le=MAX_AFTER_SECONDS)
    durability: Literal["sync", "async", "exit"] | None = None
    checkpoint_during: bool | None = None


def _not_yet(value: Any) -> Any:
    # Refused rather than dropped: a client that asked for it must not believe it happened.
    if value is not None:
        raise PydanticCustomError("not_supported", "not supported yet by Waypost")
    return value


NotYet = Annotated[Any, AfterValidator(_not_yet)]
NOT_YET = "Not supported yet: anything but null is refused with 422."


class ThreadCreate(Body):
    thread_id: Uuid | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    ttl: NotYet = Field(default=None, description=NOT_YET)
    supersteps: NotYet = Field(default=None, description=NOT_YET)


class ThreadPatch(Body):
    metadata: dict[str, Any] | None = None
    ttl: NotYet = Field(default=None, description=NOT_YET)


class ThreadCount(Body):
    metadata: Filter | None = None
    values: Filter | None = None
    status: ThreadStatus | None = None


class ThreadSearch(ThreadCount):
    ids: list[Uuid] | None = None
    limit: Limit = 10
    offset: Offset = 0
    sort_by: Literal["thread_id", "status", "created_at", "updated_at", "state_updated_at"] | None = None
    sort_order: SortOrder | None = None
    select: list[ThreadField] | None = None


class StateUpdate(Body):
    values: Any = None
    as_node: str | None = None
    checkpoint: Checkpoint | None = None
    checkpoint_id: str | None = None


class StateAtCheckpoint(Body):
    checkpoint: Checkpoint
    subgraphs: bool = False
    select: list[StateField] | None = None


class HistoryRequest(Body):
    limit: Limit = 10
    before: str | Checkpoint | None = None
    metadata: CheckpointFilter | None = None
    checkpoint: Checkpoint | None = None
    select: list[StateField] | None = None


class AssistantCreate(Body):
    graph_id: str
    assistant_id: Uuid | None = None
    config: Config | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    name: str | None = None
    description: str | None = None


class AssistantPatch(Body):
    graph_id: str | None = None
    config: Config | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None


class AssistantCount(Body):
    metadata: Filter | None = None
    graph_id: str | None = None
    name: str | None = None


class AssistantSearch(AssistantCount):
    limit: Limit = 10
    offset: Offset = 0
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: SortOrder | None = None
    select: list[AssistantField] | None = None


class VersionsRequest(Body):
    metadata: Filter | None = None
    limit: Limit = 10
    offset: Offset = 0


class SetLatest(Body):
    version: int = Field(ge=1, le=INT32_MAX)


class CancelMany(Body):
    thread_id: Uuid | None = None
    run_ids: list[Uuid] | None = None
    status: Literal["pending", "running", "all"] | None = None


# --- the inbox: interrupts as a resource, and the audit log ---------------------------------

InterruptStatusQuery = Literal["pending", "answered", "expired", "superseded", "any"]
InterruptSort = Literal["created_at", "deadline"]
InterruptId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]


class Strict(BaseModel):
    """Waypost's own bodies: a misspelt key is an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class InterruptAnswer(Strict):
    value: Any = Field(description="The answer, as the graph's interrupt() returns it (null is an answer too)")
    comment: str | None = Field(None, max_length=10_000, description="Why: kept in the audit log")


class InterruptPlanPatch(Strict):
    """Only the keys given change; null clears one."""

    # Strict: true is not one second (lax mode reads a bool as the number 1).
    deadline: str | StrictFloat | None = Field(
        None, description="ISO 8601 time with its offset (or seconds / a duration from now)"
    )
    on_deadline: dict[str, Any] | None = Field(
        None,
        description='{"action": "resume", "value": ...} | {"action": "expire"} | '
        '{"action": "escalate", "assignees": [...], "deadline": ..., "on_deadline": ...}',
    )
    assignees: list[str] | None = None
    remind_before: StrictFloat | str | None = Field(
        None, description="seconds or an ISO 8601 duration before the deadline"
    )
