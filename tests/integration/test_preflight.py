"""preflight against the real lab APIs, and site.yml end to end."""
import os
import re
import subprocess

import yaml

from ..recap import changed_hosts
from lab.harness import REPO, VENV_BIN


def test_preflight_reports_both_apis(lab, lab_module):
    r = lab_module(lab, "spineleaf.baremetal.preflight", {"required_drivers": ["fake-hardware"]})
    assert not r.get("failed"), r
    assert r["changed"] is False
    assert "fake-hardware" in r["baremetal"]["drivers"]  # the lab also has lab-hardware (its network-aware deploy)
    assert "segment" in r["network"]["extensions"]
    assert r["problems"] == []


def test_preflight_lists_every_problem(lab, lab_module):
    r = lab_module(lab, "spineleaf.baremetal.preflight", {
        "required_drivers": ["redfish", "ipmi"], "required_network_extensions": ["segment", "no-such-ext"]})
    assert r["failed"]
    assert "'redfish' is not enabled" in r["msg"]
    assert "'ipmi' is not enabled" in r["msg"]
    assert "'no-such-ext' is missing" in r["msg"]


def test_preflight_unreachable_api_is_a_clear_error(lab, lab_module):
    r = lab_module(lab, "spineleaf.baremetal.preflight", {
        "cloud": {"auth_type": "none", "baremetal_endpoint_override": "http://127.0.0.1:9",
                  "network_endpoint_override": "http://127.0.0.1:9/"}})
    assert r["failed"]
    assert "Bare Metal API" in r["msg"] and "Network API" in r["msg"]
    assert "Traceback" not in r["msg"]


def _site(lab, *extra):
    return subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "playbooks/site.yml",
                           "-i", "inventory/lab"] + list(extra), cwd=REPO, env=lab.ansible_env(),
                          capture_output=True, text=True, timeout=1800, check=False)


def test_site_yml_runs_against_the_lab_and_converges(lab, conn):
    with open(os.path.join(REPO, "inventory", "lab", "group_vars", "all.yml")) as f:
        image = yaml.safe_load(f)["deploy_image"]["source"]
    # A rolling upgrade of an earlier test on this worker's lab (the installed collection's, AWX's)
    # leaves nodes active with its image: site.yml never re-images an active node unless told to,
    # so this run is told to, as an operator bringing such nodes back to the site's image would.
    drifted = [n.name for n in conn.baremetal.nodes(details=True) if re.match(r"^r0[1-3]-n0[1-4]$", n.name or "")
               and n.provision_state == "active" and n.instance_info.get("image_source") != image]
    proc = _site(lab, *(["-e", "deploy_rebuild=auto"] if drifted else []))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "failed=0" in proc.stdout
    # The lab site sets deploy_image: the run ends with every node deployed with it.
    nodes = [n for n in conn.baremetal.nodes(details=True) if re.match(r"^r0[1-3]-n0[1-4]$", n.name or "")]
    assert len(nodes) == 12
    wrong = [(n.name, n.provision_state, n.instance_info.get("image_source"), n.last_error) for n in nodes
             if n.provision_state != "active" or n.instance_info.get("image_source") != image]
    assert wrong == [], (wrong, proc.stdout[-6000:])
    # Every play is idempotent and no role undoes another's work: a second run changes nothing.
    again = _site(lab)
    assert again.returncode == 0, again.stdout[-4000:]
    assert changed_hosts(again.stdout) == [], again.stdout[-6000:]
    # ... and the deploy plays make no write call at all.
    writes = re.findall(r"rack r0\d within budget: .*?(\d+) write call", again.stdout)
    assert len(writes) == 6 and set(writes) == {"0"}, again.stdout[-6000:]
