"""Heroku log-drain receiver: turns Heroku's own logs into per-dyno Prometheus series.

`python -m metrics.drain` serves it; `python -m metrics.drain.postmortem` replays a saved
log into a Prometheus TSDB block. See README.md beside this file.
"""
