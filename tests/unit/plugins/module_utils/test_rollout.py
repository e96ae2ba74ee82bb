"""Failure budget, rack order and selection, sliding window vs batches."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _rollout as ro
from tests.unit.fakes import Clock, FakeIronic


@pytest.mark.parametrize("budget,total,want", [
    (2, 40, 2), ("2", 40, 2), ("10%", 40, 4), ("10%", 15, 1), ("0%", 40, 0), ("100%", 7, 7),
    (None, 40, ro.DEFAULT_FAILURE_BUDGET), (" 25 % ", 4, 1), (3.0, 10, 3)])
def test_failure_budget(budget, total, want):
    assert ro.failure_budget(budget, total) == want


@pytest.mark.parametrize("budget", [-1, "-1", "ten", "150%", True, 1.5, [1]])
def test_failure_budget_rejects(budget):
    with pytest.raises(ValueError):
        ro.failure_budget(budget, 10)


def test_rack_budget_message():
    verdict = ro.rack_budget("r02", 3, 40, 2)
    assert verdict["stopped"] and verdict["msg"] == "rack r02 stopped: 3 of 40 nodes failed (budget 2)"
    assert not ro.rack_budget("r02", 4, 40, "10%")["stopped"]
    assert ro.rack_budget("r01", 1, 4, 0)["stopped"]


def test_rack_order_and_selection():
    assert ro.rack_order(["r03", "r01", "r02"], index={"r01": 1, "r02": 2, "r03": 3}) == ["r01", "r02", "r03"]
    assert ro.rack_order(["r03", "r01", "r02"], order=["r02", "r09"], index={"r01": 1, "r03": 3}) == ["r02", "r01", "r03"]
    assert ro.select_racks(["r01", "r02", "r03"], "r03, r02") == ["r02", "r03"]
    assert ro.select_racks(["r01"], None) == ["r01"]
    with pytest.raises(ValueError, match="r07"):
        ro.select_racks(["r01"], ["r07"])
    assert ro.rack_waves(["a", "b", "c"], 2) == [["a", "b"], ["c"]]


def test_window_beats_batches_when_durations_vary():
    durations = [1, 5, 1, 1, 5, 1, 1, 1]
    window, starts = ro.window_schedule(durations, 2)
    assert window == 8 and starts[:3] == [0, 0, 1]
    assert ro.batch_schedule(durations, 2) == 5 + 1 + 5 + 1
    assert ro.window_schedule([], 3)[0] == 0.0


# ---------------------------------------------------------------- one rack of a rolling upgrade
NEW = {"image_source": "http://img/new.qcow2"}
OLD = {"image_source": "http://img/old.qcow2"}


def node(i, **kw):
    n = dict(uuid="u%d" % i, name="n%d" % i, provision_state="active", target_provision_state=None, maintenance=False,
             maintenance_reason=None, protected=False, fault=None, power_state="power on", instance_info=dict(OLD),
             extra={}, last_error=None)
    n.update(kw)
    return n


def test_classify():
    rid = "r1"
    done = {ro.RECORD_KEY: {"id": rid, "state": "done"}}
    assert ro.classify(node(1), rid, NEW)[0] == "upgrade"
    assert ro.classify(node(1, instance_info=dict(NEW)), rid, NEW)[0] == "unchanged"
    assert ro.classify(node(1, instance_info=dict(NEW), extra=done), rid, NEW)[0] == "done"
    assert ro.classify(node(1, instance_info=dict(NEW), extra=done, maintenance=True,
                            maintenance_reason="spineleaf rollout r1: upgrading"), rid, NEW)[0] == "repair"
    op, msg = ro.classify(node(1, maintenance=True, maintenance_reason="disk"), rid, NEW)
    assert op == "fail" and "disk" in msg
    assert ro.classify(node(1, protected=True), rid, NEW)[0] == "fail"
    assert ro.classify(node(1, provision_state="available"), rid, NEW)[0] == "fail"
    started = {ro.RECORD_KEY: {"id": rid, "state": "started"}}
    assert ro.classify(node(1, extra=started, provision_state="deploying", target_provision_state="active"), rid, NEW)[0] == "upgrade"
    assert ro.classify(node(1, extra=started, instance_info=dict(NEW)), rid, NEW)[0] == "finish"
    # a record of another rollout does not count
    assert ro.classify(node(1, instance_info=dict(NEW), extra={ro.RECORD_KEY: {"id": "other", "state": "done"}}), rid, NEW)[0] == "unchanged"


def _plan(nodes, rid="r1"):
    return [dict(name=n["name"], uuid=n["uuid"], node=dict(n), op=ro.classify(n, rid, NEW)[0],
                 msg=ro.classify(n, rid, NEW)[1]) for n in nodes]


def test_rack_rollout_window_and_records():
    clock = Clock()
    nodes = [node(i) for i in range(8)]
    fake = FakeIronic(nodes, clock)
    out = ro.RackRollout(fake, "r1", NEW, max_unavailable=3, clock=clock, sleep=clock.sleep, poll=0.5).run(_plan(nodes))
    assert [r["action"] for r in out] == ["upgraded"] * 8
    assert fake.max_out == 3
    assert clock.t <= 6.0 + 3 * 0.5  # ceil(8/3) rounds of 2 s, a sliding window
    assert all(n["extra"][ro.RECORD_KEY]["state"] == "done" and not n["maintenance"] for n in fake.nodes.values())
    # a second run: everything done, no write
    fake.writes = 0
    out = ro.RackRollout(fake, "r1", NEW, max_unavailable=3, clock=clock, sleep=clock.sleep).run(_plan(list(fake.nodes.values())))
    assert [r["action"] for r in out] == ["done"] * 8 and fake.writes == 0


def test_rack_rollout_budget_stops_and_failed_nodes_stay_in_maintenance():
    clock = Clock()
    nodes = [node(i) for i in range(6)]
    fake = FakeIronic(nodes, clock, bad={"u0"})
    runner = ro.RackRollout(fake, "r1", NEW, max_unavailable=2, budget=0, clock=clock, sleep=clock.sleep, rack="r07")
    out = dict((r["name"], r) for r in runner.run(_plan(nodes)))
    assert out["n0"]["action"] == "failed" and fake.nodes["u0"]["maintenance"]
    assert "spineleaf rollout r1: failed" in fake.nodes["u0"]["maintenance_reason"]
    assert out["n1"]["action"] == "upgraded"  # in flight when n0 failed: it finishes
    assert [out["n%d" % i]["action"] for i in range(2, 6)] == ["skipped"] * 4
    assert "rack r07 stopped: 1 of 6 nodes failed (budget 0)" in out["n5"]["msg"]
    assert runner.stopped()


def test_rack_rollout_gate_failure_within_budget():
    clock = Clock()
    nodes = [node(i) for i in range(4)]
    fake = FakeIronic(nodes, clock)
    items = _plan(nodes)
    items[2].update(op="fail", msg="n2: health gate: unhealthy")
    out = ro.RackRollout(fake, "r1", NEW, max_unavailable=2, budget=1, clock=clock, sleep=clock.sleep).run(items)
    assert [r["action"] for r in out] == ["upgraded", "upgraded", "failed", "upgraded"]
    assert fake.nodes["u2"]["maintenance"] and fake.nodes["u2"]["instance_info"] == OLD
    assert fake.max_out <= 2


def test_rack_rollout_resumes_a_rebuild_a_conductor_restart_failed():
    """Ironic moves `deploying` nodes to "deploy failed" (target still "active") when its conductor
    restarts: the resumed rollout deploys them again instead of waiting for a deploy that is over."""
    clock = Clock()
    started = {ro.RECORD_KEY: {"id": "r1", "state": "started"}}
    crashed = node(0, extra=dict(started), instance_info=dict(NEW), provision_state="deploy failed",
                   target_provision_state="active", last_error="The deploying state can't be resumed")
    nodes = [crashed, node(1)]
    fake = FakeIronic(nodes, clock)
    out = ro.RackRollout(fake, "r1", NEW, max_unavailable=1, clock=clock, sleep=clock.sleep, poll=0.5,
                         timeout=60).run(_plan(nodes))
    assert [r["action"] for r in out] == ["upgraded", "upgraded"], out
    assert clock.t < 60
    assert all(n["provision_state"] == "active" and not n["maintenance"] for n in fake.nodes.values())


def test_progress_counts_reported_while_the_window_runs():
    clock = Clock()
    nodes = [node(i) for i in range(5)]
    seen = []
    ro.RackRollout(FakeIronic(nodes, clock), "r1", NEW, max_unavailable=2, clock=clock, sleep=clock.sleep).run(
        _plan(nodes), progress=seen.append)
    assert seen[0] == dict(total=5, done=0, failed=0, in_progress=2)
    assert seen[-1] == dict(total=5, done=5, failed=0, in_progress=0)
    assert max(c["in_progress"] for c in seen) == 2


def test_a_finished_node_hands_its_slot_on_before_its_record_is_written():
    """The slot goes to the next node in the same poll round (the node is back in service: its
    maintenance was lifted before the rebuild); the `done` record is written after."""
    clock = Clock()
    nodes = [node(i) for i in range(4)]
    fake = FakeIronic(nodes, clock)
    order = []
    real_patch, real_provision = fake.patch_node, fake.provision
    fake.patch_node = lambda uuid, ops: (order.append(("record", uuid, ops[-1]["value"].get("state"))), real_patch(uuid, ops))
    fake.provision = lambda uuid, action, config_drive=None: (order.append(("rebuild", uuid)), real_provision(uuid, action))
    ro.RackRollout(fake, "r1", NEW, max_unavailable=1, clock=clock, sleep=clock.sleep, poll=0.5).run(_plan(nodes))
    assert order.index(("rebuild", "u1")) < order.index(("record", "u0", "done"))
    assert clock.t <= 4 * 2.0 + 4 * 0.5


def test_classify_upgrade_tasks():
    rid, tasks = "fw-7", "/site/upgrade.yml"

    def mine(state, **kw):
        return {ro.RECORD_KEY: dict({"id": rid, "state": state, "tasks": tasks}, **kw)}
    # no image to compare: a node on any image is upgraded, until its record says done for these tasks
    assert ro.classify(node(1, instance_info=dict(NEW)), rid, None, tasks)[0] == "upgrade"
    assert ro.classify(node(1, extra=mine("done")), rid, None, tasks)[0] == "done"
    assert ro.classify(node(1, extra=mine("done", tasks="/other.yml")), rid, None, tasks)[0] == "upgrade"
    ours = dict(maintenance=True, maintenance_reason="spineleaf rollout fw-7: running upgrade tasks")
    assert ro.classify(node(1, extra=mine("done"), **ours), rid, None, tasks)[0] == "repair"
    op, msg = ro.classify(node(1, extra=mine("started"), **ours), rid, None, tasks)
    assert op == "upgrade" and msg.startswith("resuming")
    assert ro.classify(node(1, maintenance=True, maintenance_reason="disk"), rid, None, tasks)[0] == "fail"
    assert ro.classify(node(1, provision_state="available"), rid, None, tasks)[0] == "fail"


def test_enter_and_leave_around_upgrade_tasks():
    clock = Clock()
    nodes = [node(i) for i in range(4)]
    fake = FakeIronic(nodes, clock)
    tasks = "/site/upgrade.yml"
    plan = [dict(name=n["name"], uuid=n["uuid"], node=dict(n), op=ro.classify(n, "fw", None, tasks)[0], msg=None) for n in nodes]
    plan[3].update(op="fail", msg="n3: health gate: unhealthy")
    runner = ro.RackRollout(fake, "fw", None, clock=clock, sleep=clock.sleep, tasks=tasks)
    out = runner.enter(plan)
    assert [r["action"] for r in out] == ["entered", "entered", "entered", "failed"]
    assert all(fake.nodes["u%d" % i]["maintenance"] for i in range(4))
    assert "running upgrade tasks /site/upgrade.yml" in fake.nodes["u0"]["maintenance_reason"]
    assert fake.nodes["u0"]["extra"][ro.RECORD_KEY] == dict(id="fw", state="started", tasks=tasks, at=fake.nodes["u0"]["extra"][ro.RECORD_KEY]["at"])
    out = ro.RackRollout(fake, "fw", None, clock=clock, sleep=clock.sleep, tasks=tasks).leave(
        plan[:3], {"n1": "upgrade tasks: firmware flash failed"})
    assert [r["action"] for r in out] == ["upgraded", "failed", "upgraded"]
    assert not fake.nodes["u0"]["maintenance"] and fake.nodes["u0"]["extra"][ro.RECORD_KEY]["state"] == "done"
    assert fake.nodes["u1"]["maintenance"] and "failed: node n1: upgrade tasks: firmware" in fake.nodes["u1"]["maintenance_reason"]
    assert fake.nodes["u1"]["extra"][ro.RECORD_KEY]["state"] == "failed"
    assert all(n["instance_info"] == OLD for n in fake.nodes.values())  # nothing rebuilt
