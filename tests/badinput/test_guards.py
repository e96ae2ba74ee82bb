"""Guards of ironic_nodes' ``state: absent`` (#14), black-box against the lab: it deletes exactly
the nodes named, never one that only resembles a name (a UUID or a UUID prefix, another case, a
wildcard or a pattern), never anything for an empty list or in check mode, and never a deployed
node without ``force``."""
import pytest

from lab.harness import run_module
from .conftest import snapshot

NODES = "spineleaf.baremetal.ironic_nodes"
NAMES = ("gd-n1", "gd-n2", "gd-act")


def _nodes(conn):
    return {n.name: n for n in conn.baremetal.nodes(details=True) if n.name}


@pytest.fixture(scope="module")
def guarded(lab, conn):
    """Three nodes of the test's own: two enrolled, one deployed (active)."""
    for name in NAMES:
        conn.baremetal.create_node(name=name, driver="fake-hardware")
    act = conn.baremetal.get_node("gd-act")
    conn.baremetal.set_node_provision_state(act, "manage", wait=True, timeout=60)
    conn.baremetal.set_node_provision_state(act, "provide", wait=True, timeout=60)
    conn.baremetal.patch_node(act, [{"op": "add", "path": "/instance_info/image_source",
                                     "value": "http://images.lab.invalid/guard.qcow2"}])
    conn.baremetal.set_node_provision_state(act, "active", wait=True, timeout=120)
    yield _nodes(conn)
    for name in NAMES:  # leave the shared lab as it was (no-op for nodes already deleted)
        node = conn.baremetal.find_node(name)
        if node is not None:
            if node.provision_state == "active":
                conn.baremetal.set_node_maintenance(node, reason="guard test cleanup")
            conn.baremetal.delete_node(node, ignore_missing=True)


@pytest.fixture
def absent(lab, lab_module):
    """ironic_nodes state=absent for ``names``: through pytest-ansible, or ansible-playbook --check
    for check mode (pytest-ansible does not run check mode)."""
    def run(names, check=False, **kw):
        args = dict({"state": "absent", "nodes": [{"name": n} for n in names]}, **kw)
        return run_module(lab, NODES, args, check=True)[1] if check else lab_module(lab, NODES, args)
    return run


def test_empty_list_deletes_nothing(lab, conn, guarded, absent):
    before = snapshot(conn)
    r = absent([])
    assert not r.get("failed"), r
    assert r["changed"] is False and r["api_writes"] == 0
    assert snapshot(conn) == before


@pytest.mark.parametrize("kind", ["uuid", "uuid_prefix", "upper_case", "title_case", "wildcard", "glob",
                                  "regex", "sql_like", "trailing_dot"])
def test_lookalike_names_delete_nothing(lab, conn, guarded, absent, kind):
    """Each name only resembles gd-n1: the module refuses it or finds no such node; nothing moves."""
    uuid = guarded["gd-n1"].id
    name = {"uuid": uuid, "uuid_prefix": uuid[:8], "upper_case": "GD-N1", "title_case": "Gd-N1",
            "wildcard": "*", "glob": "gd-n?", "regex": "gd-n.*", "sql_like": "gd-n%", "trailing_dot": "gd-n1."}[kind]
    before = snapshot(conn)
    r = absent([name])
    if r.get("failed"):
        assert name in r["msg"], r["msg"]  # refused, naming the name it could not take
    else:
        assert [n["action"] for n in r["nodes"]] == ["unchanged"] and r["changed"] is False, r
        assert r["api_writes"] == 0
    assert snapshot(conn) == before


def test_check_mode_deletes_nothing(lab, conn, guarded, absent):
    before = snapshot(conn)
    r = absent(["gd-n2"], check=True)
    assert r["changed"] is True and [n["action"] for n in r["nodes"]] == ["deleted"], r
    assert snapshot(conn) == before


def test_deployed_node_needs_force(lab, conn, guarded, absent):
    before = snapshot(conn)
    r = absent(["gd-act"])
    assert r.get("failed"), r
    assert "node gd-act: is active" in r["msg"] and "force" in r["msg"], r["msg"]
    assert not r.get("changed")
    assert snapshot(conn) == before
    # one deployed node in the list refuses the whole call: its enrolled neighbour is not deleted either
    r = absent(["gd-n2", "gd-act"])
    assert r.get("failed") and "gd-act" in r["msg"], r
    assert snapshot(conn) == before


def test_deletes_exactly_the_named_nodes(lab, conn, guarded, absent):
    others = {k: v.id for k, v in _nodes(conn).items() if k not in ("gd-n2", "gd-act")}
    r = absent(["gd-n2"])
    assert not r.get("failed"), r
    assert [(n["name"], n["action"]) for n in r["nodes"]] == [("gd-n2", "deleted")]
    r = absent(["gd-act"], force=True)
    assert not r.get("failed"), r
    assert [(n["name"], n["action"]) for n in r["nodes"]] == [("gd-act", "deleted")]
    after = {k: v.id for k, v in _nodes(conn).items()}
    assert "gd-n2" not in after and "gd-act" not in after
    assert {k: after.get(k) for k in others} == others  # gd-n1, the seed node and every other node untouched
