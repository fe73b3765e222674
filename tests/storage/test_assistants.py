"""Assistants and their versions, through the Tx interface."""

from __future__ import annotations

from tests.storage import factories as f
from waypost.models import Assistant
from waypost.storage.base import AssistantFilter, Page, Storage


async def _put(storage: Storage, *items: Assistant, new_version: bool = True) -> None:
    async with storage.transaction() as tx:
        for a in items:
            await tx.put_assistant(a, new_version=new_version)


async def _search(
    storage: Storage, flt: AssistantFilter | None = None, page: Page | None = None
) -> tuple[list[str], int]:
    async with storage.transaction() as tx:
        found, total = await tx.search_assistants(flt or AssistantFilter(), page or Page(limit=100))
    return [a.assistant_id for a in found], total


async def test_put_get_roundtrip(storage: Storage) -> None:
    a = f.assistant(
        name="Reviewer",
        description="reviews drafts",
        graph_id="agent",
        config={"configurable": {"model": "m", "depth": 2}, "tags": ["x"]},
        context={"lang": "en", "nested": {"a": [1, 2, {"b": None}]}},
        metadata={"owner": "ops", "n": 3, "flag": True, "deep": {"k": ["v"]}},
    )
    await _put(storage, a)
    async with storage.transaction() as tx:
        assert await tx.get_assistant(a.assistant_id) == a
        assert await tx.get_assistant(f.new_id()) is None


async def test_put_replaces_existing(storage: Storage) -> None:
    a = f.assistant(name="one", metadata={"k": 1}, at=1)
    await _put(storage, a)
    changed = a.__class__(
        **{**a.as_dict(), "name": "two", "metadata": {"k": 2}, "version": 2, "updated_at": f.ts(5), "description": "d"}
    )
    await _put(storage, changed)
    async with storage.transaction() as tx:
        got = await tx.get_assistant(a.assistant_id)
        _, total = await tx.search_assistants(AssistantFilter(), Page())
    assert got is not None
    assert (got.name, got.metadata, got.version, got.description) == ("two", {"k": 2}, 2, "d")
    assert got.updated_at == f.ts(5)
    assert got.created_at == a.created_at  # an update never rewrites creation time
    assert total == 1


async def test_versions(storage: Storage) -> None:
    v1 = f.assistant(name="v1", metadata={"stage": "draft"}, config={"c": 1}, at=1)
    await _put(storage, v1)
    v2 = Assistant(
        **{
            **v1.as_dict(),
            "name": "v2",
            "metadata": {"stage": "live"},
            "config": {"c": 2},
            "version": 2,
            "updated_at": f.ts(2),
        }
    )
    await _put(storage, v2)
    # new_version=False changes the assistant row but records no version
    v2b = Assistant(**{**v2.as_dict(), "name": "v2 renamed", "updated_at": f.ts(3)})
    await _put(storage, v2b, new_version=False)

    async with storage.transaction() as tx:
        versions = await tx.assistant_versions(v1.assistant_id, None, Page(limit=10))
        assert [v.version for v in versions] == [2, 1]  # newest first
        assert [v.name for v in versions] == ["v2", "v1"]
        assert [v.config for v in versions] == [{"c": 2}, {"c": 1}]
        assert all(v.assistant_id == v1.assistant_id and v.graph_id == "agent" for v in versions)

        old = await tx.assistant_version(v1.assistant_id, 1)
        assert old is not None
        assert (old.name, old.metadata, old.config, old.version) == ("v1", {"stage": "draft"}, {"c": 1}, 1)
        assert old.updated_at == f.ts(1)
        assert await tx.assistant_version(v1.assistant_id, 3) is None
        assert await tx.assistant_version(f.new_id(), 1) is None

        # metadata filter on versions, then paging
        live = await tx.assistant_versions(v1.assistant_id, {"stage": "live"}, Page(limit=10))
        assert [v.version for v in live] == [2]
        assert await tx.assistant_versions(v1.assistant_id, {"stage": "gone"}, Page(limit=10)) == []
        assert [v.version for v in await tx.assistant_versions(v1.assistant_id, None, Page(limit=1, offset=1))] == [1]
        assert await tx.assistant_versions(v1.assistant_id, None, Page(limit=10, offset=2)) == []

        current = await tx.get_assistant(v1.assistant_id)
        assert current is not None and current.name == "v2 renamed"


async def test_delete_removes_assistant_and_versions(storage: Storage) -> None:
    a = f.assistant()
    other = f.assistant()
    await _put(storage, a, other)
    await _put(storage, Assistant(**{**a.as_dict(), "version": 2}))
    async with storage.transaction() as tx:
        assert await tx.delete_assistant(a.assistant_id) is True
    async with storage.transaction() as tx:
        assert await tx.get_assistant(a.assistant_id) is None
        assert await tx.assistant_versions(a.assistant_id, None, Page()) == []
        assert await tx.assistant_version(a.assistant_id, 1) is None
        assert await tx.delete_assistant(a.assistant_id) is False
        assert await tx.get_assistant(other.assistant_id) == other
        assert len(await tx.assistant_versions(other.assistant_id, None, Page())) == 1


# --- search ---------------------------------------------------------------------------------


async def _search_fixture(storage: Storage) -> dict[str, str]:
    rows = {
        "a1": f.assistant(
            graph_id="agent", name="Alpha Bot", at=1, metadata={"team": "red", "cfg": {"depth": 2, "tags": ["a", "b"]}}
        ),
        "a2": f.assistant(graph_id="agent", name="beta", at=2, metadata={"team": "blue", "cfg": {"depth": 3}}),
        "a3": f.assistant(graph_id="other", name="my ALPHA two", at=3, metadata={"team": "red", "level": 1}),
        "a4": f.assistant(graph_id="other", name="gamma", at=4, metadata={}),
    }
    await _put(storage, *rows.values())
    return {k: v.assistant_id for k, v in rows.items()}


async def test_search_all_default_order_and_total(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    found, total = await _search(storage)
    assert total == 4
    assert found == [ids["a4"], ids["a3"], ids["a2"], ids["a1"]]  # created_at, newest first


async def test_search_by_graph_id(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    assert await _search(storage, AssistantFilter(graph_id="other")) == ([ids["a4"], ids["a3"]], 2)
    assert await _search(storage, AssistantFilter(graph_id="nope")) == ([], 0)


async def test_search_by_name_case_insensitive_substring(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    assert await _search(storage, AssistantFilter(name="alpha")) == ([ids["a3"], ids["a1"]], 2)
    assert await _search(storage, AssistantFilter(name="ALPHA")) == ([ids["a3"], ids["a1"]], 2)
    assert await _search(storage, AssistantFilter(name="PHA t")) == ([ids["a3"]], 1)
    assert await _search(storage, AssistantFilter(name="et")) == ([ids["a2"]], 1)
    assert await _search(storage, AssistantFilter(name="delta")) == ([], 0)


async def test_search_by_metadata_exact_per_key(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    by = lambda md: _search(storage, AssistantFilter(metadata=md))  # noqa: E731
    assert await by({"team": "red"}) == ([ids["a3"], ids["a1"]], 2)
    assert await by({"team": "red", "level": 1}) == ([ids["a3"]], 1)  # every key must match
    assert await by({"team": "RED"}) == ([], 0)  # values are exact, not case-folded
    assert await by({"level": "1"}) == ([], 0)  # and typed: "1" is not 1
    assert await by({"missing": "x"}) == ([], 0)
    assert await by({}) == ([ids["a4"], ids["a3"], ids["a2"], ids["a1"]], 4)


async def test_search_by_nested_metadata_value(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    by = lambda md: _search(storage, AssistantFilter(metadata=md))  # noqa: E731
    assert await by({"cfg": {"depth": 2, "tags": ["a", "b"]}}) == ([ids["a1"]], 1)
    assert await by({"cfg": {"depth": 3}}) == ([ids["a2"]], 1)
    # a nested value matches as a whole: a part of it is not a match
    assert await by({"cfg": {"depth": 2}}) == ([], 0)
    assert await by({"cfg": {"depth": 2, "tags": ["b", "a"]}}) == ([], 0)  # list order counts


async def test_search_filters_combine(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    flt = AssistantFilter(graph_id="agent", name="a", metadata={"team": "red"})
    assert await _search(storage, flt) == ([ids["a1"]], 1)
    flt = AssistantFilter(graph_id="other", metadata={"cfg": {"depth": 3}})
    assert await _search(storage, flt) == ([], 0)


async def test_search_sort(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    by_name = await _search(storage, page=Page(limit=10, sort_by="name", sort_order="asc"))
    assert by_name == ([ids["a1"], ids["a2"], ids["a4"], ids["a3"]], 4)
    by_name_desc = await _search(storage, page=Page(limit=10, sort_by="name", sort_order="desc"))
    assert by_name_desc == ([ids["a3"], ids["a4"], ids["a2"], ids["a1"]], 4)
    by_created = await _search(storage, page=Page(limit=10, sort_by="created_at", sort_order="asc"))
    assert by_created == ([ids["a1"], ids["a2"], ids["a3"], ids["a4"]], 4)
    by_graph, _ = await _search(storage, page=Page(limit=10, sort_by="graph_id", sort_order="asc"))
    assert set(by_graph[:2]) == {ids["a1"], ids["a2"]} and set(by_graph[2:]) == {ids["a3"], ids["a4"]}
    # an unknown sort column falls back to the default order instead of reaching the SQL
    weird = await _search(storage, page=Page(limit=10, sort_by="name; DROP TABLE assistants", sort_order="asc"))
    assert weird == ([ids["a1"], ids["a2"], ids["a3"], ids["a4"]], 4)
    assert (await _search(storage))[1] == 4


async def test_search_limit_offset_total(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    order = [ids["a4"], ids["a3"], ids["a2"], ids["a1"]]
    assert await _search(storage, page=Page(limit=2, offset=0)) == (order[0:2], 4)
    assert await _search(storage, page=Page(limit=2, offset=1)) == (order[1:3], 4)
    assert await _search(storage, page=Page(limit=2, offset=3)) == (order[3:], 4)
    assert await _search(storage, page=Page(limit=2, offset=4)) == ([], 4)
    assert await _search(storage, page=Page(limit=2, offset=50)) == ([], 4)
    red = AssistantFilter(metadata={"team": "red"})
    assert await _search(storage, red, Page(limit=1, offset=1)) == ([ids["a1"]], 2)
    assert await _search(storage, red, Page(limit=1, offset=5)) == ([], 2)


async def test_search_by_name_folds_case_beyond_ascii(storage: Storage) -> None:
    a = f.assistant(name="Ärger Überprüfung")
    async with storage.transaction() as tx:
        await tx.put_assistant(a, new_version=True)
    assert await _search(storage, AssistantFilter(name="äRGER")) == ([a.assistant_id], 1)
    assert await _search(storage, AssistantFilter(name="ÜBERPRÜF")) == ([a.assistant_id], 1)
