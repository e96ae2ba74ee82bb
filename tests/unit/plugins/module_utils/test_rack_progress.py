"""Progress files of per-rack jobs and their lines."""
import json

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _rack_progress as rp


def test_progress_line_wording():
    counts = dict(rack="r01", total=40, done=12, failed=1, in_progress=4)
    assert rp.progress_line(counts, "upgraded") == "rack r01: 12/40 upgraded, 1 failed, 4 in progress"
    assert rp.progress_line({}, "deployed") == "rack -: 0/0 deployed, 0 failed, 0 in progress"
    counts = dict(rack="r02", total=40, done=30, failed=2, in_progress=6, maintenance=2)
    assert rp.progress_line(counts, "inspected") == "rack r02: 30/40 inspected, 2 failed, 6 in progress, 2 in maintenance"


def test_writer_writes_changes_atomically(tmp_path):
    path = tmp_path / "r01.json"
    assert rp.progress_writer("") is None
    write = rp.progress_writer(str(path), rack="r01")
    assert rp.read_progress(str(path)) is None
    write(dict(total=4, done=1, failed=0, in_progress=2))
    assert json.loads(path.read_text()) == dict(rack="r01", total=4, done=1, failed=0, in_progress=2)
    mtime = path.stat().st_mtime_ns
    write(dict(total=4, done=1, failed=0, in_progress=2))  # unchanged: not rewritten
    assert path.stat().st_mtime_ns == mtime
    assert not (tmp_path / "r01.json.tmp").exists()
    path.write_text("{half")
    assert rp.read_progress(str(path)) is None
