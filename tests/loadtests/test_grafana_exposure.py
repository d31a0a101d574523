"""--grafana listens on the Docker bridge's address, read from the real interface, and says in
one line what it does where there is none; a dyno there answers the names it is scraped by."""

import urllib.error
import urllib.request

from app.process import running_app
from loadtests import compose
from loadtests.setups import SETUPS, allowed_hosts


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


def status(url: str, host: str) -> int:
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_exposed_dyno_answers_the_stack_and_the_run_by_the_names_they_use(test_database_url):
    exposed = allowed_hosts(SETUPS["waitress"], "172.17.0.1")
    env = {"ALLOWED_HOSTS": exposed, "METRICS_ENABLED": "1", "DEBUG": "0"}
    with running_app(test_database_url, **env) as url:
        for host in ("host.docker.internal:8000", "172.17.0.1:8000", "127.0.0.1"):
            assert status(f"{url}/metrics", host) == 200, host
        assert status(f"{url}/metrics", "elsewhere.example:8000") == 400
    # Not exposed: loopback and the public name only, as before.
    assert allowed_hosts(SETUPS["waitress"]) == "cce-example.herokuapp.com,127.0.0.1,localhost"
