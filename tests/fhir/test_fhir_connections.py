"""Connection limits like Jetty's defaults (issue 7 §4): idle and read timeouts, 431 for big headers."""

from __future__ import annotations

import asyncio

import pytest

from medarc_inspect.fhir.connection import IDLE_TIMEOUT_S, MAX_HEADER_BYTES, READ_TIMEOUT_S
from medarc_inspect.fhir.server import FhirServer
from medarc_inspect.fhir.store import FhirStore

SHORT = 0.5  # seconds: the tests shrink the 30 s defaults


@pytest.fixture
async def guarded(store: FhirStore):
    async with FhirServer(store, idle_timeout_s=SHORT, read_timeout_s=SHORT) as running:
        yield running


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sends until it closes the connection (fails if it stays open)."""
    return await asyncio.wait_for(reader.read(), seconds)


def test_defaults_match_jetty() -> None:
    assert IDLE_TIMEOUT_S == READ_TIMEOUT_S == 30 and MAX_HEADER_BYTES == 8192


async def test_idle_connection_is_closed(guarded: FhirServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", guarded.port)
    assert await _closed_within(reader, 10) == b""  # never sent a byte
    writer.close()


async def test_idle_keep_alive_connection_is_closed_after_a_response(guarded: FhirServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", guarded.port)
    writer.write(b"GET /fhir/metadata HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await _closed_within(reader, 10)
    assert answer.startswith(b"HTTP/1.1 200") and b"CapabilityStatement" in answer
    writer.close()


async def test_slow_headers_are_cut_off(guarded: FhirServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", guarded.port)
    writer.write(b"GET /fhir/metadata HTTP/1.1\r\nHost: x\r\n")
    loop = asyncio.get_running_loop()
    started = loop.time()
    closed = False
    while loop.time() - started < 10:  # one header byte every 0.1 s: never idle, but never finished
        try:
            writer.write(b"X")
            await writer.drain()
        except ConnectionError:
            closed = True
            break
        if reader.at_eof() or (await _peek_eof(reader)):
            closed = True
            break
    assert closed
    writer.close()


async def _peek_eof(reader: asyncio.StreamReader) -> bool:
    try:
        data = await asyncio.wait_for(reader.read(1), 0.1)
    except TimeoutError:
        return False
    return data == b""


async def test_slow_body_is_cut_off(guarded: FhirServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", guarded.port)
    writer.write(b"POST /fhir/Observation HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    assert await _closed_within(reader, 10) == b""  # the body never completes
    writer.close()


async def test_big_headers_get_431_and_a_closed_connection(guarded: FhirServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", guarded.port)
    writer.write(b"GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MAX_HEADER_BYTES + b"\r\n\r\n")
    answer = await _closed_within(reader, 10)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:80]
    assert b"OperationOutcome" in answer and b"connection: close" in answer
    writer.close()


async def test_many_headers_just_under_the_limit_pass(guarded: FhirServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", guarded.port)
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 50) for i in range(100))  # about 6 KiB
    writer.write(b"GET /fhir/metadata HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n")
    assert (await _closed_within(reader, 10)).startswith(b"HTTP/1.1 200")
    writer.close()


async def test_a_running_request_is_not_cut_off_by_the_idle_timer(store: FhirStore) -> None:
    async with FhirServer(store, idle_timeout_s=0.05, read_timeout_s=0.05) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /fhir/Observation?_count=5000&_pretty=true HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = await _closed_within(reader, 10)
        assert answer.startswith(b"HTTP/1.1 200")
        writer.close()
