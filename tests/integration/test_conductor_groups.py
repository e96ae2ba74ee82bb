"""Conductor groups on the default profile: its all-in-one Ironic runs one conductor in the
default group (""), so a rack pinned to a named group must be refused before any write."""

NODE = {"name": "cg-r07-n01", "driver": "fake-hardware", "conductor_group": "group-a",
        "extra": {"rack": "r07"}, "ports": [{"address": "52:54:00:c7:00:01", "pxe_enabled": True}]}


def test_preflight_names_the_rack_and_group_no_conductor_serves(lab, lab_module):
    r = lab_module(lab, "spineleaf.baremetal.preflight", {
        "services": ["baremetal"], "required_drivers": ["fake-hardware"],
        "rack_conductor_groups": {"r07": "group-a"}})
    assert r["failed"]
    assert "rack r07: conductor group 'group-a' is served by no live conductor (groups served: " in r["msg"]
    assert "conductor_group = group-a" in r["msg"]
    # The all-in-one's one conductor, in the default group. (Its `alive` turns false about 60 s
    # after start: the all-in-one's heartbeat does not refresh it; separate conductors do.)
    assert [(c["hostname"], c["conductor_group"]) for c in r["baremetal"]["conductors"]] == [("spineleaf-lab", "")]


def test_preflight_without_groups_makes_no_conductors_call(lab, lab_module):
    r = lab_module(lab, "spineleaf.baremetal.preflight", {
        "services": ["baremetal"], "required_drivers": ["fake-hardware"]})
    assert not r.get("failed"), r
    assert "conductors" not in r["baremetal"]


def test_ironic_nodes_refuses_an_unserved_group_before_any_write(lab, conn, lab_module):
    r = lab_module(lab, "spineleaf.baremetal.ironic_nodes", {"nodes": [NODE]})
    assert r["failed"]
    assert "nothing was changed" in r["msg"]
    assert "node cg-r07-n01 (rack r07): conductor group 'group-a' is served by no live conductor" in r["msg"]
    assert conn.baremetal.find_node("cg-r07-n01") is None


def test_default_group_enrolls_and_is_idempotent(lab, conn, lab_module):
    node = dict(NODE, name="cg-r08-n01", conductor_group="",
                ports=[{"address": "52:54:00:c8:00:01", "pxe_enabled": True}])
    # "" is Ironic's default group: no conductors call is needed, nothing is written for it.
    r = lab_module(lab, "spineleaf.baremetal.ironic_nodes", {"nodes": [node], "target_state": "enroll"})
    assert not r.get("failed"), r.get("msg")
    assert r["nodes"][0]["action"] == "created"
    assert conn.baremetal.get_node(r["nodes"][0]["uuid"]).conductor_group == ""
    r = lab_module(lab, "spineleaf.baremetal.ironic_nodes", {"nodes": [node], "target_state": "enroll"})
    assert r["changed"] is False and r["api_writes"] == 0
    lab_module(lab, "spineleaf.baremetal.ironic_nodes", {"nodes": [node], "state": "absent"})
