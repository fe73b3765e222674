"""Assistant operations: system assistants (one per graph) and user-made versions."""

from __future__ import annotations

import uuid
from typing import Any

from waypost.auth.access import OPEN, Access
from waypost.errors import Conflict, InvalidInput, NotFound
from waypost.graphs import system_assistant_id
from waypost.models import Assistant, now_iso
from waypost.runtime import Runtime
from waypost.storage.base import AssistantFilter, Page, Tx


def not_found(assistant_id: str) -> NotFound:
    return NotFound(f"Assistant {assistant_id} not found")


async def register_system_assistants(rt: Runtime) -> None:
    """One assistant per graph, id = uuid5(namespace, graph_id), the same on every start."""
    async with rt.storage.transaction() as tx:
        for graph_id, spec in rt.graphs.specs.items():
            assistant_id = system_assistant_id(graph_id)
            if await tx.get_assistant(assistant_id) is not None:
                continue
            now = now_iso()
            await tx.put_assistant(
                Assistant(
                    assistant_id=assistant_id,
                    graph_id=graph_id,
                    config={},
                    context={},
                    metadata={"created_by": "system"},
                    name=graph_id,
                    description=spec.description,
                    version=1,
                    created_at=now,
                    updated_at=now,
                ),
                new_version=True,
            )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def resolve(rt: Runtime, assistant_id: str, access: Access = OPEN) -> Assistant:
    """An assistant by UUID or by graph name (its system assistant); one the caller may not
    see is not found."""
    assistant_id = resolve_id(rt, assistant_id)
    async with rt.storage.autocommit() as tx:
        return found(await tx.get_assistant(assistant_id), assistant_id, access)


def resolve_id(rt: Runtime, assistant_id: str) -> str:
    """The id of the assistant a UUID or a graph name (its system assistant) names; reads nothing."""
    if _is_uuid(assistant_id):
        return assistant_id
    if assistant_id not in rt.graphs.specs:
        raise InvalidInput(
            f"Invalid assistant: {assistant_id!r}. Must be either a valid assistant UUID or one "
            f"of the registered graphs: {', '.join(rt.graphs.specs)}"
        )
    return system_assistant_id(assistant_id)


def found(assistant: Assistant | None, assistant_id: str, access: Access = OPEN) -> Assistant:
    """The assistant read for assistant_id; not found if there is none the caller may see."""
    if assistant is None or not access.admits(assistant.metadata):
        raise not_found(assistant_id)
    return assistant


async def get(rt: Runtime, assistant_id: str, access: Access = OPEN) -> Assistant:
    if not _is_uuid(assistant_id):
        raise InvalidInput(f"Invalid assistant ID {assistant_id!r}: must be a UUID")
    return await resolve(rt, assistant_id, access)


async def _visible(tx: Tx, assistant_id: str, access: Access) -> Assistant:
    return found(await tx.get_assistant(assistant_id), assistant_id, access)


async def create(
    rt: Runtime,
    *,
    graph_id: str,
    assistant_id: str | None,
    config: dict[str, Any] | None,
    context: dict[str, Any] | None,
    metadata: dict[str, Any] | None,
    if_exists: str,
    name: str | None,
    description: str | None,
) -> Assistant:
    rt.graphs.get(graph_id)
    now = now_iso()
    assistant = Assistant(
        assistant_id=assistant_id or str(uuid.uuid4()),
        graph_id=graph_id,
        config=config or {},
        context=context or {},
        metadata=metadata or {},
        name=name or "Untitled",
        description=description,
        version=1,
        created_at=now,
        updated_at=now,
    )
    async with rt.storage.transaction() as tx:
        existing = await tx.get_assistant(assistant.assistant_id)
        if existing is not None:
            if if_exists == "do_nothing":
                return existing
            raise Conflict(f"Assistant {assistant.assistant_id} already exists")
        await tx.put_assistant(assistant, new_version=True)
    return assistant


async def update(rt: Runtime, assistant_id: str, changes: dict[str, Any], access: Access = OPEN) -> Assistant:
    if changes.get("graph_id") is not None:
        rt.graphs.get(changes["graph_id"])
    async with rt.storage.transaction() as tx:
        current = await _visible(tx, assistant_id, access)
        latest = await tx.assistant_versions(assistant_id, None, Page(limit=1))
        fields = {k: v for k, v in changes.items() if v is not None}
        if "metadata" in fields:
            fields["metadata"] = {**current.metadata, **fields["metadata"]}
        updated = Assistant(
            **{
                **current.as_dict(),
                **fields,
                "version": (latest[0].version if latest else current.version) + 1,
                "updated_at": now_iso(),
            }
        )
        await tx.put_assistant(updated, new_version=True)
    return updated


async def delete(rt: Runtime, assistant_id: str, access: Access = OPEN) -> None:
    async with rt.storage.transaction() as tx:
        await _visible(tx, assistant_id, access)
        if not await tx.delete_assistant(assistant_id):
            raise not_found(assistant_id)


async def search(rt: Runtime, f: AssistantFilter, page: Page) -> tuple[list[Assistant], int]:
    async with rt.storage.transaction() as tx:
        return await tx.search_assistants(f, page)


async def versions(
    rt: Runtime, assistant_id: str, metadata: dict[str, Any] | None, page: Page, access: Access = OPEN
) -> list[Assistant]:
    async with rt.storage.transaction() as tx:
        await _visible(tx, assistant_id, access)
        return await tx.assistant_versions(assistant_id, metadata, page)


async def set_latest(rt: Runtime, assistant_id: str, version: int, access: Access = OPEN) -> Assistant:
    async with rt.storage.transaction() as tx:
        current = await _visible(tx, assistant_id, access)
        chosen = await tx.assistant_version(assistant_id, version)
        if chosen is None:
            raise NotFound(f"Assistant {assistant_id} has no version {version}")
        latest = Assistant(**{**chosen.as_dict(), "created_at": current.created_at, "updated_at": now_iso()})
        await tx.put_assistant(latest, new_version=False)
    return latest
