"""Fault injection (#14): a lab of its own per session, and the means to hurt it.

FAULTS_IRONIC_PORT / FAULTS_NEUTRON_PORT (else TEST_*_PORT + 400) and FAULTS_LAB_STATE_DIR keep it
apart from the integration and bad-input labs, so all run in one `make test`. Sizes are small by
default so the suite stays within a few minutes; FAULTS_NODES (enrollment, default 40; the issue's
figure is 200), FAULTS_RACK_NODES (inspection / deployment, default 8) and FAULTS_RACKS (routed
network build, default 8; the issue's figure is 16) make it bigger."""
import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time

import pytest
import yaml

from lab.harness import REPO, VENV_BIN, Lab, module_play

NODES = int(os.environ.get("FAULTS_NODES", "40"))
RACK_NODES = int(os.environ.get("FAULTS_RACK_NODES", "8"))
RACKS = int(os.environ.get("FAULTS_RACKS", "8"))

ENROLL = "spineleaf.baremetal.ironic_nodes"

# (test, what ran, rc, seconds) of every ansible-playbook run, printed at the end of the session:
# the figures of README "Reliability".
RUNS = []


def pytest_terminal_summary(terminalreporter):
    if not RUNS:
        return
    terminalreporter.section("fault injection: module and ansible-playbook runs (seconds)")
    for test, what, rc, seconds in RUNS:
        terminalreporter.write_line("%-55s %-40s rc=%s %7.1f" % (test, what, rc, seconds))


@pytest.fixture(scope="session")
def lab():
    ironic = int(os.environ.get("FAULTS_IRONIC_PORT") or int(os.environ.get("TEST_IRONIC_PORT", "16385")) + 400)
    neutron = int(os.environ.get("FAULTS_NEUTRON_PORT") or int(os.environ.get("TEST_NEUTRON_PORT", "19696")) + 400)
    state = os.environ.get("FAULTS_LAB_STATE_DIR") or os.path.join(REPO, ".lab", "faults-run")
    instance = Lab(ironic, neutron, state)
    # Deploys take ~2 s (1 s per fake deploy step): long enough to be caught in `deploying`.
    instance.env["LAB_DEPLOY_DELAY"] = os.environ.get("FAULTS_DEPLOY_DELAY", "1")
    with instance.fresh():
        yield instance


@pytest.fixture(scope="session")
def conn(lab):
    return lab.connect()


# ------------------------------------------------------------------ the faults
def _pid(lab, name):
    with open(os.path.join(lab.state_dir, name + ".pid")) as f:
        return int(f.read().strip())


def _gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def sigkill(lab, name):
    """SIGKILL the whole process group labctl started for ``name`` (ironic: the API and the
    conductor with its forked workers; neutron: gunicorn and its worker), as a crash or an OOM
    kill would: no clean-up, no lock released, sqlite mid-transaction."""
    pid = _pid(lab, name)
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not _gone(pid):
        assert time.monotonic() < deadline, "%s (pid %d) survived SIGKILL" % (name, pid)
        time.sleep(0.05)


def restart(lab):
    """`labctl up` again: starts what is dead (the killed service), leaves the rest running."""
    lab.ctl("up")


def wait_until(what, predicate, timeout, interval=0.1):
    """Poll ``predicate()`` until it returns something true; fail naming ``what`` at the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out after %ss waiting for %s" % (timeout, what)
        time.sleep(interval)


# ------------------------------------------------------------------ what the tests ask for
def _mac(prefix, i):
    return "52:54:00:%02x:%02x:%02x" % (prefix, i // 256, i % 256)


def node_specs(prefix, count, mac_prefix, **extra):
    specs = []
    for i in range(count):
        spec = {"name": "%s%03d" % (prefix, i), "driver": "fake-hardware",
                "driver_info": {"ipmi_address": "10.%d.%d.%d" % (mac_prefix, i // 250, i % 250 + 1),
                                "ipmi_username": "admin", "ipmi_password": "fault-bmc-secret"},
                "resource_class": "baremetal.compute", "properties": {"cpu_arch": "x86_64"},
                "extra": {"rack": "f%02d" % (i % 4)},
                "ports": [{"address": _mac(mac_prefix, 2 * i), "pxe_enabled": True, "physical_network": "leaf1"},
                          {"address": _mac(mac_prefix, 2 * i + 1), "pxe_enabled": False, "physical_network": "leaf1"}]}
        spec.update(extra)
        specs.append(spec)
    return specs


# ------------------------------------------------------------------ reading the lab
def nodes(conn, prefix):
    """Raw API node records whose name starts with ``prefix``, as a list (duplicates kept)."""
    out = []
    url = "/nodes/detail?limit=1000"
    while url:
        page = conn.baremetal.get(url, microversion="1.81").json()
        out += [n for n in page["nodes"] if (n.get("name") or "").startswith(prefix)]
        url = page.get("next", "").split("/v1", 1)[-1] if page.get("next") else None
    return out


def ports(conn, node_uuids):
    wanted = set(node_uuids)
    found = conn.baremetal.get("/ports?fields=uuid,address,node_uuid&limit=5000", microversion="1.81").json()["ports"]
    return [p for p in found if p["node_uuid"] in wanted]


def settled(node, state):
    """Problems of one node against the end state asked for (an empty list when it is right)."""
    bad = []
    if node["provision_state"] != state or node.get("target_provision_state"):
        bad.append("%s: %s -> %s, not %s" % (node["name"], node["provision_state"], node.get("target_provision_state"), state))
    if node["maintenance"]:
        bad.append("%s: in maintenance (%s)" % (node["name"], node.get("maintenance_reason")))
    if node.get("reservation"):
        bad.append("%s: still locked by %s" % (node["name"], node["reservation"]))
    return bad


# ------------------------------------------------------------------ running the collection
class Run:
    """ansible-playbook in the background, in a session of its own (so the test can SIGKILL the
    whole run); ``finish()`` waits for it within a bound and returns (rc, module result or None,
    seconds since start, output)."""

    def __init__(self, env, cmd, result_file=None, tmp=None, what=""):
        self.what = what
        self.tmp = tmp
        self.result_file = result_file
        self.started = time.monotonic()
        self.log = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)

    def running(self):
        return self.proc.poll() is None

    def kill(self):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def finish(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("ansible-playbook still running %ss after start" % timeout) from None
        elapsed = time.monotonic() - self.started
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
        RUNS.append((test, self.what, self.proc.returncode, elapsed))
        self.log.seek(0)
        output = self.log.read()
        result = None
        if self.result_file and os.path.exists(self.result_file):
            with open(self.result_file) as f:
                result = json.load(f)
        if self.tmp:
            self.tmp.cleanup()
        return self.proc.returncode, result, elapsed, output


def start_module(env_of, name, args):
    """Start one module task against ``env_of.ansible_env()`` (a Lab or a proxy's view of it)."""
    tmp = tempfile.TemporaryDirectory()
    out = os.path.join(tmp.name, "result.json")
    pb = os.path.join(tmp.name, "play.yml")
    with open(pb, "w") as f:
        yaml.safe_dump(module_play(name, args, out), f, sort_keys=False)
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), pb, "-i", "localhost,"]
    return Run(env_of.ansible_env(), cmd, out, tmp, what=name.split(".")[-1])


# module() runs through pytest-ansible (the session's lab_module fixture, tests/conftest.py), in
# this process; start_module() stays an ansible-playbook of its own, since the tests SIGKILL it or a
# service under it while it runs.
_PYTEST_ANSIBLE = {}


@pytest.fixture(scope="session", autouse=True)
def _modules_through_pytest_ansible(lab_module):
    _PYTEST_ANSIBLE["run"] = lab_module


def module(env_of, name, args, timeout=600):
    """Run one module task to its end (within ``timeout`` seconds); return (result, seconds)."""
    started = time.monotonic()
    result = _PYTEST_ANSIBLE["run"](env_of, name, args, timeout=timeout)
    elapsed = time.monotonic() - started
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
    RUNS.append((test, name.split(".")[-1] + " (pytest-ansible)", "failed" if result.get("failed") else 0, elapsed))
    return result, elapsed


def start_playbook(lab, playbook, inventory, extra_vars=None):
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), playbook, "-i", inventory]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    return Run(lab.ansible_env(), cmd, what=os.path.basename(playbook))


class ProxiedCloud:
    """The lab seen through loopback proxies: ``ansible_env()`` points OS_CLIENT_CONFIG_FILE at a
    clouds.yaml whose endpoints are the proxies' (either may be the lab's own URL)."""

    def __init__(self, lab, tmpdir, ironic_url=None, neutron_url=None):
        self.lab = lab
        self.clouds_yaml = os.path.join(str(tmpdir), "clouds.yaml")
        with open(self.clouds_yaml, "w") as f:
            yaml.safe_dump({"clouds": {"spineleaf-lab": {
                "auth_type": "none", "baremetal_status_code_retries": 0,
                "baremetal_endpoint_override": ironic_url or lab.ironic_url,
                "network_endpoint_override": (neutron_url or lab.neutron_url) + "/"}}}, f)

    def ansible_env(self):
        env = self.lab.ansible_env()
        env["OS_CLIENT_CONFIG_FILE"] = self.clouds_yaml
        return env
