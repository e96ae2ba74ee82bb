"""Role networks of ironic_provision (_tenant_networks): which networks a role gets, free attach
points, a first attach, a re-run with nothing to do, a changed role moving the VIF, no free NIC."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _tenant_networks as tenant
from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import PlanError

ROUTED = [{"name": "ctlplane", "provisioning": True, "supernet": "10.10.0.0/16"},
          {"name": "storage", "roles": ["storage"], "supernet": "10.20.0.0/16"},
          {"name": "backup", "roles": ["storage", "compute"], "supernet": "10.30.0.0/16"}]
SUBNETS = {"storage": {"leaf1": {"id": "st1", "name": "storage-r01", "cidr": "10.20.1.0/24", "gateway_ip": "10.20.1.1"}},
           "backup": {"leaf1": {"id": "bk1", "name": "backup-r01", "cidr": "10.30.1.0/24", "gateway_ip": "10.30.1.1"}}}


def iport(uuid, mac, pxe=True, pg=None, vif=None):
    return dict(uuid=uuid, address=mac, node_uuid="n1", pxe_enabled=pxe, physical_network="leaf1",
                portgroup_uuid=pg, internal_info={"tenant_vif_port_id": vif} if vif else {})


def nport(pid, subnet, ip):
    return dict(id=pid, name="r01-n04", mac_address="52:54:00:01:04:02", fixed_ips=[{"subnet_id": subnet, "ip_address": ip}])


def contexts(storage=(), backup=()):
    return {"storage": {"subnets": SUBNETS["storage"], "ports": list(storage)},
            "backup": {"subnets": SUBNETS["backup"], "ports": list(backup)}}


def test_role_networks_from_routed_networks():
    nets = tenant.role_networks(ROUTED)
    assert nets == {"storage": ["storage"], "backup": ["compute", "storage"]}
    assert tenant.wanted_networks(nets, "storage") == ["backup", "storage"]
    assert tenant.wanted_networks(nets, "compute") == ["backup"]
    assert tenant.wanted_networks(nets, "controller") == [] and tenant.wanted_networks(nets, None) == []


@pytest.mark.parametrize("entries,words", [
    ([{"name": "s", "roles": "storage"}], "roles must be a list"),
    ([{"roles": ["storage"]}], "needs a name"),
    ([{"name": "ctlplane", "provisioning": True, "roles": ["x"]}], "serves every node"),
    ([{"name": "s", "roles": ["a"]}, {"name": "s", "roles": ["b"]}], "listed twice"),
    (["storage"], "expected a dict"),
])
def test_role_networks_refuses_malformed_entries(entries, words):
    with pytest.raises(PlanError, match=words):
        tenant.role_networks(entries)


def test_free_points_leave_the_provisioning_nic_out():
    ports = [iport("p1", "52:54:00:01:04:01", vif="prov"), iport("p2", "52:54:00:01:04:02", pxe=False)]
    points = tenant.free_points("n1", ports, [], taken={"p1"})
    assert [(p["kind"], p["uuid"], p["vif"]) for p in points] == [("port", "p2", None)]
    # a bond over both NICs carrying the provisioning VIF: nothing is free
    bonded = [iport("p1", "52:54:00:03:04:01", pg="g1"), iport("p2", "52:54:00:03:04:02", pxe=False, pg="g1")]
    groups = [dict(uuid="g1", node_uuid="n1", name="bond0", address="52:54:00:03:04:01")]
    assert tenant.free_points("n1", bonded, groups, taken={"g1"}) == []


def test_storage_node_first_deploy_creates_and_attaches_on_the_free_nic():
    nets = {"storage": ["storage"]}
    points = tenant.free_points("n1", [iport("p2", "52:54:00:01:04:02", pxe=False)], [], set())
    plan = tenant.plan_node("r01-n04", "storage", nets, {"storage": contexts()["storage"]}, points, attached=["prov"])
    assert plan["detach"] == [] and plan["delete"] == []
    [link] = plan["links"]
    assert (link["network"], link["point"]["uuid"], link["port"], link["attach"], link["subnet"]["id"]) == (
        "storage", "p2", None, True, "st1")
    assert plan["changes"] == ["create port 52:54:00:01:04:02 on subnet storage-r01 (network storage)",
                               "attach VIF (new port) (network storage) to port 52:54:00:01:04:02"]


def test_rerun_changes_nothing():
    nets = {"storage": ["storage"]}
    points = tenant.free_points("n1", [iport("p2", "52:54:00:01:04:02", pxe=False, vif="sp")], [], set())
    ctx = {"storage": contexts(storage=[nport("sp", "st1", "10.20.1.5")])["storage"]}
    plan = tenant.plan_node("r01-n04", "storage", nets, ctx, points, attached=["prov", "sp"])
    assert plan["changes"] == [] and plan["links"][0]["attach"] is False and plan["links"][0]["port"]["id"] == "sp"


def test_changed_role_moves_the_vif():
    """storage -> compute: the storage VIF leaves the NIC, backup (compute's) takes it."""
    nets = {"storage": ["storage"], "backup": ["compute"]}
    points = tenant.free_points("n1", [iport("p2", "52:54:00:01:04:02", pxe=False, vif="sp")], [], set())
    ctx = contexts(storage=[nport("sp", "st1", "10.20.1.5")])
    plan = tenant.plan_node("r01-n04", "compute", nets, ctx, points, attached=["prov", "sp"])
    assert plan["detach"] == ["sp"] and plan["delete"] == ["sp"]
    [link] = plan["links"]
    assert (link["network"], link["point"]["uuid"], link["attach"]) == ("backup", "p2", True)
    assert plan["changes"][:2] == ["detach VIF sp (network storage)", "delete port sp (network storage)"]
    # no role left: only the removal
    plan = tenant.plan_node("r01-n04", None, nets, ctx, points, attached=["prov", "sp"])
    assert plan["links"] == [] and plan["detach"] == ["sp"] and plan["delete"] == ["sp"]


def test_no_free_nic_names_node_network_and_fix():
    nets = {"storage": ["storage"], "backup": ["storage"]}
    points = tenant.free_points("n1", [iport("p2", "52:54:00:01:04:02", pxe=False)], [], set())
    with pytest.raises(PlanError, match="node r01-n04: no free port or port group for network storage .*another NIC"):
        tenant.plan_node("r01-n04", "storage", nets, contexts(), points, attached=[])


def test_rack_without_segment_on_the_role_network():
    points = [dict(kind="port", uuid="p2", label="port x", mac="52:54:00:02:04:02", physical_network="leaf2", vif=None)]
    with pytest.raises(PlanError, match="rack r02 .*no segment with a subnet on network storage"):
        tenant.plan_node("r02-n04", "storage", {"storage": ["storage"]}, {"storage": contexts()["storage"]}, points,
                         attached=[], rack="r02")


def test_release_and_link_record():
    ports = [iport("p2", "52:54:00:01:04:02", pxe=False, vif="sp")]
    plan = tenant.plan_release("n1", ports, [], {"storage": {"ports": [nport("sp", "st1", "10.20.1.5")]},
                                                 "backup": {"ports": []}})
    assert plan["detach"] == ["sp"] and plan["delete"] == ["sp"]
    link = dict(network="storage", point=dict(mac="52:54:00:01:04:02"), subnet=SUBNETS["storage"]["leaf1"])
    rec = tenant.link_record(link, nport("sp", "st1", "10.20.1.5"), {"id": "net-st", "mtu": 9000})
    assert rec["ip_address"] == "10.20.1.5" and rec["subnet"]["gateway_ip"] is None and rec["mtu"] == 9000
