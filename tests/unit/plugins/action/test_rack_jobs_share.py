"""rack_jobs gives its racks' jobs one poll share (the rack modules' shared_poll_dir) in its scratch directory."""
from ansible_collections.spineleaf.baremetal.plugins.action.rack_jobs import ActionModule


def args(**extra):
    return dict(dict(args={"timeout": 900}, racks={"r01": {"nodes": ["a"]}, "r02": {"nodes": ["b"]}},
                     progress_option="progress_file"), **extra)


def test_every_rack_job_gets_the_same_share_and_its_own_progress_file():
    got = [ActionModule._module_args(None, args(), rack, "/tmp/scratch") for rack in ("r01", "r02")]
    assert [g["shared_poll_dir"] for g in got] == ["/tmp/scratch/poll"] * 2
    assert [g["progress_file"] for g in got] == ["/tmp/scratch/r01.json", "/tmp/scratch/r02.json"]
    assert got[0]["nodes"] == ["a"] and got[0]["timeout"] == 900


def test_a_share_the_task_names_is_kept():
    a = args()
    a["args"]["shared_poll_dir"] = "/srv/share"
    assert ActionModule._module_args(None, a, "r01", "/tmp/scratch")["shared_poll_dir"] == "/srv/share"
