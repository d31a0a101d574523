"""The kernel's accept queue of a real listening socket, as listen_queue reads it."""

import socket

from prometheus_client import CollectorRegistry, generate_latest

from dyno_metrics.listen_queue import ListenQueueCollector, read


def test_connections_not_yet_accepted_are_counted_and_leave_the_count_when_accepted():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(7)
        clients = [socket.create_connection(listener.getsockname(), timeout=5) for _ in range(3)]
        try:
            assert read(listener) == (3, 7)
            accepted, _ = listener.accept()
            accepted.close()
            assert read(listener) == (2, 7)
        finally:
            for client in clients:
                client.close()


def test_the_collector_exports_depth_and_limit_and_nothing_for_a_closed_socket():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    client = socket.create_connection(listener.getsockname(), timeout=5)
    registry = CollectorRegistry()
    registry.register(ListenQueueCollector(lambda: [listener]))
    try:
        text = generate_latest(registry).decode()
        assert "listen_queue_depth 1.0" in text and "listen_queue_limit 5.0" in text, text
    finally:
        client.close()
        listener.close()
    assert "listen_queue_depth" not in generate_latest(registry).decode()
