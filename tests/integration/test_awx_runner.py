"""site.yml and rolling_upgrade.yml run the way AWX runs them: ansible-runner with a private data
dir (inventory/, env/extravars, env/envvars, project/), the collection installed from its built
tarball (as in the EE), clouds.yaml from a file the job is pointed at (as the credential injects it).
The job events carry the per-rack set_stats and never a planted secret; the same job through
ansible-runner's streaming mode (transmit | worker | process) gives the same result and events."""
import collections
import glob
import json
import os
import shutil
import subprocess

import pytest
import yaml

from lab.harness import REPO, VENV_BIN

ansible_runner = pytest.importorskip("ansible_runner")

BMC_SECRET = "planted-bmc-Secret-15"
CLOUDS_SECRET = "planted-clouds-Secret-15"
RACKS = ("r01", "r02", "r03")


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """The collection installed from its tarball, like the EE's galaxy step."""
    out = tmp_path_factory.mktemp("collection")
    subprocess.run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "build", "--force",
                    "--output-path", str(out)], cwd=REPO, check=True, capture_output=True)
    tarball = glob.glob(str(out / "spineleaf-baremetal-*.tar.gz"))[0]
    subprocess.run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "install", "--force",
                    "-p", str(out / "collections"), tarball], check=True, capture_output=True)
    return str(out / "collections")


def private_data_dir(base, lab, collection, extravars=None):
    """An AWX-style private data dir: project/ (playbooks + ansible.cfg), inventory/, env/."""
    pdd = base
    os.makedirs(os.path.join(pdd, "project"))
    shutil.copytree(os.path.join(REPO, "playbooks"), os.path.join(pdd, "project", "playbooks"))
    shutil.copy(os.path.join(REPO, "ansible.cfg"), os.path.join(pdd, "project", "ansible.cfg"))
    shutil.copytree(os.path.join(REPO, "inventory", "lab"), os.path.join(pdd, "inventory"),
                    ignore=shutil.ignore_patterns("*.racks.yml"))
    all_yml = os.path.join(pdd, "inventory", "group_vars", "all.yml")
    with open(all_yml) as f:
        text = f.read()
    assert "bmc_password: lab-bmc-secret" in text
    with open(all_yml, "w") as f:
        f.write(text.replace("bmc_password: lab-bmc-secret", "bmc_password: " + BMC_SECRET))
    # clouds.yaml as the credential type's injector writes it: the lab cloud plus a cloud with a
    # password (the lab's auth_type none takes none), all in the file the job reads.
    with open(lab.clouds_yaml) as f:
        clouds = yaml.safe_load(f)
    clouds["clouds"]["production"] = {"auth": {"auth_url": "https://keystone.invalid:5000/v3", "username": "admin",
                                               "password": CLOUDS_SECRET, "project_name": "admin"}}
    os.makedirs(os.path.join(pdd, "env"))
    with open(os.path.join(pdd, "env", "clouds.yaml"), "w") as f:
        yaml.safe_dump(clouds, f)
    envvars = {"OS_CLIENT_CONFIG_FILE": os.path.join(pdd, "env", "clouds.yaml"), "OS_CLOUD": "spineleaf-lab",
               "ANSIBLE_COLLECTIONS_PATH": collection, "ANSIBLE_NOCOLOR": "1",
               "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", "")}
    with open(os.path.join(pdd, "env", "envvars"), "w") as f:
        yaml.safe_dump(envvars, f)
    with open(os.path.join(pdd, "env", "extravars"), "w") as f:
        yaml.safe_dump(extravars or {}, f)
    return pdd


def run_direct(pdd, playbook, ident):
    r = ansible_runner.run(private_data_dir=pdd, playbook=playbook, ident=ident, quiet=True)
    return r.status, r.rc, list(r.events), os.path.join(pdd, "artifacts", ident)


def run_streaming(pdd, playbook, ident, out_dir):
    """transmit | worker | process, the protocol AWX uses to send jobs to execution nodes."""
    runner = os.path.join(VENV_BIN, "ansible-runner")
    cmd = ("{r} transmit {pdd} -p {pb} --ident {ident} | {r} worker | {r} process {out} --ident {ident}"
           .format(r=runner, pdd=pdd, pb=playbook, ident=ident, out=out_dir))
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=1800,
                          check=False)
    assert proc.returncode in (0, 1, 2), proc.stderr[-3000:]
    art = os.path.join(out_dir, "artifacts", ident)
    with open(os.path.join(art, "status")) as f:
        status = f.read().strip()
    with open(os.path.join(art, "rc")) as f:
        rc = int(f.read().strip())
    events = []
    for path in sorted(glob.glob(os.path.join(art, "job_events", "*.json")),
                       key=lambda p: int(os.path.basename(p).split("-", 1)[0])):
        with open(path) as f:
            events.append(json.load(f))
    return status, rc, events, art


def stats(events):
    final = [e for e in events if e["event"] == "playbook_on_stats"]
    assert len(final) == 1
    return final[0]["event_data"].get("artifact_data") or {}


def signature(events):
    """What a job did, independent of timing and of how parallel events interleave."""
    return collections.Counter((e["event"], e["event_data"].get("task", ""), e["event_data"].get("host", ""),
                                bool(e["event_data"].get("res", {}).get("changed")) if isinstance(
                                    e["event_data"].get("res"), dict) else None)
                               # retries and async polls follow the clock (progress lines), not the job
                               for e in events if e["event"] not in ("verbose", "runner_retry", "runner_on_async_poll"))


def assert_no_secret(art_dir, events):
    for secret in (BMC_SECRET, CLOUDS_SECRET):
        assert secret not in json.dumps(events), secret
        for root, _dirs, files in os.walk(art_dir):
            for name in files:
                with open(os.path.join(root, name), errors="replace") as f:
                    assert secret not in f.read(), (secret, os.path.join(root, name))


def assert_racks_ok(artifact, prefix):
    for rack in RACKS:
        entry = artifact[prefix + rack]
        assert entry["ok"] is True and entry["failed"] == [], entry
        assert sorted(entry["nodes"]) == ["%s-n%02d" % (rack, n) for n in (1, 2, 3, 4)]


def test_site_and_rolling_upgrade_through_ansible_runner(lab, collection, tmp_path):
    site = private_data_dir(str(tmp_path / "site"), lab, collection)
    status, rc, events, art = run_direct(site, "playbooks/site.yml", "site-1")
    assert (status, rc) == ("successful", 0), open(os.path.join(art, "stdout")).read()[-4000:]
    assert_racks_ok(stats(events), "site_rack_")
    assert "deploy_summary" in stats(events)
    assert_no_secret(art, events)

    # The same job again (now a no-op) directly and through the streaming protocol: same result.
    status_a, rc_a, events_a, art_a = run_direct(site, "playbooks/site.yml", "site-2")
    status_b, rc_b, events_b, art_b = run_streaming(site, "playbooks/site.yml", "site-3", str(tmp_path / "processed"))
    assert (status_a, rc_a) == (status_b, rc_b) == ("successful", 0)
    assert stats(events_a) == stats(events_b)
    assert_racks_ok(stats(events_b), "site_rack_")
    assert signature(events_a) == signature(events_b)
    assert not any(e["event_data"].get("res", {}).get("changed") for e in events_b
                   if e["event"] == "runner_on_ok" and isinstance(e["event_data"].get("res"), dict)
                   and e["event_data"].get("task_action", "").startswith("spineleaf.")), "second site run changed"
    assert_no_secret(art_b, events_b)

    upgrade = private_data_dir(str(tmp_path / "upgrade"), lab, collection, extravars={
        "rollout_image": "http://images.lab.invalid/spineleaf-base-1.5.qcow2"})
    status, rc, events, art = run_direct(upgrade, "playbooks/rolling_upgrade.yml", "upgrade-1")
    assert (status, rc) == ("successful", 0), open(os.path.join(art, "stdout")).read()[-4000:]
    assert_racks_ok(stats(events), "rollout_rack_")
    assert set(stats(events)["rollout_summary"]) <= set(RACKS)
    assert_no_secret(art, events)
