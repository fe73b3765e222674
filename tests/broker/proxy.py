"""A TCP proxy a test puts between one broker and Redis, to cut that broker off and let it
back: Redis itself stays up for everyone else, as when one process loses its network."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0  # chosen by the first open(), kept by the next ones
        self.upstream_ports: set[int] = set()  # local ports of its connections to Redis
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._serving: set[asyncio.Task[None]] = set()

    @classmethod
    def to(cls, redis_url: str) -> TcpProxy:
        parts = urlsplit(redis_url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 6379)

    def url(self, redis_url: str) -> str:
        """`redis_url` (credentials, database) through this proxy."""
        parts = urlsplit(redis_url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    async def open(self) -> None:
        """Accept connections, on the same port as before if it was open already."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Refuse new connections and cut the open ones (reset, as a failed network would)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await asyncio.gather(*self._serving, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._serving.add(task)
        self._writers.add(writer)
        pumps: list[asyncio.Task[None]] = []
        ends = [writer]
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            ends.append(up_writer)
            self._writers.add(up_writer)
            self.upstream_ports.add(up_writer.get_extra_info("sockname")[1])
            pumps = [asyncio.create_task(_pump(reader, up_writer)), asyncio.create_task(_pump(up_reader, writer))]
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        except OSError:
            pass
        finally:
            # Either side ending ends both: the broker sees its connection drop.
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            for end in ends:
                end.transport.abort()
                self._writers.discard(end)
            self._serving.discard(task)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.transport.abort()
