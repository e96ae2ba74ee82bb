"""rack_progress_wait reads a local job's result where async_wrapper wrote it (results_file), also
when $HOME is not the passwd entry's home (HOME=/other ansible-playbook, an EE's /runner)."""
import json

from ansible_collections.spineleaf.baremetal.plugins.action.rack_progress_wait import ActionModule


def test_local_job_is_read_from_its_results_file(tmp_path):
    jobs_dir = tmp_path / "home" / ".ansible_async"
    jobs_dir.mkdir(parents=True)
    raw = {"ansible_job_id": "j1.2", "results_file": str(jobs_dir / "j1.2"), "started": 1, "finished": 0,
           "rack": "r01"}
    job = ActionModule._job(raw, None)
    assert job["results_file"] == str(jobs_dir / "j1.2")
    elsewhere = str(tmp_path / "passwd-home" / ".ansible_async")  # what expanding '~user' gives
    assert ActionModule._status(None, job, elsewhere, True, {}) == {"finished": False}
    (jobs_dir / "j1.2").write_text(json.dumps({"started": 1, "finished": 0, "ansible_job_id": "j1.2"}))
    assert ActionModule._status(None, job, elsewhere, True, {}) == {"finished": False}
    (jobs_dir / "j1.2").write_text(json.dumps({"changed": True, "nodes": []}))
    assert ActionModule._status(None, job, elsewhere, True, {}) == {"changed": True, "nodes": [], "finished": True}
    # a job result without results_file: the async dir given
    job = ActionModule._job({"ansible_job_id": "j1.2", "rack": "r01"}, None)
    assert ActionModule._status(None, job, str(jobs_dir), True, {})["finished"] is True
