"""rack_job_args: each rack's own options of a rack job (rack_jobs' racks), from the play's nodes."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.rack_job import rack_job_args


def hv(name, rack, **extra):
    return dict(inventory_hostname=name, rack=rack, **extra)


def test_names_per_rack_sorted_and_nodes_without_a_rack_left_out():
    nodes = [hv("b1", "r02"), hv("a1", "r01"), hv("a2", "r01"), dict(inventory_hostname="x"), hv("y", "")]
    assert rack_job_args(nodes) == {"r01": {"nodes": ["a1", "a2"]}, "r02": {"nodes": ["b1"]}}
    assert list(rack_job_args(nodes)) == ["r01", "r02"]


def test_budget_label_and_rack():
    nodes = [hv("a%d" % i, 1) for i in range(10)] + [hv("b1", 2)]
    got = rack_job_args(nodes, failure_budget="20%", label=True, rack=True)
    assert got["1"] == {"nodes": ["a%d" % i for i in range(10)], "max_failures": 2, "progress_label": "1", "rack": "1"}
    assert got["2"]["max_failures"] == 0  # 20% of one node, rounded down


def test_specs_with_roles_and_templates():
    templates = [{"name": "CUSTOM_ROLE_STORAGE", "roles": ["storage"], "steps": []}]
    nodes = [hv("s1", "r01", node_role="storage", deploy_templates=templates), hv("c1", "r01", node_role="compute")]
    got = rack_job_args(nodes, specs=True, templates=True, roles=True)
    assert got["r01"]["nodes"] == [{"name": "s1", "instance_traits": ["CUSTOM_ROLE_STORAGE"], "role": "storage"},
                                   {"name": "c1", "instance_traits": [], "role": "compute"}]
    assert rack_job_args(nodes, specs=True)["r01"]["nodes"] == [{"name": "s1"}, {"name": "c1"}]


def test_fingerprints_of_placements():
    placements = [{"name": "a1", "rack": "r01", "nics": [{"mac": "52:54:00:00:00:01", "leaf": "leaf-a", "port": "Ethernet1/1"}]},
                  {"name": "b1", "rack": "r02", "nics": []}]
    got = rack_job_args(placements, fingerprints=True)
    assert got["r01"]["nodes"] == ["a1"] and isinstance(got["r01"]["fingerprints"]["a1"], str)
    assert got["r02"]["fingerprints"] == {"b1": None}


def test_bad_input_is_named():
    with pytest.raises(AnsibleFilterError, match="list of node hostvars"):
        rack_job_args("r01")
    with pytest.raises(AnsibleFilterError, match="rack r01"):
        rack_job_args([hv("a", "r01")], failure_budget="lots")
