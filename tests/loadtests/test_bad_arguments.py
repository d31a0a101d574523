"""Bad arguments get one line on stderr and exit status 2, never a traceback."""

import re
import socket

import pytest

from loadtests.__main__ import parser
from loadtests.processes import Process, free_port, python_module
from loadtests.user_requests import BadRequestSpec, build
from tests.loadtests.helpers import cli


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["run", "--test", "9x"], "unknown test '9x'"),
        (["run", "--test", "5", "--scale", "0"], "--scale: must be a number above 0"),
        (["run", "--test", "5", "--scale", "-1"], "--scale: must be a number above 0"),
        (["run", "--test", "5", "--scale", "lots"], "--scale: must be a number above 0"),
        (["run", "--test", "5", "--duration", "0"], "--duration: must be a whole number"),
        (["run", "--test", "5", "--workers", "-2"], "--workers must be 0 or more"),
        (["run", "--test", "5", "--dyno-cpu", "half"], "--dyno-cpu: must be auto, 0 (no cap)"),
        (["run", "--test", "5", "--host", "example.com"], "--host must be an http:// or https://"),
        (["run", "--test", "5", "--drain", "http://127.0.0.1:1/metrics"], "use it with --host"),
        (
            ["run", "--test", "5", "--host", "http://127.0.0.1:1", "--drain", "127.0.0.1/metrics"],
            "--drain must be an http:// or https://",
        ),
        (["run", "--test", "5", "--path", "about/"], "--path: must start with /"),
        (["run", "--test", "5", "--scenario-file", "/nowhere.toml"], "cannot read /nowhere.toml"),
        (["run", "--test", "5", "--router", "3.0"], "invalid choice: '3.0'"),
        (
            ["run", "--test", "5", "--router", "legacy", "--host", "http://127.0.0.1:1"],
            "a --host app has Heroku's own",
        ),
        (["run"], "the following arguments are required: --test"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_argument_is_one_line_and_exit_status_2(args, says):
    done = cli(*args)
    assert done.returncode == 2, done
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_unreachable_host_is_one_line_and_starts_nothing(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    done = cli("run", "--test", "5", "--host", url, "--runs-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr == f"error: cannot reach {url}: [Errno 111] Connection refused\n"
    assert list(tmp_path.iterdir()) == []  # no run folder for a run that never started


def test_grafana_ports_held_by_another_process_is_one_line_and_starts_nothing(tmp_path):
    # A `make drain` already on 8088: the run's own receiver cannot stand where the compose
    # stack's Prometheus looks for it.
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", 8088))
        holder.listen()
        done = cli("run", "--test", "5", "--grafana", "--runs-dir", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "--grafana needs ports 8088" in done.stderr, done
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def receiver(tmp_path):
    """A real drain receiver (`python -m metrics.drain`) on a free port; yields its URL."""
    port = free_port()
    process = Process(
        "drain receiver",
        python_module("metrics.drain", "--port", str(port), "--insecure-no-auth"),
        tmp_path / "drain.log",
    )
    url = f"http://127.0.0.1:{port}"
    process.wait_until_http_ok(f"{url}/healthz")
    yield url
    process.stop()


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/healthz", "{url} is not a drain receiver's /metrics (no heroku_drain_ series)"),
        ("/nowhere", "{url} answered 404 Not Found"),
        (None, "cannot reach {url}: [Errno 111] Connection refused"),
    ],
)
def test_unreadable_drain_is_one_line_and_starts_nothing(receiver, tmp_path, path, says):
    # The receiver stands in for the deployed app too: --host only needs to answer.
    url = f"{receiver}{path}" if path else f"http://127.0.0.1:{free_port()}/metrics"
    runs = tmp_path / "runs"
    done = cli(
        "run", "--test", "5", "--host", receiver, "--drain", url, "--runs-dir", str(runs)
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == f"error: --drain: {says.format(url=url)}\n"
    assert not runs.exists()  # no run folder for a run that never started


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--path", "/=0"], "argument --path: must have a weight of 1 or more, got '/=0'"),
        (["--method", "FETCH"], "argument --method: must be one of GET, HEAD, POST"),
        (["--header", "Accept text/html"], "argument --header: must be 'Name: value'"),
        (["--expect-status", "99"], "argument --expect-status: must be an HTTP status, 100 to"),
        (["--expect-body", "(h1"], "argument --expect-body: must be a regular expression: "),
    ],
)
def test_bad_request_flag_is_one_line_and_exit_status_2(capsys, args, says):
    # In-process: the same parser as the CLI above, without a Python start-up per case.
    with pytest.raises(SystemExit) as stopped:
        parser().parse_args(["run", "--test", "5", *args])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"error: {says}"), error


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("scenario.toml", "paths = [", "is not TOML: "),
        ("scenario.toml", 'pathz = ["/"]', "unknown key 'pathz'"),
        (
            "scenario.toml",
            'paths = [{ path = "/", weight = "x" }]',
            "paths must have a weight of 1 or more, got 'x'",
        ),
        (
            "scenario.toml",
            "expect_status = 700",
            "expect_status must be an HTTP status, 100 to 599, got 700",
        ),
        ("scenario.toml", 'headers = "Accept: text/html"', "headers cannot be a str"),
        ("scenario.toml", 'paths = ["/a", "/a=2"]', "path /a is given twice"),
        ("scenario.toml", 'paths = "/a"', "paths cannot be a str"),
        # The same mistakes in YAML get the same words.
        ("scenario.yaml", "pathz: [/]", "unknown key 'pathz'"),
        (
            "scenario.yaml",
            "paths: [{path: /, weight: x}]",
            "paths must have a weight of 1 or more, got 'x'",
        ),
        (
            "scenario.yml",
            "expect_status: 700",
            "expect_status must be an HTTP status, 100 to 599, got 700",
        ),
        ("scenario.yaml", "headers: 'Accept: text/html'", "headers cannot be a str"),
        ("scenario.yaml", "paths: [/a, /a=2]", "path /a is given twice"),
        ("scenario.yaml", "paths: /a", "paths cannot be a str"),
        # YAML's own: PyYAML's several-line message as one line, with where.
        (
            "scenario.yaml",
            "paths: [/a\nmethod: GET",
            "is not YAML: while parsing a flow sequence, expected ',' or ']', but got ':' "
            "(at line 2, column 7)",
        ),
        ("scenario.yaml", "- /a", "must hold a YAML mapping of settings"),
        ("scenario.yaml", "# nothing yet", "must hold a YAML mapping of settings ("),
        # TOML refuses a key given twice; PyYAML alone would keep the last one silently.
        ("scenario.yaml", "paths: [/a]\npaths: [/b]", "key 'paths' is given twice (at line 2"),
        # YAML reads yes/no/on/off and an empty value as a bool or null, not as text.
        ("scenario.yaml", "headers: {DNT: yes}", "headers DNT must be text, got True: quote it"),
        ("scenario.yaml", "method:", "method cannot be empty"),
        ("scenario.json", "{}", "must end in .toml, .yaml or .yml (TOML or YAML), got .json"),
    ],
)
def test_bad_scenario_file_says_what_and_where_in_one_line(tmp_path, name, text, says):
    scenario = tmp_path / name
    scenario.write_text(text + "\n")
    with pytest.raises(BadRequestSpec, match=re.escape(says)) as refused:
        build(scenario)
    assert "\n" not in str(refused.value), refused.value


def test_bad_scenario_file_from_the_cli_is_one_line_and_exit_status_2(tmp_path):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('paths = ["/", "db/"]\n')
    done = cli("run", "--test", "5", "--scenario-file", str(scenario))
    assert done.returncode == 2, done
    assert done.stderr == (
        f"error: --scenario-file {scenario}: paths must start with / and hold no spaces "
        "(at most 200 characters), got 'db/'\n"
    )
