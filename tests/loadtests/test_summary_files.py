"""runs/<run-id>/summary.json: written whole or not at all, and an unreadable old one skipped."""

import json

from loadtests import summary


def test_a_run_is_compared_with_the_newest_readable_earlier_run(tmp_path, capsys):
    runs = tmp_path / "runs"
    for run_id, content in [
        ("20260101-000000-6", json.dumps({"test": "6", "avg_ms": 900})),
        ("20260101-000100-6", '{"test": "6", "avg_'),  # cut short by a crash
        ("20260101-000200-6", b"\xff\xfe not text"),
    ]:
        (runs / run_id).mkdir(parents=True)
        path = runs / run_id / "summary.json"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (runs / "20260101-000300-7").mkdir()

    found = summary.latest_summary(runs, "6", runs / "20260101-000300-7")

    assert found == (runs / "20260101-000000-6", {"test": "6", "avg_ms": 900})
    warnings = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":")[0] for line in warnings] == ["warning", "warning"]
    assert "20260101-000200-6/summary.json" in warnings[0]
    assert "20260101-000100-6/summary.json" in warnings[1]


def test_saving_replaces_the_files_whole_and_leaves_no_temporary_file(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "summary.json").write_text('{"half": ')  # what an interrupted write left
    summary.save(run_dir, {"test": "5", "requests": 3}, "summary text\n")
    assert json.loads((run_dir / "summary.json").read_text()) == {"test": "5", "requests": 3}
    assert (run_dir / "summary.txt").read_text() == "summary text\n"
    assert sorted(p.name for p in run_dir.iterdir()) == ["summary.json", "summary.txt"]
