"""The command line: `waypost serve` and `waypost migrate`. Sync at the edge; async inside."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys

from waypost import __version__
from waypost.errors import ConfigError, WaypostError
from waypost.settings import DEFAULT_CONFIG, DEFAULT_HOST, DEFAULT_PORT, Settings

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="waypost", description="Serve LangGraph graphs, built around humans in the loop."
    )
    parser.add_argument("--version", action="version", version=f"waypost {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", help=f"langgraph.json to serve [env WAYPOST_CONFIG; default ./{DEFAULT_CONFIG}]")
        p.add_argument(
            "--database-url",
            help="sqlite:///path [env WAYPOST_DATABASE_URL; default sqlite:///./.waypost/waypost.sqlite]",
        )

    serve = sub.add_parser("serve", help="serve the graphs over the LangGraph Agent Server API")
    common(serve)
    serve.add_argument("--host", help=f"interface to listen on [env WAYPOST_HOST; default {DEFAULT_HOST}]")
    serve.add_argument("--port", type=int, help=f"port to listen on [env WAYPOST_PORT; default {DEFAULT_PORT}]")
    serve.add_argument("--workers", type=int, help="runs executed at once [env WAYPOST_WORKERS; default 32]")
    serve.add_argument(
        "--drain-seconds",
        type=float,
        help="on SIGTERM, how long running runs may take to finish before they are handed back to the queue "
        "[env WAYPOST_DRAIN_SECONDS; default 10]",
    )

    migrate = sub.add_parser("migrate", help="apply the database schema migrations and exit")
    migrate.add_argument(
        "--database-url", help="sqlite:///path [env WAYPOST_DATABASE_URL; default sqlite:///./.waypost/waypost.sqlite]"
    )
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


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from waypost.app import create_app
    from waypost.graphs import load_graphs

    settings = Settings.build(
        config=args.config,
        host=args.host,
        port=args.port,
        database_url=args.database_url,
        workers=args.workers,
        drain_seconds=args.drain_seconds,
    )
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    graphs = load_graphs(settings.config_path)  # fail fast, before binding, on a broken config
    sock = _bind(settings.host, settings.port)  # before the database: a failed start creates nothing
    try:
        asyncio.run(_check_database(settings.database_url))
    except BaseException:
        sock.close()
        raise
    app = create_app(settings, graphs)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    print(
        f"waypost {__version__}: serving {', '.join(graphs.specs)} on http://{settings.host}:{settings.port}",
        flush=True,
    )
    server.run(sockets=[sock])  # on uvicorn's loop (uvloop when installed)
    if not server.started:
        return _fail("startup failed; the log above says why")
    return 0


async def _check_database(database_url: str) -> None:
    """Open (and migrate) the database once before serving, so a bad URL or a database
    another process holds is one clear line, not a failed app startup."""
    from waypost.storage import open_storage

    async with open_storage(database_url):
        pass


def _migrate(args: argparse.Namespace) -> int:
    from waypost.storage import open_storage

    settings = Settings.build(config="-", database_url=args.database_url)

    async def run() -> list[str]:
        async with open_storage(settings.database_url) as storage:
            return await storage.migrate()

    applied = asyncio.run(run())
    print(f"waypost: database at {settings.database_url} is up to date")
    return 0 if applied is not None else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        return _migrate(args)
    except WaypostError as exc:
        return _fail(exc.message)
    except KeyboardInterrupt:
        return 130
