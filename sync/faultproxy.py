"""A TCP fault-injection proxy on loopback: cuts the link between a hall's sync agent and central.

This is test and benchmark tooling, not production code. It lives in the ``sync`` package only
so that ``tests/`` and ``bench/`` can both import it; it uses nothing but the standard library
and imports nothing of ours. Nothing in the running hall or central imports it.

Point the agent at ``proxy.url`` instead of central and flip the mode from the test or the
soak loop while traffic flows::

    with FaultProxy("127.0.0.1", central_port, seed=7) as proxy:
        agent = make_agent(central_url=proxy.url)
        proxy.set_mode(Fault.RESET)    # central applies the batch, the agent never hears
        ...
        proxy.set_mode(Fault.PASS)

When a mode takes effect: a new connection takes the mode current when it is accepted; a
connection in ``PASS`` looks at the mode again each time the client sends bytes, so a
keep-alive connection sitting in httpx's pool is not a way around a fault. A connection held
open by ``STALL`` or ``BLACKHOLE_RESPONSE`` is closed when the mode changes, because bytes
it discarded cannot be put back into the stream.

How an httpx client sees each mode (Linux loopback, httpx 0.28 / httpcore 1.0, observed):

* ``DROP``: the kernel completes the TCP handshake before the proxy can refuse anything, so
  it is never a ``ConnectError``. On a fresh connection: ``ReadError`` (connection reset by
  peer). On a pooled one, mostly ``RemoteProtocolError`` (server disconnected without sending
  a response): the reset lands while httpcore is still writing, httpcore swallows write
  errors to go and read a response, and the read then sees end of stream.
* ``STALL`` and ``BLACKHOLE_RESPONSE``: ``ReadTimeout`` after the client's own read timeout.
* ``RESET``: ``ReadError`` (connection reset by peer), after central has handled the request.
* ``TRUNCATE``: ``RemoteProtocolError``: "server disconnected without sending a response"
  when the cut falls inside the headers (the default, random cut usually does), "peer closed
  connection without sending complete message body" when it falls inside a body with a
  ``Content-Length``.

So the exception type never tells the agent whether central got its request: under ``DROP``
and ``STALL`` it did not, under ``RESET``, ``TRUNCATE`` and ``BLACKHOLE_RESPONSE`` it did
(and may have applied it), and all of them surface as the same few exceptions.
"""

from __future__ import annotations

import contextlib
import enum
import random
import selectors
import socket
import struct
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

__all__ = ["FAILURES", "Fault", "FaultProxy", "ProxyStats", "random_fault"]

# How long a thread waits in select before looking at the mode and the stop flag again: the
# bound on how late stop() and a mode change are noticed, and the only wake-up when idle.
_TICK = 0.1
_CHUNK = 64 * 1024
# Bytes buffered per direction before the proxy stops reading the sender: backpressure, so a
# slow reader cannot make the proxy hold a whole download in memory.
_BUFFER_LIMIT = 1 << 20
_CONNECT_TIMEOUT = 5.0
_STOP_GRACE = 1.0
# SO_LINGER on with a zero timeout: close() then sends RST and discards unsent data.
_LINGER_RESET = struct.pack("ii", 1, 0)


class Fault(enum.StrEnum):
    """What the proxy does to the link; the value is the lower-case name (``Fault("stall")``)."""

    PASS = enum.auto()
    """Forward both directions."""
    DROP = enum.auto()
    """Accept, then reset the client at once; the target is never contacted."""
    STALL = enum.auto()
    """Accept, read and discard, never answer; the target is never contacted."""
    RESET = enum.auto()
    """Forward the request; when the first response bytes arrive, reset the client."""
    TRUNCATE = enum.auto()
    """Forward the request and only the first bytes of the response, then close cleanly."""
    BLACKHOLE_RESPONSE = enum.auto()
    """Forward the request, discard the whole response, hold the client open."""


FAILURES: tuple[Fault, ...] = tuple(fault for fault in Fault if fault is not Fault.PASS)

# Modes that keep the client connected while it gets nothing back.
_HOLDING = frozenset({Fault.STALL, Fault.BLACKHOLE_RESPONSE})


def random_fault(rng: random.Random, among: Sequence[Fault] = FAILURES) -> Fault:
    """One failure mode for a soak loop; pass ``among`` to leave out, say, the slow ones."""
    if not among:
        raise ValueError("random_fault needs at least one fault to choose from")
    return rng.choice(among)


@dataclass(frozen=True)
class ProxyStats:
    """A consistent snapshot of the counters.

    ``hits`` counts, per mode, the connections it took effect on (at accept, or when a
    keep-alive connection in ``PASS`` sent bytes under another mode). ``bytes_up`` and
    ``bytes_down`` are what reached the target and the client, not what was discarded; they
    are counted just after each send, so a peer may hold bytes an instant before they count.
    """

    connections: int
    open_connections: int
    bytes_up: int
    bytes_down: int
    hits: Mapping[Fault, int]
    cuts: int


def _close(sock: socket.socket, *, reset: bool) -> None:
    if reset:
        # The socket may already be dead (peer reset it); close() below still frees it.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    sock.close()


def _recv(sock: socket.socket) -> bytes | None:
    """Bytes, ``b""`` at end of stream, or None when readiness was spurious."""
    try:
        return sock.recv(_CHUNK)
    except (BlockingIOError, InterruptedError):
        return None


def _send(sock: socket.socket, data: bytearray) -> int:
    try:
        return sock.send(data)
    except (BlockingIOError, InterruptedError):
        return 0


class _Link:
    """A client connection and, once dialled, its upstream.

    Whichever thread closes it first wins: the relay thread when the exchange ends, or
    cut_all()/stop() from outside. Every socket call on these sockets happens under ``lock``
    and the sockets are non-blocking, so an outside close waits at most for one send or recv.
    """

    def __init__(self, client: socket.socket) -> None:
        self.client = client
        self.upstream: socket.socket | None = None
        self.lock = threading.Lock()
        self.closed = False

    def attach(self, upstream: socket.socket) -> bool:
        with self.lock:
            if self.closed:
                return False
            self.upstream = upstream
            return True

    def close(self, *, reset: bool) -> bool:
        with self.lock:
            return self.close_locked(reset=reset)

    def close_locked(self, *, reset: bool) -> bool:
        if self.closed:
            return False
        self.closed = True
        _close(self.client, reset=reset)
        if self.upstream is not None:
            _close(self.upstream, reset=reset)
        return True


class FaultProxy:
    """Forwards ``listen_host:listen_port`` to ``target_host:target_port``, faults on demand.

    ``seed`` makes the random truncation lengths repeatable. Thread-safe: set_mode(),
    cut_all() and the counters may be used from any thread while traffic flows.
    """

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        seed: int | None = None,
    ) -> None:
        self._target = (target_host, target_port)
        self._listen = (listen_host, listen_port)
        # Not for security: only decides where TRUNCATE cuts, repeatably under a seed.
        self._rng = random.Random(seed)  # noqa: S311
        self._lock = threading.Lock()
        self._mode = Fault.PASS
        self._truncate_at: int | None = None
        self._links: set[_Link] = set()
        self._threads: set[threading.Thread] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._stopping = threading.Event()
        self._started = False
        self._port: int | None = None
        self._connections = 0
        self._bytes_up = 0
        self._bytes_down = 0
        self._hits: dict[Fault, int] = dict.fromkeys(Fault, 0)
        self._cuts = 0

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Bind and start accepting; a second call does nothing. Cannot restart after stop()."""
        with self._lock:
            if self._started:
                if self._stopping.is_set():
                    raise RuntimeError("a stopped FaultProxy cannot be started again")
                return
            family = socket.AF_INET6 if ":" in self._listen[0] else socket.AF_INET
            listener = socket.create_server(self._listen, family=family, backlog=128)
            listener.setblocking(False)
            self._listener = listener
            self._port = listener.getsockname()[1]
            self._acceptor = threading.Thread(
                target=self._accept_loop,
                args=(listener,),
                name=f"faultproxy-{self._port}-accept",
                daemon=True,
            )
            self._started = True
        self._acceptor.start()

    def stop(self) -> None:
        """Close the listener and every live connection; returns within about a second."""
        with self._lock:
            if not self._started or self._stopping.is_set():
                # Unstarted proxies are marked stopped too, so start() after stop() fails alike.
                self._started = True
                self._stopping.set()
                return
            self._stopping.set()
            acceptor, listener = self._acceptor, self._listener
        deadline = time.monotonic() + _STOP_GRACE
        if acceptor is not None:
            acceptor.join(_STOP_GRACE)
        if listener is not None:
            listener.close()
        with self._lock:
            links, threads = list(self._links), list(self._threads)
        for link in links:
            link.close(reset=False)
        # Relay threads notice within a tick; one stuck dialling a dead target is a daemon
        # and is left behind rather than holding up the caller.
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the proxy listens on (chosen by the OS when ``listen_port`` is 0)."""
        if self._port is None:
            raise RuntimeError("FaultProxy has no port until start()")
        return self._port

    @property
    def url(self) -> str:
        host = self._listen[0]
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    # -- control --------------------------------------------------------------------------

    @property
    def mode(self) -> Fault:
        with self._lock:
            return self._mode

    def set_mode(self, mode: Fault, *, truncate_at: int | None = None) -> None:
        """Switch the fault; ``truncate_at`` fixes how many response bytes TRUNCATE lets through.

        Without ``truncate_at``, TRUNCATE passes a random 1 to half of the first response chunk
        the proxy reads (often only part of the headers).
        """
        if truncate_at is not None:
            if mode is not Fault.TRUNCATE:
                raise ValueError("truncate_at only applies to Fault.TRUNCATE")
            if truncate_at < 1:
                raise ValueError("truncate_at must be at least 1 byte")
        with self._lock:
            self._mode = mode
            self._truncate_at = truncate_at

    def cut_all(self) -> int:
        """Reset every open connection, client and target side; the mode stays. Returns how many."""
        with self._lock:
            links = list(self._links)
        cut = sum(link.close(reset=True) for link in links)
        with self._lock:
            self._cuts += cut
        return cut

    # -- counters -------------------------------------------------------------------------

    def stats(self) -> ProxyStats:
        with self._lock:
            return ProxyStats(
                connections=self._connections,
                open_connections=len(self._links),
                bytes_up=self._bytes_up,
                bytes_down=self._bytes_down,
                hits=dict(self._hits),
                cuts=self._cuts,
            )

    @property
    def connections(self) -> int:
        """Connections accepted since start()."""
        with self._lock:
            return self._connections

    @property
    def bytes_up(self) -> int:
        with self._lock:
            return self._bytes_up

    @property
    def bytes_down(self) -> int:
        with self._lock:
            return self._bytes_down

    @property
    def hits(self) -> dict[Fault, int]:
        with self._lock:
            return dict(self._hits)

    # -- internals ------------------------------------------------------------------------

    def _take_mode(self, previous: Fault | None) -> Fault:
        """The current mode, counting a hit when it differs from what the connection had."""
        with self._lock:
            mode = self._mode
            if mode is not previous:
                self._hits[mode] += 1
            return mode

    def _truncate_length(self, first_chunk: int) -> int:
        with self._lock:
            if self._truncate_at is not None:
                return self._truncate_at
            return self._rng.randint(1, max(1, first_chunk // 2))

    def _count(self, *, up: int = 0, down: int = 0) -> None:
        with self._lock:
            self._bytes_up += up
            self._bytes_down += down

    def _accept_loop(self, listener: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            while not self._stopping.is_set():
                if not selector.select(_TICK):
                    continue
                try:
                    client, _ = listener.accept()
                except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                    continue
                except OSError:
                    # Out of file descriptors, most likely: the listener stays readable, so
                    # wait a tick instead of spinning on it.
                    self._stopping.wait(_TICK)
                    continue
                self._admit(client)

    def _admit(self, client: socket.socket) -> None:
        client.setblocking(False)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = _Link(client)
        with self._lock:
            self._connections += 1
            self._links.add(link)
            thread = threading.Thread(
                target=self._serve,
                args=(link,),
                name=f"faultproxy-{self._port}-conn-{self._connections}",
                daemon=True,
            )
            self._threads.add(thread)
        thread.start()

    def _serve(self, link: _Link) -> None:
        try:
            mode = self._take_mode(None)
            if mode is Fault.DROP:
                link.close(reset=True)
                return
            if mode is not Fault.STALL:
                try:
                    upstream = socket.create_connection(self._target, timeout=_CONNECT_TIMEOUT)
                except OSError:
                    # To the client an unreachable target is just another dead link.
                    link.close(reset=True)
                    return
                upstream.setblocking(False)
                upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if not link.attach(upstream):
                    upstream.close()
                    return
            _Relay(self, link, mode).run()
        finally:
            link.close(reset=False)
            with self._lock:
                self._links.discard(link)
                self._threads.discard(threading.current_thread())


class _Relay:
    """Moves bytes for one link on its own thread, applying the link's mode."""

    def __init__(self, proxy: FaultProxy, link: _Link, mode: Fault) -> None:
        self.proxy = proxy
        self.link = link
        self.mode = mode
        self.up = bytearray()  # client -> target, not yet sent
        self.down = bytearray()  # target -> client, not yet sent
        self.client_eof = False
        self.upstream_eof = False
        self.upstream_shut = False
        self.truncate_left: int | None = None
        self.watched: dict[socket.socket, int] = {}

    def run(self) -> None:
        link = self.link
        with selectors.DefaultSelector() as selector:
            while True:
                with link.lock:
                    if link.closed or self.proxy._stopping.is_set() or self._finished():
                        return
                    if self.mode in _HOLDING and self.proxy.mode is not self.mode:
                        link.close_locked(reset=False)
                        return
                    self._watch(selector)
                # Only the wait is outside the lock, so cut_all() can close the sockets from
                # another thread; epoll simply forgets a closed socket and the tick ends the wait.
                events = selector.select(_TICK)
                with link.lock:
                    if link.closed:
                        return
                    try:
                        self._handle(selector, events)
                    except OSError:
                        # One side reset or broke: pass the failure on to the other side.
                        link.close_locked(reset=True)
                        return

    def _watch(self, selector: selectors.BaseSelector) -> None:
        want: dict[socket.socket, int] = {}
        client = 0
        if not self.client_eof and len(self.up) < _BUFFER_LIMIT:
            client |= selectors.EVENT_READ
        if self.down:
            client |= selectors.EVENT_WRITE
        want[self.link.client] = client
        upstream = self.link.upstream
        if upstream is not None:
            events = 0
            if not self.upstream_eof and len(self.down) < _BUFFER_LIMIT:
                events |= selectors.EVENT_READ
            if self.up:
                events |= selectors.EVENT_WRITE
            want[upstream] = events
        for sock in list(self.watched):
            if not want.get(sock):
                selector.unregister(sock)
                del self.watched[sock]
        for sock, events in want.items():
            if not events or self.watched.get(sock) == events:
                continue
            if sock in self.watched:
                selector.modify(sock, events)
            else:
                selector.register(sock, events)
            self.watched[sock] = events

    def _handle(
        self, selector: selectors.BaseSelector, events: list[tuple[selectors.SelectorKey, int]]
    ) -> None:
        link = self.link
        for key, mask in events:
            if link.closed:
                return
            if key.fileobj is link.client:
                if mask & selectors.EVENT_READ:
                    self._from_client(selector)
                if mask & selectors.EVENT_WRITE and not link.closed:
                    sent = _send(link.client, self.down)
                    del self.down[:sent]
                    self.proxy._count(down=sent)
            elif link.upstream is not None and key.fileobj is link.upstream:
                if mask & selectors.EVENT_READ:
                    self._from_upstream(selector)
                if mask & selectors.EVENT_WRITE and link.upstream is not None:
                    sent = _send(link.upstream, self.up)
                    del self.up[:sent]
                    self.proxy._count(up=sent)

    def _from_client(self, selector: selectors.BaseSelector) -> None:
        data = _recv(self.link.client)
        if data is None:
            return
        if not data:
            self.client_eof = True
            if self.mode in _HOLDING:
                # The client gave up (timed out); nothing left to hold.
                self.link.close_locked(reset=False)
            return
        if self.mode is Fault.PASS:
            # New bytes from the client may start a request on a pooled connection: the
            # fault in force now applies to it.
            self.mode = self.proxy._take_mode(Fault.PASS)
            if self.mode is Fault.DROP:
                self.link.close_locked(reset=True)
                return
            if self.mode is Fault.STALL:
                self._drop_upstream(selector)
        if self.mode is Fault.STALL or self.link.upstream is None:
            return
        self.up += data

    def _from_upstream(self, selector: selectors.BaseSelector) -> None:
        upstream = self.link.upstream
        if upstream is None:
            return
        data = _recv(upstream)
        if data is None:
            return
        if not data:
            self.upstream_eof = True
            if self.mode is Fault.RESET:
                # The target hung up without answering; the client still gets the reset.
                self.link.close_locked(reset=True)
            elif self.mode is Fault.BLACKHOLE_RESPONSE:
                self._drop_upstream(selector)
            return
        if self.mode is Fault.PASS:
            self.down += data
        elif self.mode is Fault.RESET:
            self.link.close_locked(reset=True)
        elif self.mode is Fault.TRUNCATE:
            if self.truncate_left is None:
                self.truncate_left = self.proxy._truncate_length(len(data))
            kept = data[: self.truncate_left]
            self.down += kept
            self.truncate_left -= len(kept)
            if self.truncate_left == 0:
                # Read nothing more; _finished() closes the client once the kept bytes are out.
                self._drop_upstream(selector)
                self.upstream_eof = True
        # BLACKHOLE_RESPONSE: the bytes are read so the target is not blocked, then dropped.

    def _drop_upstream(self, selector: selectors.BaseSelector) -> None:
        upstream = self.link.upstream
        if upstream is None:
            return
        if upstream in self.watched:
            selector.unregister(upstream)
            del self.watched[upstream]
        self.link.upstream = None
        _close(upstream, reset=False)
        self.up.clear()

    def _finished(self) -> bool:
        """Close what is done; True when the link is over."""
        link = self.link
        if self.upstream_eof and not self.down and self.mode not in _HOLDING:
            # Everything the target said (or TRUNCATE let through) has reached the client.
            link.close_locked(reset=False)
            return True
        if self.client_eof and not self.up and link.upstream is not None and not self.upstream_shut:
            # Pass the client's half-close on and keep relaying whatever the target still says;
            # a target already gone shows up as end of stream on the next read.
            with contextlib.suppress(OSError):
                link.upstream.shutdown(socket.SHUT_WR)
            self.upstream_shut = True
        return False
