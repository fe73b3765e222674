"""The command line: `waypost serve`, `waypost worker` and `waypost migrate`. Sync at the edge;
async inside."""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from waypost import __version__
from waypost.errors import ConfigError, WaypostError
from waypost.logs import configure as configure_logs
from waypost.settings import DEFAULT_CONFIG, DEFAULT_HOST, DEFAULT_PORT, LOG_FORMATS, Settings

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="waypost", description="Serve LangGraph graphs, built around humans in the loop."
    )
    parser.add_argument("--version", action="version", version=f"waypost {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def database(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--database-url",
            help="sqlite:///path or postgresql://... [env WAYPOST_DATABASE_URL; "
            "default sqlite:///./.waypost/waypost.sqlite, relative to the working directory]",
        )

    def runs(p: argparse.ArgumentParser) -> None:
        """What a process that executes runs (or serves them) is told."""
        p.add_argument("--config", help=f"langgraph.json to serve [env WAYPOST_CONFIG; default ./{DEFAULT_CONFIG}]")
        database(p)
        p.add_argument(
            "--redis-url",
            help="redis://... carrying live streams and cancel signals between processes (scaled mode) "
            "[env WAYPOST_REDIS_URL; default: in memory, one process]",
        )
        p.add_argument(
            "--redis-prefix",
            help="prefix of Waypost's Redis keys and channels [env WAYPOST_REDIS_PREFIX; default waypost:]",
        )
        p.add_argument("--workers", type=int, help="runs executed at once [env WAYPOST_WORKERS; default 32]")
        p.add_argument(
            "--drain-seconds",
            type=float,
            help="on SIGTERM, how long running runs may take to finish before they are handed back to the queue "
            "[env WAYPOST_DRAIN_SECONDS; default 10]",
        )
        p.add_argument(
            "--lease-seconds",
            type=float,
            help="a run's lease, renewed every third of it; a dead process's runs are taken over once it lapses "
            "[env WAYPOST_LEASE_SECONDS; default 6]",
        )
        p.add_argument(
            "--db-pool-size", type=int, help="PostgreSQL connections per process [env WAYPOST_DB_POOL_SIZE; default 20]"
        )
        p.add_argument("--log-format", choices=LOG_FORMATS, help="log lines as text or JSON [env WAYPOST_LOG_FORMAT]")
        p.add_argument(
            "--public-url",
            help="where people reach this server; links in notifications point there "
            "[env WAYPOST_PUBLIC_URL; default http://HOST:PORT]",
        )

    serve = sub.add_parser("serve", help="serve the graphs over the LangGraph Agent Server API")
    runs(serve)
    serve.add_argument("--host", help=f"interface to listen on [env WAYPOST_HOST; default {DEFAULT_HOST}]")
    serve.add_argument("--port", type=int, help=f"port to listen on [env WAYPOST_PORT; default {DEFAULT_PORT}]")
    serve.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help="require this key in the x-api-key header (repeat for several; a file path reads one key per line) "
        "[env WAYPOST_API_KEYS, comma-separated or a file path]",
    )
    serve.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        default=None,
        help="serve a non-loopback --host without any authentication, on purpose",
    )
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="serve the API only; runs are executed by `waypost worker` processes (PostgreSQL only)",
    )

    worker = sub.add_parser("worker", help="execute runs only, no HTTP (PostgreSQL only)")
    runs(worker)

    migrate = sub.add_parser("migrate", help="apply the database schema migrations and exit")
    database(migrate)
    return parser


def _fail(message: str) -> int:
    print(f"waypost: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. Without it a keep-alive response written in two
    # pieces waits for the client's delayed ACK: ~40 ms per request (measured).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _settings(args: argparse.Namespace, **mode: bool) -> Settings:
    flags = {
        name: getattr(args, key, None)
        for name, key in (
            ("config_path", "config"),
            ("host", "host"),
            ("port", "port"),
            ("database_url", "database_url"),
            ("redis_url", "redis_url"),
            ("redis_prefix", "redis_prefix"),
            ("workers", "workers"),
            ("drain_seconds", "drain_seconds"),
            ("lease_seconds", "lease_seconds"),
            ("db_pool_size", "db_pool_size"),
            ("log_format", "log_format"),
            ("api_keys", "api_keys"),
            ("allow_unauthenticated", "allow_unauthenticated"),
            ("public_url", "public_url"),
        )
    }
    settings = Settings.build(**flags, **mode)
    if not settings.scaled and not (settings.run_api and settings.run_worker):
        raise ConfigError(
            "API-only and worker-only processes share a PostgreSQL database (--database-url postgresql://...); "
            "with SQLite, `waypost serve` runs both"
        )
    configure_logs(settings.log_level, settings.log_format)
    return settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from waypost.app import create_app
    from waypost.project import load_project

    settings = _settings(args, run_worker=not args.no_worker)
    project = load_project(settings)  # fail fast, before binding, on a broken config
    _report(project.report())
    graphs = project.graphs
    sock = _bind(settings.host, settings.port)  # before the database: a failed start creates nothing
    try:
        asyncio.run(_check_database(settings.database_url))
    except BaseException:
        sock.close()
        raise
    app = create_app(settings, project)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    role = "" if settings.run_worker else " (API only)"
    print(
        f"waypost {__version__}: serving {', '.join(graphs.specs)} on http://{settings.host}:{settings.port}{role}",
        flush=True,
    )
    server.run(sockets=[sock])  # on uvicorn's loop (uvloop when installed)
    if not server.started:
        return _fail("startup failed; the log above says why")
    return 0


def _work(args: argparse.Namespace) -> int:
    from waypost.project import load_project
    from waypost.services import services

    settings = _settings(args, run_api=False)
    project = load_project(settings)
    _report(project.report())
    graphs = project.graphs

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with services(settings, project):
            print(f"waypost {__version__}: worker executing runs of {', '.join(graphs.specs)}", flush=True)
            await stop.wait()  # then the services close: the worker drains

    _run_loop(run())
    return 0


def _report(lines: list[str]) -> None:
    """What the config asks for that Waypost does not do, said at start (never ignored)."""
    for line in lines:
        print(f"waypost: note: {line}", file=sys.stderr, flush=True)


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed, as uvicorn does for `serve`."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _check_database(database_url: str) -> None:
    """Open (and migrate) the database once before serving, so a bad URL or a database
    another process holds is one clear line, not a failed app startup."""
    from waypost.storage import open_storage

    async with open_storage(database_url):
        pass


def _without_password(url: str) -> str:
    """A database URL as the terminal (and a deploy log) may show it: its password hidden."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))


def _migrate(args: argparse.Namespace) -> int:
    from waypost.storage import open_storage

    settings = Settings.build(database_url=args.database_url)

    async def run() -> list[str]:
        async with open_storage(settings.database_url) as storage:
            return storage.applied_on_open + await storage.migrate()

    applied = asyncio.run(run())
    where = _without_password(settings.database_url)
    if applied:
        print(f"waypost: applied {', '.join(applied)} to the database at {where}")
    print(f"waypost: database at {where} is up to date")
    return 0 if applied is not None else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "worker":
            return _work(args)
        return _migrate(args)
    except WaypostError as exc:
        return _fail(exc.message)
    except KeyboardInterrupt:
        return 130
