"""The inventory plugins: the racks file against the YAML form, and the ironic plugin against the lab
after site.yml. Runs after test_preflight (which leaves the lab site enrolled): this file's
site.yml runs converge to the same state, so later tests see what they saw before."""
import json
import os
import re
import shutil
import subprocess

import yaml

from ..recap import changed_hosts, recap
from lab.harness import REPO, VENV_BIN

LAB_INVENTORY = os.path.join(REPO, "inventory", "lab")
RACKS_FILE = os.path.join(LAB_INVENTORY, "lab.racks.yml")
PASSWORD = "Kn0wn-BMC-Passw0rd-4711"
CONFIGDRIVE = "H4sIAKnownConfigDrive0815"
# Kept in inventory/lab only so that Ansible can read cabling.yml as an inventory file; the lab
# ramdisk reads the file itself and no role uses the variable (see cabling.yml).
NOT_SITE_MODEL = ("lab_cabling",)


def ansible_env(lab=None):
    if lab is not None:
        return lab.ansible_env()
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    return env


def inventory(source, *args, lab=None, env=None):
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-inventory"), "-i", source] + list(args or ["--list"]),
                          cwd=REPO, env=env or ansible_env(lab), capture_output=True, text=True, timeout=600,
                          check=False)
    return proc


def plain(value):
    """ansible-inventory marks values from an API as unsafe ({"__ansible_unsafe": ...}): unwrap."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def listed(source, lab=None, env=None):
    proc = inventory(source, lab=lab, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "[WARNING]" not in proc.stderr, proc.stderr[-3000:]
    return plain(json.loads(proc.stdout))


def members(data, group):
    """Hosts of a group in ansible-inventory --list output, children included."""
    entry = data.get(group) or {}
    hosts = set(entry.get("hosts") or [])
    for child in entry.get("children") or []:
        hosts |= members(data, child)
    return hosts


# ------------------------------------------------------------------ racks plugin
def test_racks_file_equals_the_yaml_form_host_by_host(tmp_path):
    # A copy alone in a directory: nothing from inventory/lab/group_vars can fill a gap.
    alone = tmp_path / "lab.racks.yml"
    shutil.copy(RACKS_FILE, alone)
    racks = listed(str(alone))
    yaml_form = listed(LAB_INVENTORY)
    r_hosts, y_hosts = racks["_meta"]["hostvars"], yaml_form["_meta"]["hostvars"]
    assert sorted(r_hosts) == sorted(y_hosts) and len(y_hosts) == 12
    for host, y_vars in y_hosts.items():
        expected = dict((k, v) for k, v in y_vars.items() if k not in NOT_SITE_MODEL)
        assert r_hosts[host] == expected, host
    for group in ["baremetal"] + ["rack_r0%d" % i for i in (1, 2, 3)]:
        assert members(racks, group) == members(yaml_form, group), group
    assert members(racks, "role_compute") == {h for h, v in y_hosts.items() if v["node_role"] == "compute"}
    # The directory reads the YAML form only (ansible.cfg ignores *.racks.yml there).
    assert "role_compute" not in yaml_form


def test_racks_plugin_is_constructable(tmp_path):
    data = yaml.safe_load(open(RACKS_FILE))
    data["keyed_groups"] = [{"key": "rack_physnet", "prefix": "physnet"}]
    data["groups"] = {"bonded": "bonds is defined"}
    data["compose"] = {"pxe_mac": "nics | selectattr('pxe') | map(attribute='mac') | first"}
    path = tmp_path / "constructed.racks.yml"
    path.write_text(yaml.safe_dump(data))
    out = listed(str(path))
    assert members(out, "physnet_leaf2") == {"r02-n01", "r02-n02", "r02-n03", "r02-n04"}
    assert members(out, "bonded") == {"r03-n01", "r03-n02", "r03-n03", "r03-n04"}
    assert out["_meta"]["hostvars"]["r01-n03"]["pxe_mac"] == "52:54:00:01:03:01"


def test_racks_file_with_errors_yields_nothing_and_names_file_rack_and_range(tmp_path):
    data = yaml.safe_load(open(RACKS_FILE))
    data["racks"]["r02"] = {"index": 2, "nodes": [
        {"range": "r02-n[01:02]", "bmc_address": "127.0.1.1",
         "nics": [{"name": "eno1", "mac": "52:54:00:02:{n:02d}:01", "pxe": True, "leaf": "leaf-r01-a", "port": 60}]}]}
    path = tmp_path / "broken.racks.yml"
    path.write_text(yaml.safe_dump(data))
    proc = inventory(str(path))
    err = re.sub(r"\s+", " ", proc.stderr)
    assert "broken.racks.yml:" in err
    assert "rack r02 range r02-n[01:02] node r02-n01: NIC eno1: leaf leaf-r01-a is a leaf of rack r01" in err
    assert "port Ethernet1/60 (number 60) is beyond leaf leaf-r01-a's 48 ports" in err
    assert "node r02-n01: BMC address 127.0.1.1 is also the BMC of r01-n01" in err
    out = json.loads(proc.stdout) if proc.returncode == 0 else {}
    assert not (out.get("_meta") or {}).get("hostvars"), "a file with errors must add no host"


# ------------------------------------------------------------------ site.yml with either form
def _site(lab, source):
    return subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/site.yml", "-i", source],
                          cwd=REPO, env=lab.ansible_env(), capture_output=True, text=True, timeout=1800, check=False)


def _end_state(conn):
    """What site.yml leaves in Ironic and Neutron, without timestamps and UUIDs."""
    nodes = dict((n.id, n) for n in conn.baremetal.nodes(details=True))
    groups = dict((g.id, g.name) for g in conn.baremetal.port_groups(details=True))
    state = {"nodes": {}, "ports": {}, "port_groups": sorted(groups.values())}
    for n in nodes.values():
        state["nodes"][n.name] = (n.driver, n.driver_info, n.properties, n.extra, sorted(n.traits or []),
                                  n.resource_class, n.provision_state, n.is_maintenance)
    for p in conn.baremetal.ports(details=True):
        state["ports"][p.address] = (nodes[p.node_id].name, p.physical_network, p.is_pxe_enabled,
                                     p.local_link_connection, groups.get(p.port_group_id))
    segments = dict((s.id, s.name) for s in conn.network.segments())
    state["networks"] = sorted(n.name for n in conn.network.networks())
    state["segments"] = sorted((s.name, s.physical_network, s.segmentation_id) for s in conn.network.segments())
    state["subnets"] = sorted((s.name, s.cidr, s.gateway_ip, segments.get(s.segment_id),
                               json.dumps(s.host_routes, sort_keys=True)) for s in conn.network.subnets())
    return state


def test_site_yml_with_the_racks_file_reaches_the_yaml_end_state(lab, conn):
    yaml_run = _site(lab, "inventory/lab")
    assert yaml_run.returncode == 0, yaml_run.stdout[-4000:] + yaml_run.stderr[-2000:]
    expected = _end_state(conn)
    assert len([n for n in expected["nodes"] if re.match(r"r0[123]-n0[1-4]$", n)]) == 12
    racks_run = _site(lab, "inventory/lab/lab.racks.yml")
    assert racks_run.returncode == 0, racks_run.stdout[-4000:] + racks_run.stderr[-2000:]
    assert len([h for h in recap(racks_run.stdout) if re.match(r"r0[123]-n0[1-4]$", h)]) == 12
    # Whatever differs between the two forms would be written (and changed) here.
    assert changed_hosts(racks_run.stdout) == [], racks_run.stdout[-6000:]
    assert _end_state(conn) == expected


# ------------------------------------------------------------------ ironic plugin
def _ironic_config(tmp_path, **options):
    path = tmp_path / "lab.ironic.yml"
    path.write_text(yaml.safe_dump(dict({"plugin": "spineleaf.baremetal.ironic"}, **options)))
    return str(path)


def test_ironic_plugin_lists_the_lab_site_after_site_yml(lab, conn, tmp_path):
    proc = _site(lab, "inventory/lab")
    assert proc.returncode == 0, proc.stdout[-4000:]
    site = listed(LAB_INVENTORY)
    out = listed(_ironic_config(tmp_path), lab=lab)
    hostvars = out["_meta"]["hostvars"]
    lab_hosts = set(site["_meta"]["hostvars"])
    assert lab_hosts <= set(hostvars)
    for group in ("rack_r01", "rack_r02", "rack_r03"):
        assert members(out, group) & lab_hosts == members(site, group), group
    assert set(out["baremetal"]["children"]) >= {"rack_r01", "rack_r02", "rack_r03"}
    for host in lab_hosts:
        want, got = site["_meta"]["hostvars"][host], hostvars[host]
        assert got["rack"] == want["rack"] and got["node_role"] == want["node_role"], host
        assert host in members(out, "role_" + want["node_role"])
        assert host in members(out, "resource_class_baremetal_" + want["node_role"])
        assert host in members(out, "state_" + got["ironic"]["provision_state"].replace(" ", "_"))
        ports = dict((p["address"], p) for p in got["ironic"]["ports"])
        assert sorted(ports) == sorted(nic["mac"] for nic in want["nics"]), host
        for nic in want["nics"]:
            port = ports[nic["mac"]]
            assert port["physical_network"] == want["rack_physnet"]
            # switch and port as the lab's LLDP reported them during introspection
            assert (port.get("switch"), port.get("port")) == (nic["leaf"], nic["port"]), (host, nic["name"])
        assert "CUSTOM_RACK_%s" % want["rack"].upper() in got["ironic"]["traits"]
    # The repository's own configuration (the AWX source), in --graph form.
    graph = inventory("inventory/lab.ironic.yml", "--graph", "rack_r02", lab=lab)
    assert graph.returncode == 0, graph.stderr[-2000:]
    assert "r02-n03" in graph.stdout and "r01-n01" not in graph.stdout
    arch = inventory("inventory/lab.ironic.yml", "--graph", "arch_x86_64", lab=lab)
    assert "r01-n01" in arch.stdout, arch.stdout + arch.stderr[-2000:]


def test_ironic_plugin_shows_no_secret(lab, conn, tmp_path):
    node = conn.baremetal.create_node(
        name="inv-secret-node", driver="fake-hardware",
        driver_info={"ipmi_address": "10.99.0.1", "ipmi_username": "root", "ipmi_password": PASSWORD},
        instance_info={"image_source": "http://example.invalid/img.qcow2", "configdrive": CONFIGDRIVE},
        extra={"rack": "r09", "bmc_password": PASSWORD})
    try:
        # The API itself hides some of them but not all: this test can fail.
        assert conn.baremetal.get_node(node.id).extra["bmc_password"] == PASSWORD
        config = _ironic_config(tmp_path, compose={"everything": "ironic"})
        for args in (["--list"], ["--host", "inv-secret-node"], ["--list", "-vvv"], ["--graph"]):
            proc = inventory(config, *args, lab=lab)
            assert proc.returncode == 0, proc.stderr[-2000:]
            text = proc.stdout + proc.stderr
            for secret in (PASSWORD, CONFIGDRIVE, "ipmi_password", "ipmi_username", "configdrive"):
                assert secret not in text, (args, secret)
        hv = listed(config, lab=lab)["_meta"]["hostvars"]["inv-secret-node"]
        assert hv["rack"] == "r09" and hv["ironic"]["driver_info"] == {"ipmi_address": "10.99.0.1"}
        assert hv["ironic"]["instance_info"] == {"image_source": "http://example.invalid/img.qcow2"}
    finally:
        conn.baremetal.delete_node(node.id)


def test_ironic_plugin_cache_serves_without_the_api(lab, tmp_path):
    cache_dir = tmp_path / "cache"
    config = _ironic_config(tmp_path, cache=True, cache_plugin="ansible.builtin.jsonfile",
                            cache_connection=str(cache_dir), cache_timeout=600,
                            node_filters={"provision_state": "active"})  # site.yml deploys the lab site
    first = listed(config, lab=lab)
    assert "r01-n01" in first["_meta"]["hostvars"]
    cached = "".join(open(os.path.join(cache_dir, f)).read() for f in os.listdir(cache_dir))
    assert "r01-n01" in cached and "ipmi_password" not in cached and "lab-bmc-secret" not in cached
    # The API is out of reach now (no such cloud); the cache still answers.
    env = dict(lab.ansible_env(), OS_CLOUD="no-such-cloud")
    again = listed(config, env=env)
    assert sorted(again["_meta"]["hostvars"]) == sorted(first["_meta"]["hostvars"])
    # ... and without the cache, the same configuration fails with a clear message naming the file.
    proc = inventory(_ironic_config(tmp_path), env=env)
    err = re.sub(r"\s+", " ", proc.stderr)
    assert "lab.ironic.yml" in err and "no-such-cloud" in err
    assert "Traceback" not in proc.stderr
