"""Site-level errors are site-level (issue 22): a cloud that cannot be reached at all, or an inventory
without the site's nodes, stops every playbook ONCE, with one message naming the cloud (or what is
missing) and the fix, before any rack starts: no per-node failures, rc != 0.

Run against the lab's real Ironic and Neutron: the lab is up, only the cloud the playbook is given is
wrong (a name clouds.yaml does not have, an endpoint on the wrong port, an identity service that is
down), or the inventory is empty."""
import os
import re
import socket
import subprocess

import pytest
import yaml

from lab.harness import REPO, VENV_BIN, LabEnv, run_module

PLAYBOOKS = ["playbooks/site.yml", "playbooks/inspect.yml", "playbooks/rolling_upgrade.yml"]
NODES = ["r%02d-n%02d" % (r, n) for r in (1, 2, 3) for n in (1, 2, 3, 4)]


def _closed_port():
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def clouds(lab, tmp_path_factory):
    """The lab's clouds.yaml plus two broken clouds: the lab's Ironic and Neutron on a port where
    nothing listens, and the lab's endpoints behind a Keystone that is down."""
    with open(lab.clouds_yaml) as f:
        doc = yaml.safe_load(f)
    good = doc["clouds"]["spineleaf-lab"]
    port = _closed_port()
    doc["clouds"]["lab-wrong-port"] = dict(good, baremetal_endpoint_override="http://127.0.0.1:%d" % port,
                                           network_endpoint_override="http://127.0.0.1:%d/" % port)
    keystone = dict(good, auth_type="password",
                    auth=dict(auth_url="http://127.0.0.1:%d/v3" % _closed_port(), username="admin", password="secret-pw",
                              project_name="admin", user_domain_name="Default", project_domain_name="Default"))
    keystone.pop("baremetal_endpoint_override", None)
    keystone.pop("network_endpoint_override", None)
    doc["clouds"]["lab-keystone-down"] = keystone
    path = tmp_path_factory.mktemp("clouds") / "clouds.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _run(lab, playbook, clouds_yaml=None, inventory="inventory/lab", extra=()):
    env = lab.ansible_env()
    if clouds_yaml:
        env["OS_CLIENT_CONFIG_FILE"] = clouds_yaml
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), playbook, "-i", inventory,
           "-e", "rollout_image=http://images.lab.invalid/never.qcow2"] + list(extra)
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)


def _recap(stdout):
    return dict((m.group(1), int(m.group(2))) for m in re.finditer(
        r"^(\S+)\s+: ok=\d+\s+changed=\d+\s+unreachable=\d+\s+failed=(\d+)", stdout, re.M))


def _assert_stopped_once(proc, *needles):
    """rc != 0, exactly one failed task (one 'fatal:' line), one host failed in the recap, no rack
    or node ever started, and the one message says every needle."""
    out = proc.stdout
    assert proc.returncode != 0, out[-3000:]
    fatals = [line for line in out.splitlines() if line.startswith("fatal:")]
    assert len(fatals) == 1, out[-6000:]
    for needle in needles:
        assert needle in fatals[0], (needle, fatals[0])
    failed = dict((h, n) for h, n in _recap(out).items() if n)
    assert len(failed) == 1, out[-3000:]
    # no rack started: no rack progress, no per-node result, no other play's task
    assert not re.search(r"rack r0\d[: ]", out), out[-6000:]
    assert "Result of this node" not in out and "not started" not in out, out[-6000:]
    assert "Traceback" not in out + proc.stderr
    assert "object of type" not in out + proc.stderr


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_no_such_cloud_stops_once(lab, conn, playbook):
    before = dict((n.name, (n.provision_state, n.updated_at)) for n in conn.baremetal.nodes() if n.name in NODES)
    proc = _run(lab, playbook, extra=["-e", "cloud=no-such-cloud"])
    _assert_stopped_once(proc, "cloud 'no-such-cloud'", "clouds.yaml", "'spineleaf-lab'")
    after = dict((n.name, (n.provision_state, n.updated_at)) for n in conn.baremetal.nodes() if n.name in NODES)
    assert after == before


@pytest.mark.parametrize("playbook", ["playbooks/rolling_upgrade.yml", "playbooks/site.yml"])
def test_wrong_endpoint_port_stops_once(lab, clouds, playbook):
    proc = _run(lab, playbook, clouds, extra=["-e", "cloud=lab-wrong-port"])
    _assert_stopped_once(proc, "cloud 'lab-wrong-port'", "Bare Metal API", "cannot reach the API endpoint")


def test_keystone_down_is_one_identity_problem(lab, clouds):
    env_lab = LabEnv(lab, OS_CLIENT_CONFIG_FILE=clouds)
    res, r = run_module(env_lab, "spineleaf.baremetal.preflight", {"cloud": "lab-keystone-down"})
    assert r["failed"] and r["site_level"] is True, r
    assert len(r["problems"]) == 1, r["problems"]
    assert "identity service (Keystone" in r["msg"] and "cloud 'lab-keystone-down'" in r["msg"], r["msg"]
    assert "Bare Metal API" not in r["msg"] and "Network API" not in r["msg"], r["msg"]
    assert r["identity"]["ok"] is False and r["identity"]["auth_type"] == "password"
    assert "secret-pw" not in res.output
    # and a playbook stops once on it
    proc = _run(lab, "playbooks/rolling_upgrade.yml", clouds, extra=["-e", "cloud=lab-keystone-down"])
    _assert_stopped_once(proc, "cloud 'lab-keystone-down'", "identity service (Keystone")
    assert "Bare Metal API" not in proc.stdout and "Network API" not in proc.stdout


def test_service_endpoint_down_is_per_service(lab, clouds, lab_module):
    """Only a service's own endpoint failing is reported per service (the identity is fine)."""
    r = lab_module(LabEnv(lab, OS_CLIENT_CONFIG_FILE=clouds), "spineleaf.baremetal.preflight", {"cloud": "lab-wrong-port"})
    assert r["failed"] and r["identity"]["ok"] is True, r
    assert len(r["problems"]) == 2, r["problems"]
    assert "Bare Metal API" in r["msg"] and "Network API" in r["msg"]


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_inventory_without_baremetal_says_what_is_missing(lab, tmp_path, playbook):
    empty = tmp_path / "empty.yml"
    empty.write_text("all:\n  hosts: {}\n")
    proc = _run(lab, playbook, inventory=str(empty))
    _assert_stopped_once(proc, "no hosts in group 'baremetal'", "the group is missing", "-i inventory/<site>")
    # a wrong -i: an inventory with hosts but no baremetal group
    other = tmp_path / "other.ini"
    other.write_text("[web]\nweb1 ansible_connection=local\n")
    proc = _run(lab, playbook, inventory=str(other))
    _assert_stopped_once(proc, "no hosts in group 'baremetal'", "groups found: web")
