"""How Waypost talks to PostgreSQL through psycopg: connection settings, cursors, errors."""

from __future__ import annotations

import logging
import weakref
from typing import Any

import psycopg
from psycopg.abc import AdaptContext, Buffer
from psycopg.adapt import Loader
from psycopg.rows import DictRow, dict_row
from psycopg.types.datetime import TimestamptzLoader
from psycopg.types.json import set_json_loads

from waypost import serde
from waypost.errors import StorageError
from waypost.models import iso

log = logging.getLogger("waypost.storage")

Connection = psycopg.AsyncConnection[DictRow]
Cursor = psycopg.AsyncCursor[DictRow]

# What langgraph's AsyncPostgresSaver requires of the connections it is given (its own
# from_conn_string opens them so): autocommit, statements prepared at once, rows as dicts.
# The pool hands the same connections to Waypost's transactions, which open their own
# transaction blocks (conn.transaction()). Preparing Waypost's statements too saves about a
# third of a claim transaction's time (2.4 against 3.3 ms, measured here). The price: once
# another process adds a column to a table, a prepared `SELECT *` on it fails once per
# connection ("cached plan must not change result type"; psycopg then prepares it anew), so
# a migration that adds columns while older processes serve costs them a few failed requests.
CONNECTION_KWARGS: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}


class _IsoTimestamp(Loader):
    """timestamptz as the models carry it: an ISO string in UTC with six fractional digits
    (models.now_iso's format), whatever the session's time zone.

    The sessions print times in UTC (configure) and, by PostgreSQL's default DateStyle, as
    `2026-12-01 00:18:58.1234+00`: that form is rewritten as text, which costs a fifth of
    parsing it into a datetime and printing that (every row of threads and runs carries
    several times). Any other form (another DateStyle, a year past 9999) is parsed."""

    def __init__(self, oid: int, context: AdaptContext | None = None) -> None:
        super().__init__(oid, context)
        self._parse = TimestamptzLoader(oid, context)

    def load(self, data: Buffer) -> str:
        text = bytes(data).decode()
        if len(text) in _UTC_LENGTHS and text[10] == " " and text.endswith("+00") and text[4] == "-":
            if len(text) == 22:  # no fraction: PostgreSQL prints none when it is zero
                return f"{text[:10]}T{text[11:19]}.000000+00:00"
            if text[19] == ".":
                return f"{text[:10]}T{text[11:19]}.{text[20:-3]:0<6}+00:00"
        return iso(self._parse.load(data))


# `YYYY-MM-DD HH:MM:SS+00`, then with a fraction of one to six digits.
_UTC_LENGTHS = frozenset({22, *range(24, 30)})


async def configure(conn: Connection) -> None:
    """Every new connection: times in UTC for anything the database prints itself."""
    await conn.execute("SET TIME ZONE 'UTC'")


async def connect(url: str) -> Connection:
    """A connection of its own (not the pool's), set up like the pool's."""
    conn = await psycopg.AsyncConnection.connect(url, **CONNECTION_KWARGS)
    await configure(conn)
    return conn


def cursor(conn: Connection) -> Cursor:
    """The cursor for Waypost's own queries on this connection: timestamps as ISO strings,
    JSON decoded by serde (orjson). Set on the cursor, not the connection: langgraph's queries
    on the same pooled connections keep psycopg's defaults. Made once per connection and
    kept with it (setting up its loaders costs more than most queries' own Python)."""
    cur = _cursors.get(conn)
    if cur is None or cur.closed:
        cur = conn.cursor()
        cur.adapters.register_loader("timestamptz", _IsoTimestamp)
        set_json_loads(serde.loads, cur)
        _cursors[conn] = cur
    return cur


_cursors: weakref.WeakKeyDictionary[Connection, Cursor] = weakref.WeakKeyDictionary()


def storage_error(what: str, exc: BaseException) -> StorageError:
    """A driver error as the storage boundary reports it: the details to the operator's log,
    a generic StorageError for the client."""
    log.error("%s failed: %s", what, exc)
    return StorageError()
