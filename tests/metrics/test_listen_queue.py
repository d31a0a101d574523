"""The kernel's accept queue of a real listening socket, as listen_queue reads it."""

import socket

from prometheus_client import CollectorRegistry, generate_latest

from dyno_metrics.listen_queue import ListenQueueCollector, PortListenQueueCollector, read


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


def test_with_reuse_port_every_socket_on_the_port_is_counted_from_any_one_of_them():
    """gunicorn's reuse_port: each worker listens on a socket of its own on the same port;
    the worker serving a scrape counts the connections queued on all of them."""
    listeners = []
    for _ in range(2):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", listeners[0].getsockname()[1] if listeners else 0))
        listener.listen(6)
        listeners.append(listener)
    address = listeners[0].getsockname()
    clients = [socket.create_connection(address, timeout=5) for _ in range(5)]
    registry = CollectorRegistry()
    registry.register(PortListenQueueCollector(lambda: listeners[:1]))
    try:
        text = generate_latest(registry).decode()
        assert "listen_queue_depth 5.0" in text and "listen_queue_limit 12.0" in text, text
    finally:
        for one in clients + listeners:
            one.close()
