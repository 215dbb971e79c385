"""Counting how many requests are inside a server at once, for the connection-pool tests.

`Concurrency` counts the requests inside (received, not yet answered) and the most at once.
With `hold_until=n` every request waits until n are inside at once, and `settle` seconds more,
then all go and later ones are not held. A client allowed n at once so reaches exactly n, and
one allowed fewer never does (its requests go after `patience`; its `most` stays below n).
`settle` is the time a client allowed more than n has to show it: requests arriving then are
held and counted too. No outcome depends on it for a client that keeps its limit: a slow
machine can only hide an excess, never make a correct client fail.

`ConcurrencyServer` is an HTTP/1.1 server on 127.0.0.1 and a free port, on an event loop in a
thread of its own, answering every request 200 `{}` (keep-alive) with a Concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

PATIENCE = 30.0


class Concurrency:
    def __init__(
        self, hold_until: int = 0, patience: float = PATIENCE, settle: float = 0.0
    ) -> None:
        self.hold_until = hold_until
        self.patience = patience
        self.settle = settle
        self._releasing = False
        self.inside = 0
        self.most = 0
        self.served = 0
        self._all_in = asyncio.Event()  # bound to the loop that first waits on it

    async def admit(self) -> None:
        """A request arrived: count it, then hold it as `hold_until` says."""
        self.inside += 1
        self.most = max(self.most, self.inside)
        if self.inside >= self.hold_until and not self._releasing:
            self._releasing = True
            asyncio.get_running_loop().call_later(self.settle, self._all_in.set)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_in.wait(), self.patience)

    def leave(self) -> None:
        """The request is answered (called before the answer is written, with no await in
        between, so a client can never see the answer while its request is still counted)."""
        self.inside -= 1
        self.served += 1


class ConcurrencyServer:
    def __init__(self, concurrency: Concurrency) -> None:
        self.concurrency = concurrency
        self.loop = asyncio.new_event_loop()
        self._connections: set[asyncio.Task[None]] = set()
        # 2048 waiting connections: a fan-out of hundreds must not overflow the accept queue.
        self._server = self.loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=2048)
        )
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="concurrency-server", daemon=True
        )
        self._thread.start()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(_content_length(head))
                await self.concurrency.admit()
                self.concurrency.leave()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\n\r\n{}"
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed the connection
        finally:
            writer.close()
            self._connections.discard(task)

    def stop(self) -> None:
        async def shut() -> None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(shut(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0
