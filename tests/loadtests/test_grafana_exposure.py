"""--grafana listens on the Docker bridge's address, read from the real interface, and says in
one line what it does where there is none."""

from loadtests import compose


def test_the_address_is_the_interfaces_own_ipv4():
    # The loopback interface stands in for docker0: the same reading of a real interface.
    assert compose.listen_address("lo") == ("127.0.0.1", None)


def test_without_the_bridge_it_listens_on_loopback_and_says_so_in_one_line():
    address, why = compose.listen_address("cce-no-such-interface")
    assert address == "127.0.0.1"
    assert "\n" not in why and "no cce-no-such-interface interface" in why
    assert "127.0.0.1" in why


def test_the_targets_list_what_the_run_started_as_containers_reach_it():
    host = compose.CONTAINER_HOST
    files = compose.targets({"web.1": 8000}, 9646, drain=False)
    assert files == {
        "run-locust.json": [{"targets": [f"{host}:9646"]}],
        "run-app.json": [{"targets": [f"{host}:8000"], "labels": {"dyno": "web.1"}}],
    }
    # Against a deployed app (--host) the run starts no dyno and no receiver of its own.
    assert set(compose.targets({}, 9646, drain=False)) == {"run-locust.json"}
