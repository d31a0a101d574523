"""The summary's rate at full load, from Locust's stats history as Locust writes it (in-process,
no load): the rows at the scenario's users, through a distributed master's staircase."""

import csv

import pytest

from loadtests.locust_history import full_load_requests_per_minute

# Locust's own header (locust/stats.py, StatsCSV.stats_history_csv_columns), percentiles cut.
COLUMNS = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Total Request Count"]


def history(tmp_path, rows):
    """A stats history with an Aggregated row (and a path's row) per (seconds, users, total)."""
    path = tmp_path / "locust_stats_history.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for seconds, users, total in rows:
            writer.writerow([1_700_000_000 + seconds, users, "GET", "/", "0", total // 2])
            writer.writerow([1_700_000_000 + seconds, users, "", "Aggregated", "0", total])
    return path


def test_one_process_counts_from_the_last_user_started_to_the_end(tmp_path):
    # 100 users spawned over 10 s, each asking 4 a minute: the ramp's seconds are left out.
    rows = [(t, 10 * t, int(400 / 60 * t * t / 20)) for t in range(10)]
    rows += [(t, 100, int(400 / 60 * (t - 5))) for t in range(10, 31)]
    rows += [(31, 0, rows[-1][2])]
    assert full_load_requests_per_minute(history(tmp_path, rows), 100) == 400


@pytest.mark.parametrize(("first", "last"), [(6, 25), (7, 27)])
def test_two_workers_reports_every_3_s_do_not_tilt_it(tmp_path, first, last):
    # 400 a minute, each worker's half reaching the master every 3 s at its own phase, a row
    # every second. The last row minus the first gives 379 and 420 on these windows (5% off
    # either way); the least-squares line 398 and 404.
    def reported(t, phase):
        return (t - phase) // 3 * 3 + phase

    rows = [
        (t, 100, sum(200 * reported(t, phase) // 60 for phase in (0, 2)))
        for t in range(first, last + 1)
    ]
    assert 396 <= full_load_requests_per_minute(history(tmp_path, rows), 100) <= 404


def test_a_run_stopped_in_its_ramp_has_no_figure(tmp_path):
    rows = [(t, 10 * t, 7 * t) for t in range(8)] + [(8, 100, 60), (9, 100, 67)]
    assert full_load_requests_per_minute(history(tmp_path, rows), 100) is None
    assert full_load_requests_per_minute(tmp_path / "nowhere.csv", 100) is None


def test_a_row_cut_short_is_left_out(tmp_path):
    rows = [(t, 100, 400 * t // 60) for t in range(10, 31)]
    path = history(tmp_path, rows)
    path.write_text(path.read_text() + f"{1_700_000_031},100,,Aggregated,0")
    assert full_load_requests_per_minute(path, 100) == 400
