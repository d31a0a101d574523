"""Holding the page of a real dyno, and speaking HTTP on raw sockets to it.

A lock on the page's table, taken in PostgreSQL by the test, makes every page request wait
for the test's transaction: the dyno's threads are busy and further requests queue, for as
long as the test says, with no test-only code in the app.
"""

import http.client
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

PAGE = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class PageLock:
    def __init__(self, connection):
        self._connection = connection

    def take(self) -> None:
        with self._connection.cursor() as cursor:
            cursor.execute("LOCK TABLE content_snippet IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        self._connection.rollback()


@contextmanager
def page_lock(database_url: str) -> Iterator[PageLock]:
    connection = psycopg2.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        yield PageLock(connection)
    finally:
        connection.close()


def send(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(data)
    return sock


def answer(sock: socket.socket) -> tuple[int, bytes, str | None]:
    """The status, body and Connection header of the response read from sock."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read(), response.getheader("Connection")
