"""Bad role variables (#14): each role refuses a wrong type or value of its variables, or of the site
variables it reads (``rollout``, ``deploy_image``, a rack group without ``rack``), before its first
write, with a message naming the variable (and the node or rack where there is one).

One playbook runs every case as a play of its own (block/rescue per host records the outcome);
Ironic and Neutron are read back afterwards: nothing may differ from the snapshot taken before."""
import json
import os
import re
import tempfile

import pytest
import yaml

from lab.harness import VENV_BIN
from .conftest import snapshot

ROLE = "spineleaf.baremetal."


def _host(n, rack="r01"):
    return {"bmc_address": "10.99.1.%d" % n, "node_role": "compute",
            "nics": [{"name": "eno1", "mac": "52:54:00:b7:01:%02x" % n, "pxe": True, "leaf": "leaf-%s-a" % rack}]}


INVENTORY = {"all": {
    "vars": {
        "ansible_connection": "local", "ansible_python_interpreter": os.path.join(VENV_BIN, "python"),
        "site_name": "badroles", "cloud": "spineleaf-lab", "bmc_driver": "fake-hardware",
        "leaf_switches": {"leaf-r01-a": {"rack": "r01"}},
        "routed_networks": [{"name": "bi-ctl", "provisioning": True, "supernet": "10.98.0.0/16",
                             "prefix_per_rack": 24, "vlan_base": 300, "physnet_pattern": "leaf{rack_index}"}],
        "rollout": {"rack_order": ["r01"], "max_unavailable": 1, "failure_budget": 0},
        "rollout_image": "http://images.lab.invalid/bi-2.qcow2",
        "deploy_image": {"source": "http://images.lab.invalid/bi-1.qcow2"},
    },
    "children": {"baremetal": {"children": {
        "rack_r01": {"vars": {"rack": "r01", "rack_index": 1, "rack_physnet": "leaf1", "rack_leaves": ["leaf-r01-a"]},
                     "hosts": {"bi-rn01": _host(1)}},
        # a node whose NIC has a malformed MAC
        "rack_r08": {"vars": {"rack": "r08", "rack_index": 8, "rack_physnet": "leaf8", "rack_leaves": ["leaf-r08-a"]},
                     "hosts": {"bi-rn08": dict(_host(8, "r08"), nics=[
                         {"name": "eno1", "mac": "52:54:00:zz:08:01", "pxe": True, "leaf": "leaf-r08-a"}])}},
        # a rack group whose `rack` variable was forgotten
        "rack_r09": {"vars": {"rack_index": 9, "rack_physnet": "leaf9"}, "hosts": {"bi-rn09": _host(9, "r09")}},
    }}},
}}

# (id, role, hosts, vars, patterns every failed host's message must match). Every listed host must fail.
CASES = [
    # ------------------------------------------------------------- enroll
    ("enroll_rack_group_without_rack", "enroll", "rack_r09", {},
     [r"bi-rn09: no 'rack' variable", r"rack group"]),
    ("enroll_target_state_bad", "enroll", "rack_r01", {"enroll_target_state": "active"},
     [r"enroll_target_state", r"active"]),
    ("enroll_concurrency_text", "enroll", "rack_r01", {"enroll_concurrency": "many"},
     [r"enroll_concurrency", r"int"]),
    ("enroll_ports_mode_bad", "enroll", "rack_r01", {"enroll_ports_mode": "replace"},
     [r"enroll_ports_mode", r"replace"]),
    ("enroll_bad_mac_in_inventory", "enroll", "rack_r08", {}, [r"bi-rn08", r"52:54:00:zz:08:01", r"MAC"]),
    # ------------------------------------------------------------- deploy
    ("deploy_image_without_source", "deploy", "rack_r01", {"deploy_image": {"checksum": "abc"}},
     [r"deploy_image.source"]),
    ("deploy_state_bad", "deploy", "rack_r01", {"deploy_state": "gone"}, [r"deploy_state", r"gone"]),
    ("deploy_failure_budget_text", "deploy", "rack_r01", {"deploy_failure_budget": "lots"},
     [r"failure_budget", r"lots"]),
    ("deploy_image_not_dict", "deploy", "rack_r01", {"deploy_image": ["http://x/i.qcow2"]},
     [r"deploy_image", r"dict"]),
    # ------------------------------------------------------------- rolling_upgrade (the site's `rollout`)
    ("rollout_failure_budget_abc", "rolling_upgrade", "rack_r01",
     {"rollout": {"rack_order": ["r01"], "max_unavailable": 1, "failure_budget": "abc"}},
     [r"failure_budget", r"abc"]),
    ("rollout_max_unavailable_zero", "rolling_upgrade", "rack_r01",
     {"rollout": {"rack_order": ["r01"], "max_unavailable": 0, "failure_budget": 0}},
     [r"max_unavailable", r"at least 1", r"\b0\b"]),
    ("rollout_max_unavailable_negative", "rolling_upgrade", "rack_r01",
     {"rollout": {"rack_order": ["r01"], "max_unavailable": -1, "failure_budget": 0}},
     [r"max_unavailable", r"at least 1", r"-1"]),
    ("rollout_max_unavailable_text", "rolling_upgrade", "rack_r01", {"rolling_upgrade_max_unavailable": "two"},
     [r"rolling_upgrade_max_unavailable", r"int"]),
    ("rollout_image_without_source", "rolling_upgrade", "rack_r01", {"rollout_image": {"checksum": "abc"}},
     [r"no image", r"rollout_image"]),
    ("rollout_rack_group_without_rack", "rolling_upgrade", "rack_r09", {},
     [r"bi-rn09: no 'rack' variable"]),
    # ------------------------------------------------------------- routed_networks
    ("routed_networks_not_list", "routed_networks", "localhost", {"routed_networks_networks": "bi-ctl"},
     [r"option 'routed_networks_networks' is of type str", r"dict"]),
    ("routed_networks_vlan_4095", "routed_networks", "localhost", {
        "routed_networks_networks": [{"name": "bi-ctl", "supernet": "10.98.0.0/16", "prefix_per_rack": 24,
                                      "vlan_base": 4094, "physnet_pattern": "leaf{rack_index}"}],
        "routed_networks_racks": [{"rack": "r01", "rack_index": 1}, {"rack": "r02", "rack_index": 2}]},
     [r"network bi-ctl, rack r01: VLAN 4095 \(vlan_base \+ rack_index\) is outside 1-4094"]),
    ("routed_networks_state_bad", "routed_networks", "localhost", {"routed_networks_state": "gone"},
     [r"routed_networks_state", r"gone"]),
    # ------------------------------------------------------------- tag
    ("tag_rules_not_list", "tag", "rack_r01", {"tag_rules": {"name": "x"}}, [r"tag_rules", r"list"]),
    ("tag_mode_bad", "tag", "rack_r01", {"tag_mode": "replace"}, [r"tag_mode", r"replace"]),
    ("tag_rule_resource_class_list", "tag", "rack_r01", {"tag_rules": [
        {"name": "gpu", "when": "`true`", "resource_class": ["baremetal.gpu"]}]},
     [r"rule 'gpu': resource_class must be one string"]),
    # ------------------------------------------------------------- introspect
    ("introspect_blocking_findings_bad", "introspect", "rack_r01", {"introspect_blocking_findings": ["nope"]},
     [r"introspect_blocking_findings", r"nope"]),
    ("introspect_concurrency_text", "introspect", "rack_r01", {"introspect_concurrency": "lots"},
     [r"introspect_concurrency", r"int"]),
    # ------------------------------------------------------------- preflight
    ("preflight_validate_inventory_text", "preflight", "localhost", {"preflight_validate_inventory": "maybe"},
     [r"preflight_validate_inventory", r"bool"]),
]


def _plays(out):
    """One play per case on the case's hosts (one node each: a run_once task that fails drops the
    play's other hosts without a result). ansible_failed_result is reset before each case, and a
    loop's per-item messages are kept (its own message only says that items failed)."""
    plays = []
    for case_id, role, hosts, role_vars, _patterns in CASES:
        record = ("{{ bi_results | default({}) | combine({%r: {'failed': true, 'msg': "
                  "([ansible_failed_result.msg | default('')] + (ansible_failed_result.results | default([])"
                  " | map(attribute='msg', default='') | list)) | join(' | ')}}) }}" % case_id)
        plays.append({"name": case_id, "hosts": hosts, "gather_facts": False, "tasks": [
            {"name": "forget the last case's failure", "ansible.builtin.set_fact": {"ansible_failed_result": {}}},
            {"name": case_id, "block": [
                {"name": "role", "ansible.builtin.include_role": {"name": ROLE + role}, "vars": role_vars},
                {"name": "accepted", "ansible.builtin.set_fact": {
                    "bi_results": "{{ bi_results | default({}) | combine({%r: {'failed': false}}) }}" % case_id}},
            ], "rescue": [{"name": "refused", "ansible.builtin.set_fact": {"bi_results": record}}]}]})
    plays.append({"name": "save", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "save", "ansible.builtin.copy": {"dest": out, "mode": "0600", "content": (
            "{{ dict(groups['all'] | union(['localhost']) | zip(groups['all'] | union(['localhost'])"
            " | map('extract', hostvars, 'bi_results') | map('default', {}))) | to_json }}")}}]})
    return plays


@pytest.fixture(scope="module")
def outcome(lab, conn):
    before = snapshot(conn)
    with tempfile.TemporaryDirectory() as tmp:
        inv, pb, out = (os.path.join(tmp, n) for n in ("hosts.yml", "play.yml", "results.json"))
        with open(inv, "w") as f:
            yaml.safe_dump(INVENTORY, f)
        with open(pb, "w") as f:
            yaml.safe_dump(_plays(out), f, sort_keys=False)
        import subprocess
        proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), pb, "-i", inv], env=lab.ansible_env(),
                              capture_output=True, text=True, timeout=1200, check=False)
        assert os.path.exists(out), proc.stdout[-4000:] + proc.stderr[-2000:]
        with open(out) as f:
            results = json.load(f)
    return before, snapshot(conn), results


def test_nothing_written(outcome):
    before, after = outcome[:2]
    assert after == before


def _hosts(hosts):
    return ["localhost"] if hosts == "localhost" else sorted(
        h for h, v in INVENTORY["all"]["children"]["baremetal"]["children"][hosts]["hosts"].items())


@pytest.mark.parametrize("case_id,role,hosts,role_vars,patterns", CASES, ids=[c[0] for c in CASES])
def test_case(outcome, case_id, role, hosts, role_vars, patterns):
    for host in _hosts(hosts):
        result = outcome[2].get(host, {}).get(case_id)
        assert result is not None, "%s: no outcome recorded for %s" % (case_id, host)
        assert result.get("failed"), "%s was accepted on %s" % (case_id, host)
        msg = str(result.get("msg", ""))
        for pattern in patterns:
            assert re.search(pattern, msg), "%s on %s: %r not in message: %s" % (case_id, host, pattern, msg[:2000])
