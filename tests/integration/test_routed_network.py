"""routed_network against the lab Neutron: create, re-run, grow, routes, forbidden changes, purge, absent."""
import pytest

from ..recap import changed_hosts
from lab.harness import run_module

MODULE = "spineleaf.baremetal.routed_network"


def segments(prefix, racks, octet, extra=None, vlan_base=None, v6=False):
    """Segments r01.. on leaf1.. with VLANs octet*100+i (each test its own VLANs: they are per physnet)."""
    vlan_base = octet * 100 if vlan_base is None else vlan_base
    out = []
    for i in racks:
        if v6:
            sub = dict(name="%s-r%02d" % (prefix, i), cidr="fd00:%d:%d::/64" % (octet, i), ipv6_address_mode="slaac",
                       ipv6_ra_mode="slaac")
        else:
            sub = dict(name="%s-r%02d" % (prefix, i), cidr="10.%d.%d.0/24" % (octet, i), gateway_ip="10.%d.%d.1" % (octet, i),
                       allocation_pools=[dict(start="10.%d.%d.10" % (octet, i), end="10.%d.%d.200" % (octet, i))])
            if extra and i in extra:
                sub["host_routes"] = extra[i]
        out.append(dict(name="%s-r%02d" % (prefix, i), physical_network="leaf%d" % i, segmentation_id=vlan_base + i,
                        subnets=[sub]))
    return out


def state(conn, name):
    """(segments by name, subnets by name) as Neutron has them now."""
    net = conn.network.find_network(name)
    if net is None:
        return None, None
    segs = {s.name: s for s in conn.network.segments(network_id=net.id)}
    subs = {s.name: s for s in conn.network.subnets(network_id=net.id)}
    return segs, subs


def routes(subnet):
    return {(r["destination"], r["nexthop"]) for r in subnet.host_routes}


def ok(r):
    assert not r.get("failed"), r.get("msg") or r
    return r


def test_three_racks_rerun_and_a_rack_added(lab, conn, lab_module):
    r = ok(lab_module(lab, MODULE, dict(name="rn-grow", segments=segments("g", [1, 2, 3], 31))))
    assert r["changed"] and r["network"]["action"] == "created"
    assert [s["action"] for s in r["segments"]] == ["adopted", "created", "created"]
    segs, subs = state(conn, "rn-grow")
    assert sorted(segs) == ["g-r01", "g-r02", "g-r03"]
    assert segs["g-r01"].physical_network == "leaf1" and segs["g-r01"].segmentation_id == 3101
    for i in (1, 2, 3):
        assert subs["g-r%02d" % i].segment_id == segs["g-r%02d" % i].id
    assert routes(subs["g-r02"]) == {("10.31.1.0/24", "10.31.2.1"), ("10.31.3.0/24", "10.31.2.1")}

    r = ok(lab_module(lab, MODULE, dict(name="rn-grow", segments=segments("g", [1, 2, 3], 31))))
    assert not r["changed"] and r["api_writes"] == 0 and r["actions"] == []

    # check mode: reports the change, writes nothing
    r = ok(run_module(lab, MODULE, dict(name="rn-grow", segments=segments("g", [1, 2, 3, 4], 31)), check=True, diff=True)[1])
    assert r["changed"] and r["api_writes"] == 0
    assert r["actions"] == ["create segment g-r04", "create subnet g-r04"]
    assert len(r["diff"]["after"]["segments"]) == 4 and len(r["diff"]["before"]["segments"]) == 3
    assert "g-r04" not in state(conn, "rn-grow")[0]

    r = ok(lab_module(lab, MODULE, dict(name="rn-grow", segments=segments("g", [1, 2, 3, 4], 31))))
    assert r["changed"] and r["api_writes"] == 2
    segs, subs = state(conn, "rn-grow")
    assert len(segs) == 4 and ("10.31.4.0/24", "10.31.1.1") in routes(subs["g-r01"])
    r = ok(lab_module(lab, MODULE, dict(name="rn-grow", segments=segments("g", [1, 2, 3, 4], 31))))
    assert not r["changed"] and r["api_writes"] == 0


def test_extra_host_routes_converge(lab, conn, lab_module):
    extra = {1: [dict(destination="192.168.0.0/16", nexthop="10.32.1.254")],
             2: [dict(destination="10.32.1.0/24", nexthop="10.32.2.254")]}  # replaces Neutron's route to rack 1
    args = dict(name="rn-routes", segments=segments("h", [1, 2, 3], 32, extra=extra))
    ok(lab_module(lab, MODULE, args))
    subs = state(conn, "rn-routes")[1]
    assert routes(subs["h-r01"]) == {("10.32.2.0/24", "10.32.1.1"), ("10.32.3.0/24", "10.32.1.1"),
                                     ("192.168.0.0/16", "10.32.1.254")}
    assert routes(subs["h-r02"]) == {("10.32.1.0/24", "10.32.2.254"), ("10.32.3.0/24", "10.32.2.1")}
    for dummy in range(2):
        r = ok(lab_module(lab, MODULE, args))
        assert not r["changed"] and r["api_writes"] == 0
    # drop the extra routes: back to Neutron's own
    r = ok(lab_module(lab, MODULE, dict(name="rn-routes", segments=segments("h", [1, 2, 3], 32))))
    assert r["changed"]
    subs = state(conn, "rn-routes")[1]
    assert routes(subs["h-r01"]) == {("10.32.2.0/24", "10.32.1.1"), ("10.32.3.0/24", "10.32.1.1")}
    assert routes(subs["h-r02"]) == {("10.32.1.0/24", "10.32.2.1"), ("10.32.3.0/24", "10.32.2.1")}
    r = ok(lab_module(lab, MODULE, dict(name="rn-routes", segments=segments("h", [1, 2, 3], 32))))
    assert not r["changed"]


def test_forbidden_segment_change_then_replace(lab, conn, lab_module):
    ok(lab_module(lab, MODULE, dict(name="rn-forbid", segments=segments("f", [1, 2], 33))))
    changed = segments("f", [1, 2], 33)
    changed[1]["segmentation_id"] = 3350
    r = lab_module(lab, MODULE, dict(name="rn-forbid", segments=changed))
    assert r["failed"]
    assert "segment f-r02: segmentation_id 3302 -> 3350 cannot change" in r["msg"]
    assert "replace_segments" in r["msg"]
    segs = state(conn, "rn-forbid")[0]
    assert segs["f-r02"].segmentation_id == 3302
    r = ok(lab_module(lab, MODULE, dict(name="rn-forbid", segments=changed, replace_segments=True)))
    assert r["changed"]
    segs, subs = state(conn, "rn-forbid")
    assert segs["f-r02"].segmentation_id == 3350 and subs["f-r02"].segment_id == segs["f-r02"].id
    r = ok(lab_module(lab, MODULE, dict(name="rn-forbid", segments=changed, replace_segments=True)))
    assert not r["changed"]


def test_unknown_segments_reported_then_purged(lab, conn, lab_module):
    ok(lab_module(lab, MODULE, dict(name="rn-purge", segments=segments("p", [1, 2, 3], 34))))
    r = ok(lab_module(lab, MODULE, dict(name="rn-purge", segments=segments("p", [1, 2], 34))))
    assert not r["changed"] and r["api_writes"] == 0
    assert {(u["kind"], u["name"]) for u in r["unmanaged"]} == {("segment", "p-r03"), ("subnet", "p-r03")}
    assert any("segment p-r03 (" in w and "subnet p-r03 (10.34.3.0/24)" in w for w in r.get("warnings", [])), r.get("warnings")
    assert "p-r03" in state(conn, "rn-purge")[0]
    r = ok(lab_module(lab, MODULE, dict(name="rn-purge", segments=segments("p", [1, 2], 34), purge_segments=True)))
    assert r["changed"] and r["actions"][:2] == ["delete subnet p-r03", "delete segment p-r03"]
    segs, subs = state(conn, "rn-purge")
    assert sorted(segs) == ["p-r01", "p-r02"] and sorted(subs) == ["p-r01", "p-r02"]
    assert routes(subs["p-r01"]) == {("10.34.2.0/24", "10.34.1.1")}
    r = ok(lab_module(lab, MODULE, dict(name="rn-purge", segments=segments("p", [1, 2], 34), purge_segments=True)))
    assert not r["changed"]


def test_absent(lab, conn, lab_module):
    ok(lab_module(lab, MODULE, dict(name="rn-absent", segments=segments("a", [1, 2], 35))))
    r = ok(run_module(lab, MODULE, dict(name="rn-absent", state="absent"), check=True)[1])
    assert r["changed"] and conn.network.find_network("rn-absent") is not None
    r = ok(lab_module(lab, MODULE, dict(name="rn-absent", state="absent")))
    assert r["changed"]
    # the subnets first, then the segments, then the network (Neutron lists each kind in its own order)
    actions = r["actions"]
    assert sorted(actions[:2]) == ["delete subnet a-r01", "delete subnet a-r02"], actions
    assert sorted(actions[2:4]) == ["delete segment a-r01", "delete segment a-r02"], actions
    assert actions[4:] == ["delete network rn-absent"], actions
    assert conn.network.find_network("rn-absent") is None
    assert not [s for s in conn.network.subnets() if s.name in ("a-r01", "a-r02")]
    r = ok(lab_module(lab, MODULE, dict(name="rn-absent", state="absent")))
    assert not r["changed"] and r["api_writes"] == 0


def test_ipv6_subnets(lab, conn, lab_module):
    args = dict(name="rn-v6", segments=segments("v", [1, 2], 36, v6=True))
    r = ok(lab_module(lab, MODULE, args))
    assert r["changed"]
    subs = state(conn, "rn-v6")[1]
    assert subs["v-r01"].ip_version == 6 and subs["v-r01"].ipv6_address_mode == "slaac"
    assert routes(subs["v-r01"]) == {("fd00:36:2::/64", "fd00:36:1::")}
    r = ok(lab_module(lab, MODULE, args))
    assert not r["changed"] and r["api_writes"] == 0


def _sub(name, cidr, **kw):
    return dict(name=name, cidr=cidr, **kw)


INVALID = {
    "cidr syntax": ([dict(name="x1", physical_network="leaf1", segmentation_id=101, subnets=[_sub("bad-cidr", "10.40.1.0/33")])],
                    "subnet bad-cidr (segment x1): cidr '10.40.1.0/33' is not a valid CIDR"),
    "overlap in request": ([dict(name="x1", physical_network="leaf1", segmentation_id=101, subnets=[_sub("o1", "10.40.0.0/16")]),
                            dict(name="x2", physical_network="leaf2", segmentation_id=102, subnets=[_sub("o2", "10.40.2.0/24")])],
                           "subnet o2 (segment x2): 10.40.2.0/24 overlaps subnet o1"),
    "gateway outside": ([dict(name="x1", physical_network="leaf1", segmentation_id=101,
                              subnets=[_sub("gw", "10.40.1.0/24", gateway_ip="10.40.9.1")])],
                        "subnet gw (segment x1): gateway_ip 10.40.9.1 is outside cidr 10.40.1.0/24"),
    "gateway in pool": ([dict(name="x1", physical_network="leaf1", segmentation_id=101,
                              subnets=[_sub("gp", "10.40.1.0/24", gateway_ip="10.40.1.50",
                                            allocation_pools=[dict(start="10.40.1.10", end="10.40.1.100")])])],
                        "subnet gp (segment x1): gateway_ip 10.40.1.50 is inside allocation pool"),
    "pool outside": ([dict(name="x1", physical_network="leaf1", segmentation_id=101,
                           subnets=[_sub("po", "10.40.1.0/24", allocation_pools=[dict(start="10.40.1.10", end="10.40.2.5")])])],
                     "subnet po (segment x1): allocation pool 10.40.1.10-10.40.2.5 is outside cidr"),
    "vlan range": ([dict(name="x1", physical_network="leaf1", segmentation_id=4095, subnets=[])],
                   "segment x1: VLAN 4095 is out of range 1-4094"),
    "duplicate physnet vlan": ([dict(name="x1", physical_network="leaf1", segmentation_id=101, subnets=[]),
                                dict(name="x2", physical_network="leaf1", segmentation_id=101, subnets=[])],
                               "segment x2: vlan leaf1 VLAN 101 is already used by segment x1"),
    "duplicate segment name": ([dict(name="x1", physical_network="leaf1", segmentation_id=101, subnets=[]),
                                dict(name="x1", physical_network="leaf2", segmentation_id=102, subnets=[])],
                               "segment x1: duplicate segment name"),
    "duplicate subnet name": ([dict(name="x1", physical_network="leaf1", segmentation_id=101, subnets=[_sub("d", "10.40.1.0/24")]),
                               dict(name="x2", physical_network="leaf2", segmentation_id=102, subnets=[_sub("d", "10.40.2.0/24")])],
                              "subnet d (segment x2): duplicate subnet name"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_validation_error_writes_nothing(lab, conn, case, lab_module):
    segs, message = INVALID[case]
    before = len(list(conn.network.networks())), len(list(conn.network.segments())), len(list(conn.network.subnets()))
    r = lab_module(lab, MODULE, dict(name="rn-invalid", segments=segs))
    assert r["failed"] and message in r["msg"], r.get("msg")
    assert "nothing was changed" in r["msg"]
    assert conn.network.find_network("rn-invalid") is None
    after = len(list(conn.network.networks())), len(list(conn.network.segments())), len(list(conn.network.subnets()))
    assert before == after


def test_overlap_with_existing_subnet_writes_nothing(lab, conn, lab_module):
    ok(lab_module(lab, MODULE, dict(name="rn-overlap", segments=segments("o", [1, 2], 37))))
    before = state(conn, "rn-overlap")[1]
    spec = segments("o", [1], 37) + [dict(name="o-new", physical_network="leaf5", segmentation_id=3705,
                                          subnets=[_sub("o-new", "10.37.2.128/25")])]
    r = lab_module(lab, MODULE, dict(name="rn-overlap", segments=spec))
    assert r["failed"] and "subnet o-new (segment o-new): 10.37.2.128/25 overlaps existing subnet o-r02" in r["msg"]
    segs, after = state(conn, "rn-overlap")
    assert sorted(segs) == ["o-r01", "o-r02"] and sorted(after) == sorted(before)


def test_vlan_used_by_another_network_is_refused_before_any_write(lab, conn, lab_module):
    ok(lab_module(lab, MODULE, dict(name="rn-vlan-a", segments=segments("va", [1, 2], 38))))
    clash = segments("vb", [3, 4], 39)
    clash[1]["physical_network"], clash[1]["segmentation_id"] = "leaf2", 3802
    r = lab_module(lab, MODULE, dict(name="rn-vlan-b", segments=clash))
    assert r["failed"] and "segment vb-r04: vlan leaf2 VLAN 3802 is already used by segment va-r02 of network rn-vlan-a" in r["msg"]
    assert conn.network.find_network("rn-vlan-b") is None


def test_role_over_the_lab_inventory(lab, conn):
    from lab.harness import REPO, run_playbook
    import os
    plays = [{"name": "routed networks", "hosts": "localhost", "gather_facts": False,
              "roles": [{"role": "spineleaf.baremetal.routed_networks"}]}]
    inventory = os.path.join(REPO, "inventory", "lab")
    res = run_playbook(lab, plays, inventory=inventory)
    assert res.rc == 0, res.output[-3000:]
    segs, subs = state(conn, "ctlplane")
    assert sorted((s.name, s.physical_network, s.segmentation_id) for s in segs.values()) == [
        ("ctlplane-r01", "leaf1", 101), ("ctlplane-r02", "leaf2", 102), ("ctlplane-r03", "leaf3", 103)]
    assert subs["ctlplane-r02"].cidr == "10.10.2.0/24" and subs["ctlplane-r02"].gateway_ip == "10.10.2.1"
    assert routes(subs["ctlplane-r02"]) == {("10.10.1.0/24", "10.10.2.1"), ("10.10.3.0/24", "10.10.2.1")}
    check = {"routed_networks_check_ironic": True, "routed_networks_check_require_ports": False}
    res = run_playbook(lab, plays, inventory=inventory, extra_vars=check)
    assert res.rc == 0, res.output[-3000:]
    assert changed_hosts(res.stdout) == [], res.output[-3000:]


def test_ironic_ports_cross_check(lab, conn, lab_module):
    ok(lab_module(lab, MODULE, dict(name="rn-check", segments=segments("c", [1, 2], 40))))
    node = conn.baremetal.create_node(name="rn-check-n1", driver="fake-hardware")
    try:
        conn.baremetal.create_port(node_id=node.id, address="52:54:00:41:01:01", physical_network="leaf1")
        conn.baremetal.create_port(node_id=node.id, address="52:54:00:41:01:02", physical_network="leaf7")
        args = dict(network="rn-check", racks=[dict(rack="r01", physical_network="leaf1"),
                                               dict(rack="r02", physical_network="leaf2")],
                    node_racks={"rn-check-n1": "r01"}, nodes=["rn-check-n1"])
        r = lab_module(lab, "spineleaf.baremetal.routed_network_check", args)
        assert r["failed"] and not r["changed"]
        msgs = [p["message"] for p in r["problems"]]
        assert ("node rn-check-n1 (rack r01), port 52:54:00:41:01:02: physical_network leaf7 has no segment on network "
                "rn-check") in msgs[0]
        assert any(m.startswith("rack r02: no Ironic port on physical_network leaf2") for m in msgs)
        assert r["racks"]["r01"] == {"physical_network": "leaf1", "segment": "c-r01", "ports": 1}
    finally:
        for port in conn.baremetal.ports(node_id=node.id):
            conn.baremetal.delete_port(port)
        conn.baremetal.delete_node(node)


def test_more_host_routes_than_neutron_allows_is_refused_before_any_write(lab, conn, lab_module):
    """Neutron routes each subnet to every peer subnet and refuses a subnet with more than its
    max_subnet_host_routes (default 20; the 50-rack benchmark met it on the 22nd subnet, half-way).
    With the limit given as 1, three racks (2 routes each) are refused with the count to configure,
    before anything exists; at 2 they converge."""
    r = lab_module(lab, MODULE, dict(name="rn-route-limit", segments=segments("hr", [1, 2, 3], 41, vlan_base=3000), max_subnet_host_routes=1))
    assert r["failed"], r
    assert "3 subnet(s) would carry up to 2 host routes" in r["msg"] and "over max_subnet_host_routes 1" in r["msg"], r["msg"]
    assert "max_subnet_host_routes in neutron.conf to at least 2" in r["msg"] and "nothing was changed" in r["msg"]
    assert conn.network.find_network("rn-route-limit") is None
    # an extra route counts too
    extra = {1: [dict(destination="192.0.2.0/24", nexthop="10.41.1.254")]}
    r = lab_module(lab, MODULE, dict(name="rn-route-limit", segments=segments("hr", [1, 2, 3], 41, extra=extra, vlan_base=3000), max_subnet_host_routes=2))
    assert r["failed"] and "1 subnet(s) would carry up to 3 host routes" in r["msg"] and "hr-r01" in r["msg"], r["msg"]
    assert conn.network.find_network("rn-route-limit") is None
    r = ok(lab_module(lab, MODULE, dict(name="rn-route-limit", segments=segments("hr", [1, 2, 3], 41, vlan_base=3000), max_subnet_host_routes=2)))
    assert r["changed"] and len(state(conn, "rn-route-limit")[1]) == 3
