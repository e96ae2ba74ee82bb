"""The per-rack AWX workflow: nodes, order, limits, approvals and the failure path."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.awx import FilterModule

F = FilterModule().filters()["awx_rollout_workflow"]


def by_id(nodes):
    return {n["identifier"]: n for n in nodes}


def chain(nodes, start):
    """Follow success edges from start: the order racks (and gates) run in."""
    ids, order = by_id(nodes), []
    cur = start
    while cur:
        order.append(cur)
        nxt = ids[cur]["related"]["success_nodes"]
        assert len(nxt) <= 1
        cur = nxt[0]["identifier"] if nxt else None
    return order


def test_one_node_per_rack_in_order_limited_to_its_rack():
    nodes = F(["r03", "r01", "r02"], "Rolling upgrade", "Spineleaf", extra_data={"rollout_image": "img"})
    assert [n["identifier"] for n in nodes] == ["rack_r03", "rack_r01", "rack_r02"]
    assert chain(nodes, "rack_r03") == ["rack_r03", "rack_r01", "rack_r02"]
    for n, rack in zip(nodes, ["r03", "r01", "r02"]):
        assert n["limit"] == "rack_" + rack
        assert n["extra_data"] == {"rollout_image": "img", "rollout_racks": rack}
        assert n["unified_job_template"] == {"name": "Rolling upgrade", "type": "job_template",
                                             "organization": {"name": "Spineleaf"}}
        assert n["related"]["failure_nodes"] == []


def test_approvals_between_racks_and_failure_path():
    nodes = F(["r01", "r02", "r03"], "Rolling upgrade", "Spineleaf", True, 600, "Rollout stopped")
    ids = by_id(nodes)
    assert chain(nodes, "rack_r01") == ["rack_r01", "approve_rack_r02", "rack_r02", "approve_rack_r03", "rack_r03"]
    assert "approve_rack_r01" not in ids  # nothing to approve before the first rack
    gate = ids["approve_rack_r02"]["unified_job_template"]
    assert gate["type"] == "workflow_approval" and gate["timeout"] == 600 and "limit" not in ids["approve_rack_r02"]
    # every rack and every gate fails into the one stop node, which leads nowhere
    for ident, node in ids.items():
        if ident != "rollout_stopped":
            assert node["related"]["failure_nodes"] == [{"identifier": "rollout_stopped"}], ident
    stop = ids["rollout_stopped"]
    assert stop["unified_job_template"]["name"] == "Rollout stopped"
    assert stop["related"] == {"success_nodes": [], "failure_nodes": [], "always_nodes": []}
    assert stop["all_parents_must_converge"] is False
    # identifiers are unique within the workflow (AWX requires it)
    assert len(ids) == len(nodes) == 3 + 2 + 1


def test_single_rack_has_no_gate():
    nodes = F(["r01"], "Deploy", "Org", True)
    assert [n["identifier"] for n in nodes] == ["rack_r01"]


@pytest.mark.parametrize("racks, match", [
    ([], "no racks"),
    (["r01", "r01"], "r01 listed twice"),
    (["r 01"], "r 01"),
])
def test_bad_racks_are_named(racks, match):
    with pytest.raises(AnsibleFilterError, match=match):
        F(racks, "Deploy", "Org")
