"""Bulk inspection planning and runner, with a fake adapter and a fake clock."""
from ansible_collections.spineleaf.baremetal.plugins.module_utils._inspect import plan
from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import InspectionRunner, IronicAdapter
from tests.unit.fakes import FakeConn


def nd(uuid, name, state="manageable", finished=None, **kw):
    return dict(uuid=uuid, name=name, provision_state=state, target_provision_state=None, maintenance=False,
                inspection_finished_at=finished, last_error=None, **kw)


def test_plan():
    nodes = [nd("u1", "a"), nd("u2", "b", finished="2026-01-01"), nd("u3", "c", "available"), nd("u4", "d", "enroll"),
             dict(nd("u5", "e"), maintenance=True)]
    actions = dict((p["name"], p["action"]) for p in plan(["a", "b", "c", "u4", "e", "zz", "u1"], nodes))
    assert actions == {"a": "inspect", "b": "skip", "c": "fail", "d": "inspect", "e": "maintenance", "zz": "fail"}
    assert [p["action"] for p in plan(["b"], nodes, skip_inspected=False)] == ["inspect"]


class FakeAdapter(IronicAdapter):
    """The real adapter's poller over fake Ironic reads and writes: nodes finish inspection one
    poll after the action; node 'bad' fails every time."""

    def __init__(self, nodes, hang=()):
        super().__init__(FakeConn())
        self.nodes = dict((n["uuid"], dict(n)) for n in nodes)
        self.actions = []
        self.hang = set(hang)
        self.max_inflight = 0
        self.pending = {}

    def set_provision_state(self, node_id, action):
        uuid = node_id
        self.actions.append((uuid, action))
        n = self.nodes[uuid]
        if action == "manage":
            self.pending[uuid] = ("manageable", None, None)
        elif action == "inspect":
            n["provision_state"], n["target_provision_state"] = "inspect wait", "manageable"
            if uuid in self.hang:
                return
            if n["name"] == "bad":
                self.pending[uuid] = ("inspect failed", None, "ramdisk error")
            else:
                self.pending[uuid] = ("manageable", "2026-01-02T00:00:%02d" % len(self.actions), None)
        elif action == "abort":
            n["provision_state"] = "inspect failed"  # the target stays "manageable", as in Ironic
        inflight = sum(1 for x in self.nodes.values() if x["provision_state"] == "inspect wait")
        self.max_inflight = max(self.max_inflight, inflight)

    def list_raw(self, collection, fields=None, **params):
        assert collection == "nodes" and "provision_state" in fields
        out = [dict(n) for n in self.nodes.values()]
        for uuid, (state, finished, error) in self.pending.items():
            n = self.nodes[uuid]
            # Ironic keeps the target on a failed node ("inspect failed -> manageable"); a failed verify
            # (inside the manage request) leaves the node in enroll without one
            n["provision_state"], n["target_provision_state"] = state, (None if state in ("manageable", "enroll") else "manageable")
            if finished:
                n["inspection_finished_at"] = finished
            n["last_error"] = error
        self.pending = {}
        return out


def run(adapter, items, **kw):
    t = [0.0]

    def sleep(s):
        t[0] += s
    return InspectionRunner(adapter, clock=lambda: t[0], sleep=sleep, **kw).run(items)


def test_runner_concurrency_retries_isolation_timeout():
    nodes = [nd("u%d" % i, "n%d" % i) for i in range(6)] + [nd("ub", "bad"), nd("uh", "hang"), nd("ue", "enr", "enroll")]
    adapter = FakeAdapter(nodes, hang=["uh"])
    items = [dict(uuid=n["uuid"], name=n["name"], state=n["provision_state"]) for n in nodes]
    done = dict((r["name"], r) for r in run(adapter, items, concurrency=3, retries=1, timeout=5, poll=0.5))
    assert adapter.max_inflight <= 3
    assert all(done["n%d" % i]["result"] == "inspected" for i in range(6))
    assert done["enr"]["result"] == "inspected" and ("ue", "manage") in adapter.actions
    assert done["bad"]["result"] == "failed" and done["bad"]["attempts"] == 2 and "ramdisk error" in done["bad"]["msg"]
    assert done["hang"]["result"] == "failed" and "still" in done["hang"]["msg"] and ("uh", "abort") in adapter.actions
    assert done["hang"]["provision_state"] == "inspect failed"


def test_plan_reinspects_when_the_cabling_record_does_not_match():
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology import cabling_record
    t = "2026-01-01T00:00:00"
    nodes = [nd("u1", "clean", finished=t, extra={"cabling_fingerprint": cabling_record("f1", t)}),
             nd("u2", "moved", finished=t, extra={"cabling_fingerprint": cabling_record("old", t)}),
             nd("u3", "finding", finished=t, extra={"cabling_fingerprint": cabling_record("f3", "2025-12-01")}),
             nd("u4", "never", finished=t, extra={}),
             nd("u5", "deployed", "active", finished=t, extra={})]
    wanted = {"clean": "f1", "moved": "f2", "finding": "f3", "never": "f4", "deployed": "f5"}
    out = dict((p["name"], p) for p in plan(list(wanted), nodes, fingerprints=wanted))
    assert dict((k, v["action"]) for k, v in out.items()) == {
        "clean": "skip", "moved": "inspect", "finding": "inspect", "never": "inspect", "deployed": "skip"}
    assert "placement changed" in out["moved"]["msg"] and "found a problem" in out["finding"]["msg"]
    assert "move it to manageable" in out["deployed"]["msg"]
    assert dict((k, v["cabling_checked"]) for k, v in out.items()) == {
        "clean": True, "moved": False, "finding": False, "never": False, "deployed": False}
    # without fingerprints, as before
    assert [p["action"] for p in plan(["moved"], nodes)] == ["skip"]
    assert [p["cabling_checked"] for p in plan(["clean"], nodes)] == [False]


def test_placement_fingerprint_ignores_port_spelling_and_order():
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._topology import placement_fingerprint
    a = {"rack": "r01", "nics": [{"name": "eno1", "mac": "52:54:00:00:00:01", "leaf": "l1", "port": "Ethernet1/3"},
                                 {"name": "eno2", "mac": "52:54:00:00:00:02", "leaf": "l2", "port": "Ethernet1/3"}]}
    b = {"rack": "r01", "nics": [{"name": "eno2", "mac": "52-54-00-00-00-02", "leaf": "l2", "port": "Eth1/3"},
                                 {"name": "eno1", "mac": "52:54:00:00:00:01", "leaf": "l1", "port": "Ethernet1/3"}]}
    assert placement_fingerprint(a) == placement_fingerprint(b)
    c = dict(a, nics=[dict(a["nics"][0], port="Ethernet1/4"), a["nics"][1]])
    assert placement_fingerprint(a) != placement_fingerprint(c)
    assert placement_fingerprint({"rack": "r01"}) is None


def test_plan_inspects_a_node_aborted_into_inspect_failed_again():
    node = dict(nd("u1", "a", "inspect failed", finished="2026-01-01"), target_provision_state="manageable")
    assert [p["action"] for p in plan(["a"], [node])] == ["inspect"]
    busy = dict(nd("u2", "b", "inspecting"), target_provision_state="manageable")
    assert [p["action"] for p in plan(["b"], [busy])] == ["fail"]


def test_plan_recovers_clean_failed_and_failed_verify_with_last_error():
    clean = dict(nd("u1", "cf", "clean failed"), target_provision_state="manageable", last_error="disk wipe failed")
    verify = dict(nd("u2", "vf", "enroll"), last_error="Failed to get power state")
    fresh = nd("u3", "new", "enroll")
    out = dict((p["name"], p) for p in plan(["cf", "vf", "new"], [clean, verify, fresh]))
    assert [out[n]["action"] for n in ("cf", "vf", "new")] == ["inspect"] * 3
    assert out["cf"]["msg"] == "recovered from clean failed (last_error: disk wipe failed)"
    assert "failed verify" in out["vf"]["msg"] and "Failed to get power state" in out["vf"]["msg"]
    assert out["new"]["msg"] is None
    # cleaning (target set, not a failed resting state) is busy
    busy = dict(nd("u4", "cl", "cleaning"), target_provision_state="manageable")
    assert plan(["cl"], [busy])[0]["action"] == "fail"


def test_plan_reports_maintenance_with_reason_fault_and_last_error():
    node = dict(nd("u1", "m", "clean failed"), maintenance=True, maintenance_reason="cleaning failed",
                fault="clean failure", last_error="erase failed")
    item = plan(["m"], [node])[0]
    assert item["action"] == "maintenance"
    for text in ("in maintenance", "cleaning failed", "clean failure", "erase failed", "maintenance unset m"):
        assert text in item["msg"]


def test_runner_manages_a_clean_failed_node_then_inspects_it():
    node = dict(nd("u1", "cf", "clean failed"), target_provision_state="manageable")
    adapter = FakeAdapter([node])
    done = run(adapter, [dict(uuid="u1", name="cf", state="clean failed")], poll=0.5)
    assert adapter.actions == [("u1", "manage"), ("u1", "inspect")]
    assert done[0]["result"] == "inspected"


def test_runner_reports_a_failed_verify_with_last_error():
    class VerifyFails(FakeAdapter):
        def set_provision_state(self, node_id, action):
            super().set_provision_state(node_id, action)
            if action == "manage":
                self.pending[node_id] = ("enroll", None, "Failed to get power state: BMC did not answer")
    adapter = VerifyFails([nd("u1", "vf", "enroll")])
    done = run(adapter, [dict(uuid="u1", name="vf", state="enroll")], retries=1, poll=0.5)
    assert done[0]["result"] == "failed" and done[0]["attempts"] == 2
    assert "manage failed: Failed to get power state: BMC did not answer" in done[0]["msg"]


class WaitAdapter(IronicAdapter):
    def __init__(self, nodes):
        super().__init__(FakeConn(), sleep=lambda s: None)
        self.nodes = nodes

    def list_raw(self, collection, fields=None, **params):
        return [dict(n) for n in self.nodes]


def test_wait_for_states_ends_a_failed_verify_at_once():
    adapter = WaitAdapter([dict(uuid="u1", provision_state="enroll", target_provision_state=None,
                                last_error="BMC did not answer"),
                           dict(uuid="u2", provision_state="manageable", target_provision_state=None, last_error=None)])
    done = adapter.wait_for_states(["u1", "u2"], ["manageable"], timeout=3600)
    assert done["u1"] == ("enroll", "verify failed, node back in enroll: BMC did not answer")
    assert done["u2"] == ("manageable", None)
