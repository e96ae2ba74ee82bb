"""The owner record and orphans (issue #11) against the lab's real Ironic: enrollment
(ironic_nodes) and tagging (ironic_traits) share one record, so a role / rack change converges in
one pass and the next pass makes 0 writes in every combination of their modes; nodes of the site
that the inventory dropped are named, and pruned only when safe."""
import os

import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._site import node_spec

from lab.harness import run_module
from .test_node_truth import play

NODES = "spineleaf.baremetal.ironic_nodes"
TRAITS = "spineleaf.baremetal.ironic_traits"
RULES = [{"name": "all", "traits_add": ["CUSTOM_OWN_RULE"]}]


def hostvars(name, rack, role, n, **kw):
    hv = {"inventory_hostname": name, "bmc_driver": "fake-hardware", "bmc_address": "10.12.0.%d" % n,
          "rack": rack, "node_role": role,
          "nics": [{"name": "eno1", "mac": "52:54:00:c1:%02x:01" % n, "pxe": True}]}
    hv.update(kw)
    return hv


def site_pass(lab_module, lab, hosts, enroll_mode, tag_mode, site="own"):
    """Enrollment then tagging, as site.yml runs them (module calls, one per step)."""
    specs = [node_spec(hv) for hv in hosts]
    enrolled = lab_module(lab, NODES, {"nodes": specs, "traits_mode": enroll_mode, "site": site})
    assert not enrolled.get("failed"), enrolled.get("msg")
    assign = dict((hv["inventory_hostname"], {"traits": ["CUSTOM_RACK_" + hv["rack"].upper(),
                                                         "CUSTOM_ROLE_" + hv["node_role"].upper()]})
                  for hv in hosts)
    tagged = lab_module(lab, TRAITS, {"nodes": [hv["inventory_hostname"] for hv in hosts], "rules": RULES,
                                      "assign": assign, "mode": tag_mode})
    assert not tagged.get("failed"), tagged.get("msg")
    return enrolled, tagged


def traits(conn, name):
    return set(conn.baremetal.find_node(name).traits or [])


@pytest.mark.parametrize("enroll_mode, tag_mode", [("add", "add"), ("add", "exact"), ("exact", "add"), ("exact", "exact")])
def test_role_and_rack_change_converge_in_one_pass_then_zero_writes(lab, conn, enroll_mode, tag_mode, lab_module):
    a, b = "ow-%s%s-a" % (enroll_mode[0], tag_mode[0]), "ow-%s%s-b" % (enroll_mode[0], tag_mode[0])
    n = {"aa": 10, "ae": 20, "ea": 30, "ee": 40}[enroll_mode[0] + tag_mode[0]]
    first = [hostvars(a, "r01", "compute", n + 1, extra={"team": "blue", "asset": 7}),
             hostvars(b, "r01", "compute", n + 2)]
    site_pass(lab_module, lab, first, enroll_mode, tag_mode)
    # somebody else adds a trait and an extra key
    conn.baremetal.add_node_trait(conn.baremetal.find_node(b).id, "CUSTOM_OTHER_TOOL")
    conn.baremetal.patch_node(conn.baremetal.find_node(b).id, [{"op": "add", "path": "/extra/foreign", "value": 1}])

    # a changes role and rack, and its inventory drops extra.team
    second = [hostvars(a, "r02", "storage", n + 1, extra={"asset": 7}), first[1]]
    enrolled, tagged = site_pass(lab_module, lab, second, enroll_mode, tag_mode)
    assert traits(conn, a) == {"CUSTOM_RACK_R02", "CUSTOM_ROLE_STORAGE", "CUSTOM_OWN_RULE"}
    extra = conn.baremetal.find_node(a).extra
    assert "team" not in extra and extra["asset"] == 7 and extra["role"] == "storage"
    assert extra["spineleaf"]["site"] == "own"
    assert "CUSTOM_ROLE_STORAGE" in extra["spineleaf"]["enroll"]["traits"]
    b_traits = {"CUSTOM_RACK_R01", "CUSTOM_ROLE_COMPUTE", "CUSTOM_OWN_RULE"}
    if enroll_mode == "add":  # exact enrollment removes the traits no step of the collection claims
        b_traits.add("CUSTOM_OTHER_TOOL")
    assert traits(conn, b) == b_traits
    assert conn.baremetal.find_node(b).extra["foreign"] == 1  # keys of others are never removed

    enrolled, tagged = site_pass(lab_module, lab, second, enroll_mode, tag_mode)
    assert enrolled["changed"] is False and enrolled["api_writes"] == 0, enrolled["nodes"]
    assert tagged["changed"] is False and tagged["api_writes"] == 0, tagged["nodes"]
    assert traits(conn, a) == {"CUSTOM_RACK_R02", "CUSTOM_ROLE_STORAGE", "CUSTOM_OWN_RULE"}


def test_records_of_older_releases_are_read_and_migrated(lab, conn, lab_module):
    """A node enrolled and tagged (exact) before the owner record: extra.rack / extra.role and
    extra.spineleaf_traits. A role change removes the old role trait and the old key goes."""
    hv = hostvars("ow-legacy", "r01", "compute", 50)
    spec = node_spec(hv)
    spec.pop("extra")
    node = conn.baremetal.create_node(name="ow-legacy", driver="fake-hardware",
                                      extra={"rack": "r01", "role": "compute", "spineleaf_traits": ["CUSTOM_OWN_RULE"]})
    conn.baremetal.set_node_traits(node.id, ["CUSTOM_RACK_R01", "CUSTOM_ROLE_COMPUTE", "CUSTOM_OWN_RULE", "CUSTOM_KEEP"])
    moved = [hostvars("ow-legacy", "r01", "storage", 50)]
    site_pass(lab_module, lab, moved, "add", "exact")
    node = conn.baremetal.find_node("ow-legacy")
    assert set(node.traits) == {"CUSTOM_RACK_R01", "CUSTOM_ROLE_STORAGE", "CUSTOM_OWN_RULE", "CUSTOM_KEEP"}
    assert "spineleaf_traits" not in node.extra
    assert node.extra["spineleaf"]["tag"]["traits"] == ["CUSTOM_OWN_RULE", "CUSTOM_RACK_R01", "CUSTOM_ROLE_STORAGE"]
    enrolled, tagged = site_pass(lab_module, lab, moved, "add", "exact")
    assert enrolled["api_writes"] == 0 and tagged["api_writes"] == 0


def test_orphans_listed_pruned_and_guarded(lab, conn, lab_module):
    site = [hostvars("op-%d" % i, "r01", "compute", 60 + i) for i in range(4)]
    lab_module(lab, NODES, {"nodes": [node_spec(hv) for hv in site], "site": "orphan-site", "target_state": "available"})
    # another site's node and a node nobody recorded: never orphans
    other = lab_module(lab, NODES, {"nodes": [node_spec(hostvars("op-other", "r09", "compute", 70))],
                                    "site": "elsewhere"})
    conn.baremetal.create_node(name="op-nobody", driver="fake-hardware")
    active = conn.baremetal.find_node("op-3")
    conn.baremetal.set_node_provision_state(active.id, "active", wait=True, timeout=60)

    kept = ["op-0"]  # op-1, op-2 (available) and op-3 (active) left the inventory
    args = {"nodes": [], "site": "orphan-site", "site_nodes": kept}
    r = lab_module(lab, NODES, args)
    assert not r.get("failed"), r.get("msg")
    assert [(o["name"], o["action"]) for o in r["orphans"]] == [("op-1", "orphan"), ("op-2", "orphan"), ("op-3", "orphan")]
    assert r["changed"] is False and r["api_writes"] == 0

    res, r = run_module(lab, NODES, dict(args, prune=True), check=True, diff=True)
    assert [(o["name"], o["action"]) for o in r["orphans"]] == [("op-1", "deleted"), ("op-2", "deleted"), ("op-3", "refused")]
    assert r["changed"] is True and r["api_writes"] == 0 and "op-1" in r["diff"]["before"]
    assert conn.baremetal.find_node("op-1") is not None

    r = lab_module(lab, NODES, dict(args, prune=True))
    assert not r.get("failed"), r.get("msg")
    refused = [o for o in r["orphans"] if o["action"] == "refused"]
    assert [o["name"] for o in refused] == ["op-3"] and "active" in refused[0]["msg"] and "force" in refused[0]["msg"]
    assert any("not pruned: node op-3" in w for w in r.get("warnings", []))
    assert conn.baremetal.find_node("op-1") is None and conn.baremetal.find_node("op-2") is None
    assert not [p for p in conn.baremetal.ports(details=True) if p.address in ("52:54:00:c1:3d:01", "52:54:00:c1:3e:01")]
    assert conn.baremetal.find_node("op-3") is not None
    for name in ("op-0", "op-other", "op-nobody"):
        assert conn.baremetal.find_node(name) is not None, name

    r = lab_module(lab, NODES, dict(args, prune=True, force=True))
    assert [(o["name"], o["action"]) for o in r["orphans"]] == [("op-3", "deleted")]
    assert conn.baremetal.find_node("op-3") is None
    r = lab_module(lab, NODES, dict(args, prune=True))
    assert r["orphans"] == [] and r["changed"] is False


def test_enroll_role_names_orphans_in_the_site_summary_and_prunes(lab, conn):
    py = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".venv", "bin", "python")

    def inventory(names, **all_vars):
        hosts = dict((n, dict((k, v) for k, v in hostvars(n, "rs", "compute", 80 + i).items()
                              if k not in ("inventory_hostname", "rack")))
                     for i, n in enumerate(names))
        vars_ = {"ansible_connection": "local", "ansible_python_interpreter": py, "site_name": "role-site"}
        vars_.update(all_vars)
        return {"all": {"vars": vars_, "children": {"baremetal": {"children": {
            "rack_rs": {"vars": {"rack": "rs"}, "hosts": hosts}}}}}}

    rc, stats, out = play(lab, ["enroll"], inventory(["rs-n1", "rs-n2", "rs-n3"]))
    assert rc == 0, out[-3000:]
    assert conn.baremetal.find_node("rs-n3").extra["spineleaf"]["site"] == "role-site"

    rc, stats, out = play(lab, ["enroll", "summary"], inventory(["rs-n1", "rs-n2"]))
    assert rc == 0, out[-3000:]
    assert "orphans of site role-site: rs-n3 orphan (enroll_prune: true removes them)" in out, out[-3000:]
    assert "orphans (in Ironic for this site, not in the inventory): rs-n3 | manageable | orphan" in out, out[-3000:]
    assert conn.baremetal.find_node("rs-n3") is not None
    assert all(s["changed"] == 0 for s in stats.values()), stats

    rc, stats, out = play(lab, ["enroll", "summary"], inventory(["rs-n1", "rs-n2"], enroll_prune=True))
    assert rc == 0, out[-3000:]
    assert "orphans of site role-site: rs-n3 deleted" in out, out[-3000:]
    assert conn.baremetal.find_node("rs-n3") is None
    assert conn.baremetal.find_node("rs-n1") is not None and conn.baremetal.find_node("rs-n2") is not None
