"""Bad inventory-plugin configurations (#14): the racks plugin (broken ranges, duplicate hosts and
MACs, a rack without its index, wrong types) and the ironic plugin (unknown cloud, bad fields and
filters, a non-boolean validate_certs) each fail with a message naming the file, the rack / node or
the option, and add nothing to the inventory. Ironic and Neutron are read back: unchanged."""
import copy
import os
import re
import subprocess

import pytest
import yaml

from lab.harness import REPO, VENV_BIN
from .conftest import snapshot

NIC = {"name": "eno1", "mac": {"base": "52:54:00:{rack_index:02d}:77:01", "step": 256}, "pxe": True,
       "leaf": "leaf-{rack}-a", "port": {"base": 0, "step": 1}}
RACKS = {"plugin": "spineleaf.baremetal.racks", "vars": {"site_name": "bi", "bmc_driver": "fake-hardware"},
         "switches": {"port_name": "Ethernet1/{port}", "port_count": 48},
         "defaults": {"physnet": "leaf{rack_index}", "leaves": {"leaf-{rack}-a": {}},
                      "nodes": [{"range": "{rack}-n[01:02]", "role": "compute", "bmc_address": "10.77.{rack_index}.{n}",
                                 "nics": [NIC]}]},
         "racks": {"r01": {"index": 1}, "r02": {"index": 2}}}


def _nodes(d, **kw):
    d["defaults"]["nodes"][0].update(kw)


def _second_range(d):
    d["racks"]["r01"]["nodes"] = [dict(d["defaults"]["nodes"][0]), dict(d["defaults"]["nodes"][0], range="r01-n[02:03]")]


# (id, change to the valid racks file, patterns the error must match)
RACKS_CASES = [
    ("range_unclosed", lambda d: _nodes(d, range="{rack}-n[01:"),
     [r"rack r01: range \{rack\}-n\[01:: 'r01-n\[01:' does not expand"]),
    ("range_reversed", lambda d: _nodes(d, range="{rack}-n[09:01]"),
     [r"rack r01: range .*'r01-n\[09:01\]' does not expand: needs start <= end"]),
    ("range_no_brackets_twice", lambda d: _nodes(d, range="{rack}-n[01:02]-[1:2]"), [r"rack r01", r"does not expand"]),
    ("range_empty", lambda d: _nodes(d, range=""), [r"rack r01", r"range must be a non-empty string"]),
    ("duplicate_hosts_in_rack", _second_range, [r"rack r01 range r01-n\[02:03\]: node r01-n02 overlaps rack r01 range"]),
    ("duplicate_hosts_across_racks", lambda d: _nodes(d, range="x-n[01:02]"),
     [r"rack r02 range x-n\[01:02\]: node x-n01 overlaps rack r01 range x-n\[01:02\]"]),
    ("duplicate_mac", lambda d: _nodes(d, nics=[dict(NIC, mac={"base": "52:54:00:00:77:01", "step": 256})]),
     [r"rack r02 range r02-n\[01:02\]: node r02-n01 NIC eno1: MAC 52:54:00:00:78:01 is also on r01-n01 NIC eno1"]),
    ("bad_mac_base", lambda d: _nodes(d, nics=[dict(NIC, mac={"base": "52:54:zz:00:00:01", "step": 1})]),
     [r"node r01-n01", r"mac base '52:54:zz:00:00:01' is not a MAC"]),
    ("rack_without_index", lambda d: d["racks"].update(r02={}), [r"rack r02: index must be a positive integer \(got None\)"]),
    ("rack_index_text", lambda d: d["racks"].update(r02={"index": "two"}),
     [r"rack r02: index must be a positive integer \(got 'two'\)"]),
    ("unknown_pattern_field", lambda d: _nodes(d, bmc_address="10.77.{nope}.{n}"),
     [r"node r01-n01: pattern '10.77.\{nope\}.\{n\}' does not expand: unknown field \{nope\}"]),
    ("racks_not_a_dict", lambda d: d.update(racks=["r01"]), [r"Config 'racks'", r"dict"]),
    ("leaf_switches_given", lambda d: d["vars"].update(leaf_switches={}), [r"vars: leaf_switches is derived"]),
    ("port_beyond_leaf", lambda d: _nodes(d, nics=[dict(NIC, port={"base": 47, "step": 1})]),
     [r"node r01-n02: NIC eno1: port Ethernet1/49 \(number 49\) is beyond leaf leaf-r01-a's 48 ports"]),
]

# (id, ironic plugin options besides `plugin`, patterns)
IRONIC_CASES = [
    ("unknown_cloud", {"cloud": "no-such-cloud"}, [r"Cloud no-such-cloud was not found", r"clouds.yaml"]),
    ("cloud_not_a_string", {"cloud": ["spineleaf-lab"]}, [r"Config 'cloud'", r"str"]),
    ("unknown_filter_field", {"cloud": "spineleaf-lab", "node_filters": {"colour": "red"}},
     [r"listing Ironic nodes failed: Unexpected arguments: colour \(HTTP 400\)"]),
    ("filter_list_value", {"cloud": "spineleaf-lab", "node_filters": {"provision_state": ["a", "b"]}},
     [r"Expected string for provision_state"]),
    ("filters_not_a_dict", {"cloud": "spineleaf-lab", "node_filters": "active"}, [r"Config 'node_filters'", r"dict"]),
    ("api_timeout_text", {"cloud": "spineleaf-lab", "api_timeout": "soon"}, [r"Config 'api_timeout'", r"int"]),
    # Ansible's config layer reads unknown text as false: TLS verification must not go off on a typo
    ("validate_certs_text", {"cloud": "spineleaf-lab", "validate_certs": "maybe"},
     [r"validate_certs must be true or false, got 'maybe'"]),
    ("with_ports_text", {"cloud": "spineleaf-lab", "with_ports": "maybe"}, [r"with_ports must be true or false"]),
]


def _inventory(lab, path):
    env = lab.ansible_env()
    env["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "true"  # a source that fails to parse fails the command
    return subprocess.run([os.path.join(VENV_BIN, "ansible-inventory"), "-i", path, "--list"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def before(conn):
    return snapshot(conn)


def test_valid_racks_file_parses(lab, tmp_path):
    """The cases below are one change away from this file, which parses."""
    path = tmp_path / "ok.racks.yml"
    path.write_text(yaml.safe_dump(RACKS))
    proc = _inventory(lab, str(path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "r02-n02" in proc.stdout


@pytest.mark.parametrize("case_id,change,patterns", RACKS_CASES, ids=[c[0] for c in RACKS_CASES])
def test_racks_case(lab, conn, before, tmp_path, case_id, change, patterns):
    data = copy.deepcopy(RACKS)
    change(data)
    path = tmp_path / ("%s.racks.yml" % case_id)
    path.write_text(yaml.safe_dump(data))
    proc = _inventory(lab, str(path))
    assert proc.returncode != 0, proc.stdout[-2000:]
    for pattern in patterns:
        assert re.search(pattern, proc.stderr), "%s: %r not in: %s" % (case_id, pattern, proc.stderr[-3000:])
    assert "r01-n01" not in proc.stdout  # nothing added
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("case_id,options,patterns", IRONIC_CASES, ids=[c[0] for c in IRONIC_CASES])
def test_ironic_case(lab, conn, before, tmp_path, case_id, options, patterns):
    path = tmp_path / ("%s.ironic.yml" % case_id)
    path.write_text(yaml.safe_dump(dict({"plugin": "spineleaf.baremetal.ironic"}, **options)))
    proc = _inventory(lab, str(path))
    assert proc.returncode != 0, proc.stdout[-2000:]
    for pattern in patterns:
        assert re.search(pattern, proc.stderr), "%s: %r not in: %s" % (case_id, pattern, proc.stderr[-3000:])
    assert "seed-a" not in proc.stdout
    assert "Traceback" not in proc.stderr


def test_nothing_written(conn, before):
    assert snapshot(conn) == before
