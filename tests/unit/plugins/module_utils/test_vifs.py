"""VIF planning of ironic_provision: attach points (port groups first), port reuse, detach/delete, bonds."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _provision as prov
from ansible_collections.spineleaf.baremetal.plugins.module_utils import _vifs as vifs
from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import PlanError

SUBNETS = {"leaf1": {"id": "s1", "name": "ctlplane-r01", "cidr": "10.10.1.0/24", "gateway_ip": "10.10.1.1"},
           "leaf3": {"id": "s3", "name": "ctlplane-r03", "cidr": "10.10.3.0/24", "gateway_ip": "10.10.3.1"}}


def iport(uuid, mac, node="n1", pxe=True, physnet="leaf1", pg=None, vif=None):
    return dict(uuid=uuid, address=mac, node_uuid=node, pxe_enabled=pxe, physical_network=physnet,
                portgroup_uuid=pg, internal_info={"tenant_vif_port_id": vif} if vif else {})


def nport(pid, mac, subnet="s1", ip="10.10.1.10"):
    return dict(id=pid, name="r01-n01", mac_address=mac, fixed_ips=[{"subnet_id": subnet, "ip_address": ip}])


def test_plain_node_one_vif_per_pxe_port():
    ports = [iport("p1", "52:54:00:01:01:01"), iport("p2", "52:54:00:01:01:02", pxe=False)]
    points = vifs.attach_points("r01-n01", "n1", ports, [])
    assert [(p["kind"], p["uuid"]) for p in points] == [("port", "p1")]
    plan = vifs.plan_node("r01-n01", points, [], SUBNETS, "ctlplane")
    assert plan["detach"] == [] and plan["delete"] == []
    assert [(link["port"], link["attach"]) for link in plan["links"]] == [(None, True)]
    assert plan["changes"] == ["create port 52:54:00:01:01:01 on subnet ctlplane-r01",
                               "attach VIF (new port) to port 52:54:00:01:01:01"]


def test_rerun_reuses_attached_port_and_plans_nothing():
    ports = [iport("p1", "52:54:00:01:01:01", vif="np1")]
    points = vifs.attach_points("r01-n01", "n1", ports, [])
    plan = vifs.plan_node("r01-n01", points, [nport("np1", "52:54:00:01:01:01")], SUBNETS, "ctlplane",
                          attached=["np1"])
    assert plan["changes"] == [] and plan["links"][0]["port"]["id"] == "np1" and not plan["links"][0]["attach"]


def test_existing_port_not_attached_is_attached():
    points = vifs.attach_points("r01-n01", "n1", [iport("p1", "52:54:00:01:01:01")], [])
    plan = vifs.plan_node("r01-n01", points, [nport("np1", "52:54:00:01:01:01")], SUBNETS, "ctlplane")
    assert plan["changes"] == ["attach VIF np1 to port 52:54:00:01:01:01"]


def test_bonded_node_one_vif_on_the_port_group():
    pgs = [dict(uuid="g1", name="r03-n01-bond0", node_uuid="n1", address="52:54:00:03:01:01", mode="802.3ad",
                internal_info={})]
    ports = [iport("p1", "52:54:00:03:01:01", physnet="leaf3", pg="g1"),
             iport("p2", "52:54:00:03:01:02", pxe=False, physnet="leaf3", pg="g1")]
    points = vifs.attach_points("r03-n01", "n1", ports, pgs)
    assert len(points) == 1 and points[0]["kind"] == "portgroup" and points[0]["uuid"] == "g1"
    assert points[0]["members"] == ["52:54:00:03:01:01", "52:54:00:03:01:02"]
    plan = vifs.plan_node("r03-n01", points, [], SUBNETS, "ctlplane")
    assert plan["changes"][-1] == "attach VIF (new port) to port group r03-n01-bond0"
    port = dict(id="np1", mac_address="52:54:00:03:01:01", fixed_ips=[{"subnet_id": "s3", "ip_address": "10.10.3.9"}])
    record = vifs.link_record(plan["links"][0], port, {"id": "net", "mtu": 9000})
    doc = prov.network_data([record])
    assert [link["type"] for link in doc["links"]] == ["phy", "phy", "bond"]
    bond = doc["links"][2]
    assert bond["bond_links"] == ["port0-0", "port0-1"] and bond["bond_mode"] == "802.3ad"
    assert doc["networks"][0]["link"] == bond["id"] and doc["networks"][0]["ip_address"] == "10.10.3.9"


def test_bond_over_two_racks_is_refused():
    pgs = [dict(uuid="g1", name="b", node_uuid="n1", address="52:54:00:03:01:01")]
    ports = [iport("p1", "52:54:00:03:01:01", physnet="leaf3", pg="g1"), iport("p2", "52:54:00:03:01:02", physnet="leaf1", pg="g1")]
    with pytest.raises(PlanError, match="leaf1, leaf3"):
        vifs.attach_points("r03-n01", "n1", ports, pgs)


def test_node_moved_rack_replaces_its_port():
    ports = [iport("p1", "52:54:00:01:01:01", physnet="leaf3", vif="old")]
    points = vifs.attach_points("r01-n01", "n1", ports, [])
    plan = vifs.plan_node("r01-n01", points, [nport("old", "52:54:00:01:01:01", subnet="s1")], SUBNETS, "ctlplane",
                          attached=["old"])
    assert plan["detach"] == ["old"] and plan["delete"] == ["old"]
    assert plan["links"][0]["port"] is None and plan["links"][0]["attach"]


def test_foreign_vif_on_the_pxe_port_is_refused():
    points = vifs.attach_points("r01-n01", "n1", [iport("p1", "52:54:00:01:01:01", vif="tenant")], [])
    with pytest.raises(PlanError, match="carries VIF tenant"):
        vifs.plan_node("r01-n01", points, [], SUBNETS, "ctlplane")


def test_no_segment_and_no_pxe_port():
    points = vifs.attach_points("r01-n01", "n1", [iport("p1", "52:54:00:01:01:01", physnet="leaf9")], [])
    with pytest.raises(PlanError, match="physical network leaf9"):
        vifs.plan_node("r01-n01", points, [], SUBNETS, "ctlplane", rack="r09")
    with pytest.raises(PlanError, match="no PXE-enabled port"):
        vifs.plan_node("r01-n01", [], [], SUBNETS, "ctlplane")


def test_attach_off_makes_ports_only():
    points = vifs.attach_points("r01-n01", "n1", [iport("p1", "52:54:00:01:01:01")], [])
    plan = vifs.plan_node("r01-n01", points, [], SUBNETS, "ctlplane", attach=False)
    assert plan["changes"] == ["create port 52:54:00:01:01:01 on subnet ctlplane-r01"]
    assert not plan["links"][0]["attach"]


def test_release_detaches_own_vifs_only():
    ports = [iport("p1", "52:54:00:01:01:01", vif="np1"), iport("p2", "52:54:00:01:01:02", pxe=False, vif="tenant")]
    plan = vifs.plan_release("n1", ports, [], [nport("np1", "52:54:00:01:01:01")])
    assert plan["detach"] == ["np1"] and plan["delete"] == ["np1"]
    assert vifs.plan_release("n1", [], [], [])["changes"] == []


def test_port_whose_mac_ironic_reset_is_reused():
    """A VIF detached from an active node: Ironic gave its port a random MAC; re-attaching the same
    port keeps the node's address."""
    points = vifs.attach_points("r01-n01", "n1", [iport("p1", "52:54:00:01:01:01")], [])
    plan = vifs.plan_node("r01-n01", points, [nport("np1", "fa:16:3e:00:00:01")], SUBNETS, "ctlplane")
    assert plan["delete"] == [] and plan["links"][0]["port"]["id"] == "np1"
    assert plan["changes"] == ["attach VIF np1 to port 52:54:00:01:01:01"]
    # ... but not a port on another rack's subnet
    plan = vifs.plan_node("r01-n01", points, [nport("np1", "fa:16:3e:00:00:01", subnet="s3")], SUBNETS, "ctlplane")
    assert plan["delete"] == ["np1"] and plan["links"][0]["port"] is None
