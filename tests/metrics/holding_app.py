"""A WSGI app whose requests last as long as the test wants: each one connects to the test's
socket on ``HOLD_PORT`` and answers once the test closes that connection."""

import os
import socket


def application(environ, start_response):
    with socket.create_connection(("127.0.0.1", int(os.environ["HOLD_PORT"])), timeout=60) as held:
        held.recv(1)  # b"" when the test lets go
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"released\n"]
