"""ironic_nodes against the lab's real Ironic: every promise verified through the API."""
import pytest

from lab.harness import run_module, run_playbook

MODULE = "spineleaf.baremetal.ironic_nodes"
SECRET = "S3cret-BMC-pass!"


def mac(prefix, i):
    return "52:54:00:e%x:%02x:%02x" % (prefix, i // 256, i % 256)


def spec(name, n=0, prefix=0, **kw):
    d = {"name": name, "driver": "fake-hardware",
         "driver_info": {"ipmi_address": "10.0.0.%d" % (n + 1), "ipmi_username": "admin", "ipmi_password": SECRET},
         "resource_class": "baremetal.compute", "properties": {"cpu_arch": "x86_64"},
         "ports": [{"address": mac(prefix, 2 * n), "pxe_enabled": True, "physical_network": "leaf1"},
                   {"address": mac(prefix, 2 * n + 1), "pxe_enabled": False, "physical_network": "leaf1"}]}
    d.update(kw)
    return d


def node_ports(conn, name):
    node = conn.baremetal.find_node(name)
    return sorted((p.address, p.is_pxe_enabled, p.physical_network, p.port_group_id)
                  for p in conn.baremetal.ports(node_id=node.id, details=True))


def test_create_rerun_update(lab, conn, lab_module):
    nodes = [spec("cr-%d" % i, i, prefix=1) for i in range(3)]
    r = lab_module(lab, MODULE, {"nodes": nodes})
    assert not r.get("failed"), r.get("msg")
    assert r["changed"] and r["summary"]["created"] == 3
    assert [n["action"] for n in r["nodes"]] == ["created"] * 3
    assert all(n["provision_state"] == "manageable" for n in r["nodes"])
    node = conn.baremetal.find_node("cr-1")
    assert node.provision_state == "manageable"
    assert node.driver_info["ipmi_address"] == "10.0.0.2"
    assert node.resource_class == "baremetal.compute"
    assert node_ports(conn, "cr-1") == [(mac(1, 2), True, "leaf1", None), (mac(1, 3), False, "leaf1", None)]

    # Re-run: nothing to do, no write call.
    r = lab_module(lab, MODULE, {"nodes": nodes})
    assert r["changed"] is False and r["api_writes"] == 0, r
    assert {n["action"] for n in r["nodes"]} == {"unchanged"}

    # Change one field: only that is written; properties set by others (inspection) survive.
    conn.baremetal.patch_node(node.id, [{"op": "add", "path": "/properties/memory_mb", "value": 4096}])
    nodes[1]["driver_info"]["ipmi_address"] = "10.9.9.9"
    r = lab_module(lab, MODULE, {"nodes": nodes})
    assert r["changed"] and r["summary"] == {"created": 0, "updated": 1, "unchanged": 2, "deleted": 0, "failed": 0}
    assert r["nodes"][1]["changes"] == ["driver_info.ipmi_address"]
    node = conn.baremetal.get_node(node.id)
    assert node.driver_info["ipmi_address"] == "10.9.9.9"
    assert node.properties["memory_mb"] == 4096 and node.properties["cpu_arch"] == "x86_64"


def test_add_and_remove_port(lab, conn, lab_module):
    nodes = [spec("pt-0", 0, prefix=2)]
    lab_module(lab, MODULE, {"nodes": nodes})
    nodes[0]["ports"] = [nodes[0]["ports"][0], {"address": mac(2, 9), "pxe_enabled": False, "physical_network": "leaf1"}]
    r = lab_module(lab, MODULE, {"nodes": nodes})
    assert r["changed"]
    assert sorted(r["nodes"][0]["changes"]) == sorted(["port %s created" % mac(2, 9), "port %s removed" % mac(2, 1)])
    assert [p[0] for p in node_ports(conn, "pt-0")] == [mac(2, 0), mac(2, 9)]
    # ports_mode add keeps ports it does not list.
    conn.baremetal.create_port(node_id=conn.baremetal.find_node("pt-0").id, address=mac(2, 20))
    r = lab_module(lab, MODULE, {"nodes": nodes, "ports_mode": "add"})
    assert r["changed"] is False
    assert mac(2, 20) in [p[0] for p in node_ports(conn, "pt-0")]
    # A port field change is an update of that port only.
    nodes[0]["ports"][1]["physical_network"] = "leaf2"
    r = lab_module(lab, MODULE, {"nodes": nodes, "ports_mode": "add"})
    assert r["nodes"][0]["changes"] == ["port %s physical_network" % mac(2, 9)]


def test_bond_of_two_ports(lab, conn, lab_module):
    n = spec("bd-0", 0, prefix=3, port_groups=[{"name": "bd-0-bond0", "address": mac(3, 0), "mode": "802.3ad"}])
    for p in n["ports"]:
        p["port_group"] = "bd-0-bond0"
    r = lab_module(lab, MODULE, {"nodes": [n]})
    assert not r.get("failed"), r.get("msg")
    group = conn.baremetal.find_port_group("bd-0-bond0")
    assert group.mode == "802.3ad" and group.address == mac(3, 0)
    assert {p[3] for p in node_ports(conn, "bd-0")} == {group.id}
    r = lab_module(lab, MODULE, {"nodes": [n]})
    assert r["changed"] is False and r["api_writes"] == 0


def test_traits_add_and_exact(lab, conn, lab_module):
    n = spec("tr-0", 0, prefix=4, traits=["CUSTOM_RACK_R01"])
    lab_module(lab, MODULE, {"nodes": [n]})
    node = conn.baremetal.find_node("tr-0")
    conn.baremetal.add_node_trait(node.id, "CUSTOM_FROM_INSPECTION")
    r = lab_module(lab, MODULE, {"nodes": [n]})  # default traits_mode add
    assert r["changed"] is False
    assert set(conn.baremetal.get_node(node.id).traits) == {"CUSTOM_RACK_R01", "CUSTOM_FROM_INSPECTION"}
    n["traits"] = ["CUSTOM_RACK_R01", "CUSTOM_ROLE_COMPUTE"]
    r = lab_module(lab, MODULE, {"nodes": [n], "traits_mode": "exact"})
    assert r["nodes"][0]["changes"] == ["traits +CUSTOM_ROLE_COMPUTE -CUSTOM_FROM_INSPECTION", "owner record"]
    assert set(conn.baremetal.get_node(node.id).traits) == {"CUSTOM_RACK_R01", "CUSTOM_ROLE_COMPUTE"}


def test_check_mode_writes_nothing_and_predicts(lab, conn):
    nodes = [spec("ck-0", 0, prefix=5), spec("ck-1", 1, prefix=5)]
    res, predicted = run_module(lab, MODULE, {"nodes": nodes, "target_state": "available"}, check=True, diff=True)
    assert predicted["changed"] and predicted["api_writes"] == 0
    assert conn.baremetal.find_node("ck-0") is None and conn.baremetal.find_node("ck-1") is None
    assert not list(conn.baremetal.ports(address=mac(5, 0)))
    res, real = run_module(lab, MODULE, {"nodes": nodes, "target_state": "available"}, diff=True)
    assert [(n["name"], n["action"], n["changes"], n["provision_state"]) for n in predicted["nodes"]] == \
        [(n["name"], n["action"], n["changes"], n["provision_state"]) for n in real["nodes"]]
    assert predicted["diff"]["after"] == real["diff"]["after"]
    # Check mode on an existing node with a change: still no write.
    nodes[0]["resource_class"] = "baremetal.storage"
    res, r = run_module(lab, MODULE, {"nodes": nodes}, check=True)
    assert r["changed"] and r["nodes"][0]["changes"] == ["resource_class"]
    assert conn.baremetal.find_node("ck-0").resource_class == "baremetal.compute"


def test_secrets_never_shown(lab, conn):
    nodes = [spec("sc-0", 0, prefix=6)]
    res, r = run_module(lab, MODULE, {"nodes": nodes}, diff=True, verbosity=3)
    assert not r.get("failed"), r.get("msg")
    assert SECRET not in res.output
    assert r["diff"]["after"]["sc-0"]["driver_info"]["ipmi_password"] == "********"
    # Re-run with -vvv and update_password=always: written again, still never shown.
    res, r = run_module(lab, MODULE, {"nodes": nodes, "update_password": "always"}, diff=True, verbosity=3)
    assert r["nodes"][0]["changes"] == ["driver_info.ipmi_password"]
    assert SECRET not in res.output
    # The role path (-vvv on a playbook with the password from inventory vars) is covered in test_enroll_role.


def test_absent_refuses_deployed_unless_forced(lab, conn, lab_module):
    nodes = [spec("ab-0", 0, prefix=7), spec("ab-1", 1, prefix=7)]
    lab_module(lab, MODULE, {"nodes": nodes, "target_state": "available"})
    active = conn.baremetal.find_node("ab-1")
    conn.baremetal.set_node_provision_state(active.id, "active", wait=True, timeout=60)
    r = lab_module(lab, MODULE, {"nodes": [{"name": "ab-0"}, {"name": "ab-1"}], "state": "absent"})
    assert r["failed"] and "node ab-1" in r["msg"] and "force" in r["msg"]
    assert conn.baremetal.find_node("ab-0") is not None  # nothing half-done
    r = lab_module(lab, MODULE, {"nodes": [{"name": "ab-0"}], "state": "absent"})
    assert r["changed"] and r["nodes"][0]["action"] == "deleted"
    assert conn.baremetal.find_node("ab-0") is None
    assert conn.baremetal.find_node("ab-1") is not None
    r = lab_module(lab, MODULE, {"nodes": [{"name": "ab-0"}], "state": "absent"})
    assert r["changed"] is False
    r = lab_module(lab, MODULE, {"nodes": [{"name": "ab-1"}], "state": "absent", "force": True})
    assert r["changed"] and conn.baremetal.find_node("ab-1") is None


def test_one_bad_node_does_not_stop_the_others(lab, conn, lab_module):
    nodes = [spec("fi-0", 0, prefix=8), spec("fi-1", 1, prefix=8, deploy_interface="no-such-interface")]
    r = lab_module(lab, MODULE, {"nodes": nodes})
    assert r["failed"]
    assert "fi-1" in r["msg"] and "1 of 2 nodes failed" in r["msg"]
    assert [n["action"] for n in r["nodes"]] == ["created", "failed"]
    assert conn.baremetal.find_node("fi-0").provision_state == "manageable"


OTHER = spec("vx-owner", 0, prefix=9)


@pytest.mark.parametrize("bad,expect", [
    ([spec("vd-a", 1, prefix=9), spec("vd-a", 2, prefix=9)], "node vd-a: listed more than once"),
    ([spec("vd-b", 1, prefix=9, ports=[{"address": mac(9, 50)}, {"address": mac(9, 50)}])], "node vd-b: port %s: MAC also listed" % mac(9, 50)),
    ([spec("vd-c", 1, prefix=9, ports=[{"address": mac(9, 0)}])], "node vd-c: port %s: MAC already belongs to node vx-owner" % mac(9, 0)),
    ([spec("vd-d", 1, prefix=9, ports=[{"address": "52:54:00:zz:00:01"}])], "node vd-d: ports[0]: address '52:54:00:zz:00:01' is not a MAC"),
    ([spec("vd-e", 1, prefix=9, ports=[{"address": mac(9, 60), "port_group": "nope"}])], "node vd-e: port %s: port_group 'nope'" % mac(9, 60)),
    ([spec("vd-f", 1, prefix=9, port_groups=[{"name": "vd-f-bond0"}],
           ports=[{"address": mac(9, 70), "port_group": "vd-f-bond0", "physical_network": "leaf1"},
                  {"address": mac(9, 71), "port_group": "vd-f-bond0", "physical_network": "leaf2"}])],
     "node vd-f: port group vd-f-bond0: member ports have different physical_network"),
    ([spec("vd-g", 1, prefix=9, traits=["CUSTOM_lower"])], "node vd-g: traits: trait 'CUSTOM_lower'"),
    ([spec("vd-h", 1, prefix=9, driver=None)], "node vd-h: driver is required"),
])
def test_validation_errors_write_nothing(lab, conn, bad, expect, lab_module):
    lab_module(lab, MODULE, {"nodes": [OTHER]})
    good = spec("vd-good", 3, prefix=9)
    res, r = run_module(lab, MODULE, {"nodes": [good] + bad})
    assert r["failed"]
    assert "nothing was changed" in r["msg"] and expect in r["msg"], r["msg"]
    assert conn.baremetal.find_node("vd-good") is None
    for n in bad:
        assert conn.baremetal.find_node(n["name"]) is None
    assert SECRET not in res.output


def test_enroll_role_on_lab_inventory(lab, conn):
    plays = [{"name": "enroll", "hosts": "baremetal", "gather_facts": False,
              "roles": [{"role": "spineleaf.baremetal.enroll", "enroll_target_state": "manageable"}]}]
    res = run_playbook(lab, plays, inventory="inventory/lab", verbosity=3)
    assert res.rc == 0, res.output[-3000:]
    assert "lab-bmc-secret" not in res.output
    node = conn.baremetal.find_node("r03-n02")
    assert set(node.traits) >= {"CUSTOM_RACK_R03", "CUSTOM_ROLE_COMPUTE"}
    assert node.extra["rack"] == "r03"
    group = conn.baremetal.find_port_group("r03-n02-bond0")
    ports = list(conn.baremetal.ports(node_id=node.id, details=True))
    assert {p.port_group_id for p in ports} == {group.id}
    assert {p.physical_network for p in ports} == {"leaf3"}
    res = run_playbook(lab, plays, inventory="inventory/lab")
    assert res.rc == 0 and "changed=1" not in res.output, res.output[-3000:]


def test_fail_fast_skips_nodes_not_started(lab, conn, lab_module):
    nodes = [spec("ff-0", 0, prefix=10, deploy_interface="no-such-interface"), spec("ff-1", 1, prefix=10)]
    r = lab_module(lab, MODULE, {"nodes": nodes, "fail_fast": True, "concurrency": 1})
    assert r["failed"] and [n["action"] for n in r["nodes"]] == ["failed", "failed"]
    assert "fail_fast" in r["nodes"][1]["error"]
    assert conn.baremetal.find_node("ff-1") is None


def test_one_call_for_several_racks(lab, conn):
    """racks: every rack in one call, each its own result; a rack's wrong option stops the call before
    the first write (no rack is run); the re-run writes nothing; secrets given per rack stay hidden."""
    racks = {"r71": {"nodes": [spec("rk-71-%d" % i, i, prefix=7) for i in range(2)]},
             "r72": {"nodes": [spec("rk-72-0", 5, prefix=7)], "concurrency": 1},
             "r73": {"nodes": [spec("rk-73-0", 6, prefix=7, driver="no-such-driver")]}}
    bad = dict(racks, r74={"nodes": [spec("rk-74-0", 7, prefix=7)], "concurrency": "many"})
    res, r = run_module(lab, MODULE, {"racks": bad, "target_state": "manageable"})
    assert r["failed"] and "rack r74:" in r["msg"] and "concurrency" in r["msg"] and "no rack was run" in r["msg"], r["msg"]
    assert all(conn.baremetal.find_node(n["name"]) is None for opts in bad.values() for n in opts["nodes"])

    res, r = run_module(lab, MODULE, {"racks": racks, "target_state": "manageable"}, diff=True, verbosity=3)
    assert SECRET not in res.output
    assert [x["rack"] for x in r["results"]] == ["r71", "r72", "r73"]
    by_rack = dict((x["rack"], x) for x in r["results"])
    assert by_rack["r71"]["summary"]["created"] == 2 and by_rack["r72"]["summary"]["created"] == 1
    assert not by_rack["r71"]["failed"] and not by_rack["r72"]["failed"]
    assert by_rack["r73"]["failed"] and "rk-73-0" in by_rack["r73"]["msg"], by_rack["r73"]
    assert r["failed"] and r["msg"].startswith("rack r73: "), r["msg"]  # the call fails for its failed rack
    assert conn.baremetal.find_node("rk-72-0").provision_state == "manageable"

    del racks["r73"]
    res, again = run_module(lab, MODULE, {"racks": racks})
    assert not again.get("failed") and again["changed"] is False
    assert [x["api_writes"] for x in again["results"]] == [0, 0]
