"""PostgreSQL for the storage tests: an empty schema per test, on the database named by
WAYPOST_TEST_DATABASE_URL.

Each schema is `wp_<random>`, reached through the URL's `options=-c search_path=<schema>`, so
Waypost's tables and langgraph's (its saver creates them unqualified) both land there. Every
schema made is dropped by `drop_schemas()`.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ENV = "WAYPOST_TEST_DATABASE_URL"
HOW = f"{ENV}=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m pytest tests/storage"

_made: list[str] = []


def missing() -> str | None:
    """Why the PostgreSQL cases cannot run here, or None when they can."""
    if os.environ.get(ENV):
        return None
    return f"PostgreSQL storage cases need a database: run them with {HOW}"


def base_url() -> str:
    return os.environ[ENV]


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    options = " ".join([*(v for k, v in query if k == "options"), f"-c search_path={schema}"])
    query = [(k, v) for k, v in query if k != "options"] + [("options", options)]
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))  # libpq reads no "+" as a space


def new_schema(label: str = "") -> str:
    """The URL of a new, empty schema (dropped by drop_schemas)."""
    name = f"wp_{uuid.uuid4().hex[:12]}{'_' + label if label else ''}"
    with psycopg.connect(base_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    _made.append(name)
    return with_search_path(base_url(), name)


def drop_schemas() -> None:
    if not _made:
        return
    with psycopg.connect(base_url(), autocommit=True) as conn:
        while _made:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(_made.pop())))


def schema_of(url: str) -> str:
    """The schema a URL made by new_schema points at."""
    options = dict(parse_qsl(urlsplit(url).query))["options"]
    return options.rsplit("search_path=", 1)[1]
