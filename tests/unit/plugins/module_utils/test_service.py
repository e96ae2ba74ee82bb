"""The servicing step of a rolling upgrade (_service.py): steps, records, classify, the window."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _rollout as ro
from ansible_collections.spineleaf.baremetal.plugins.module_utils import _service as svc
from tests.unit.fakes import Clock, FakeIronic

STEPS = [{"interface": "vendor", "step": "log_passthrough", "args": {}}]
KEY = svc.service_key(STEPS)


class FakeServicing(FakeIronic):
    """FakeIronic with Ironic servicing: ``service`` moves an active node to ``servicing`` (target
    active) for ``duration`` s; a node in ``bad`` ends in ``service failed`` with Ironic's maintenance
    and fault. Ironic refuses to service a node in maintenance; so does the fake."""

    def service(self, uuid, service_steps=None, runbook=None):
        self.writes += 1
        self.calls.append((uuid, "service", runbook or service_steps))
        node = self.nodes[uuid]
        assert not node.get("maintenance"), "Ironic refuses to service a node in maintenance"
        assert node["provision_state"] in ("active", "service failed"), node["provision_state"]
        node.update(provision_state="servicing", target_provision_state="active", fault=None,
                    provision_updated_at="t%s" % self.clock())
        self.pending[uuid] = self.clock() + self.duration
        self._observe()

    def set_maintenance(self, uuid, on, reason=None):
        super().set_maintenance(uuid, on, reason)
        if not on:
            self.nodes[uuid]["fault"] = None

    def read_nodes(self, fields, uuids, moving_states=()):
        for uuid, at in list(self.pending.items()):
            if self.clock() >= at:
                node = self.nodes[uuid]
                if self.bad.get(uuid, 0) > 0:
                    self.bad[uuid] -= 1
                    node.update(provision_state="service failed", last_error="step failed", maintenance=True,
                                maintenance_reason="step failed", fault="service failure")
                else:
                    node.update(provision_state="active", target_provision_state=None)
                node["provision_updated_at"] = "t%s" % self.clock()
                del self.pending[uuid]
        return dict((u, dict(self.nodes[u])) for u in uuids)


def node(i, **kw):
    n = dict(uuid="u%d" % i, name="n%d" % i, provision_state="active", target_provision_state=None, maintenance=False,
             maintenance_reason=None, protected=False, fault=None, power_state="power on", instance_info={},
             extra={}, last_error=None, provision_updated_at="t-deploy")
    n.update(kw)
    return n


def _plan(nodes, rid="s1", key=KEY):
    return [dict(name=n["name"], uuid=n["uuid"], node=dict(n), op=svc.classify(n, rid, key)[0],
                 msg=svc.classify(n, rid, key)[1]) for n in nodes]


def test_steps_are_checked_and_keyed():
    assert svc.normalise_steps([{"interface": "vendor", "step": "log_passthrough"}]) == STEPS
    with pytest.raises(ValueError, match=r"service_steps\[0\] \(\?\): missing interface"):
        svc.normalise_steps([{"step": "", "interface": ""}])
    with pytest.raises(ValueError, match="unknown key.*priority"):
        svc.normalise_steps([{"interface": "bios", "step": "apply", "priority": 10}])
    with pytest.raises(ValueError, match="non-empty list"):
        svc.normalise_steps([])
    with pytest.raises(ValueError, match="args must be a dict"):
        svc.normalise_steps([{"interface": "bios", "step": "apply", "args": [1]}])
    assert svc.service_key(STEPS) == svc.service_key([dict(STEPS[0])]) != svc.service_key(STEPS + STEPS)
    assert svc.service_key(runbook="fw") == "runbook:fw" and svc.default_rollout_id(runbook="fw") == "service-fw"
    assert svc.default_rollout_id(STEPS).startswith("service-") and svc.describe(STEPS) == "vendor.log_passthrough"


def test_classify():
    rid = "s1"

    def rec(state, **kw):
        return {ro.RECORD_KEY: dict(id=rid, state=state, service=KEY, **kw)}
    assert svc.classify(node(1), rid, KEY) == ("upgrade", None)
    assert svc.classify(node(1, extra=rec("done")), rid, KEY)[0] == "done"
    # done for other steps: serviced again
    assert svc.classify(node(1, extra=rec("done")), rid, svc.service_key(runbook="x"))[0] == "upgrade"
    assert svc.classify(node(1, extra=rec("done"), maintenance=True, maintenance_reason="spineleaf rollout s1: x"),
                        rid, KEY)[0] == "repair"
    assert svc.classify(node(1, maintenance=True, maintenance_reason="disk"), rid, KEY)[0] == "fail"
    assert svc.classify(node(1, provision_state="available"), rid, KEY)[0] == "fail"
    assert svc.classify(node(1, provision_state="servicing", target_provision_state="active"), rid, KEY)[0] == "fail"
    # caught in flight, or failed earlier in this rollout (Ironic's maintenance and fault): resumed
    assert svc.classify(node(1, extra=rec("started"), provision_state="service wait", target_provision_state="active"),
                        rid, KEY)[0] == "upgrade"
    assert svc.classify(node(1, extra=rec("started"), provision_state="service failed", maintenance=True,
                             maintenance_reason="step failed", fault="service failure"), rid, KEY)[0] == "upgrade"
    assert svc.classify(node(1, extra=rec("failed"), provision_state="service failed", maintenance=True,
                             maintenance_reason="disk replaced", fault=None), rid, KEY)[0] == "fail"
    # started: the service call went through (provision_updated_at moved on) -> recorded; or not -> run
    assert svc.classify(node(1, extra=rec("started", before="t0"), provision_updated_at="t5"), rid, KEY)[0] == "finish"
    assert svc.classify(node(1, extra=rec("started", before="t0"), provision_updated_at="t0"), rid, KEY)[0] == "upgrade"


def test_service_step_table():
    """The servicing step on the one window's table: done back in active with no target, failed in
    service failed (Ironic keeps the target there), moving while servicing."""
    step, rec = svc.SERVICE, dict(name="n1")
    assert step.verdict(dict(provision_state="active"), rec) == "done"
    assert step.verdict(dict(provision_state="servicing", target_provision_state="active"), rec) == "moving"
    failed = dict(provision_state="service failed", target_provision_state="active", last_error="bmc")
    assert step.verdict(failed, rec) == "failed"
    assert step.failure(rec, failed) == "node n1: servicing went to service failed: bmc"


def test_window_services_every_node_and_a_rerun_writes_nothing():
    clock = Clock()
    nodes = [node(i) for i in range(8)]
    fake = FakeServicing(nodes, clock)
    out = svc.ServiceRollout(fake, "s1", STEPS, max_unavailable=3, clock=clock, sleep=clock.sleep).run(_plan(nodes))
    assert [r["action"] for r in out] == ["upgraded"] * 8
    assert fake.max_out == 3 and [c[1] for c in fake.calls] == ["service"] * 8 and fake.calls[0][2] == STEPS
    assert clock.t <= 6.0 + 3 * 0.5
    for n in fake.nodes.values():
        assert n["provision_state"] == "active" and not n["maintenance"]
        assert n["extra"][ro.RECORD_KEY]["state"] == "done" and n["extra"][ro.RECORD_KEY]["service"] == KEY
    fake.writes = 0
    out = svc.ServiceRollout(fake, "s1", STEPS, max_unavailable=3, clock=clock, sleep=clock.sleep).run(
        _plan(list(fake.nodes.values())))
    assert [r["action"] for r in out] == ["done"] * 8 and fake.writes == 0


def test_service_failed_counts_against_the_budget_and_says_how_to_recover():
    clock = Clock()
    nodes = [node(i) for i in range(6)]
    fake = FakeServicing(nodes, clock, bad={"u0"}, fail_times=1)
    runner = svc.ServiceRollout(fake, "s1", runbook="fw", max_unavailable=2, budget=0, clock=clock, sleep=clock.sleep,
                                rack="r07")
    out = dict((r["name"], r) for r in runner.run(_plan(nodes, key=svc.service_key(runbook="fw"))))
    assert out["n0"]["action"] == "failed" and out["n0"]["last_error"] == "step failed"
    assert "servicing went to service failed" in out["n0"]["msg"] and "baremetal node abort n0" in out["n0"]["msg"]
    assert fake.nodes["u0"]["provision_state"] == "service failed" and fake.nodes["u0"]["maintenance"]
    assert "spineleaf rollout s1: failed" in fake.nodes["u0"]["maintenance_reason"]
    assert out["n1"]["action"] == "upgraded"
    assert [out["n%d" % i]["action"] for i in range(2, 6)] == ["skipped"] * 4
    assert runner.stopped() and "rack r07 stopped" in out["n5"]["msg"]
    # a re-run with the same id: the failed node leaves maintenance and is serviced again
    again = svc.ServiceRollout(fake, "s1", runbook="fw", max_unavailable=2, budget=0, clock=clock, sleep=clock.sleep)
    out = dict((r["name"], r) for r in again.run(_plan(list(fake.nodes.values()), key=svc.service_key(runbook="fw"))))
    assert [out["n%d" % i]["action"] for i in range(6)] == ["upgraded", "done"] + ["upgraded"] * 4
    assert fake.nodes["u0"]["provision_state"] == "active" and not fake.nodes["u0"]["maintenance"]


def test_resume_waits_for_a_node_caught_in_flight():
    clock = Clock()
    rec = {ro.RECORD_KEY: dict(id="s1", state="started", service=KEY, before="t-deploy")}
    nodes = [node(0, extra=dict(rec)), node(1)]
    fake = FakeServicing(nodes, clock)
    fake.nodes["u0"].update(provision_state="service wait", target_provision_state="active")
    fake.pending["u0"] = 1.0
    out = svc.ServiceRollout(fake, "s1", STEPS, max_unavailable=1, clock=clock, sleep=clock.sleep).run(
        _plan(list(fake.nodes.values())))
    assert [r["action"] for r in out] == ["upgraded", "upgraded"]
    assert [c[0] for c in fake.calls] == ["u1"]  # u0 was waited for, not serviced twice


def test_rollout_what_decides_once():
    """The rolling_upgrade role's one decision: exactly one of image / tasks / steps / runbook, the
    plan's words, the rollout id, and an error naming what to fix."""
    got = svc.rollout_what("https://img/x-2.qcow2")
    assert (got["mode"], got["image"], got["rollout_id"], got["error"]) == ("image", {"source": "https://img/x-2.qcow2"}, "x-2.qcow2", None)
    assert got["what"] == "to https://img/x-2.qcow2"
    got = svc.rollout_what({}, "/p/up.yml")
    assert (got["mode"], got["rollout_id"], got["what"]) == ("tasks", "up.yml", "running /p/up.yml")
    assert "no such file" in svc.rollout_what({}, "/p/up.yml", tasks_exist=False)["error"]
    got = svc.rollout_what("", "", [{"interface": "vendor", "step": "log_passthrough"}])
    assert got["mode"] == "service" and got["service_steps"] == [{"interface": "vendor", "step": "log_passthrough", "args": {}}]
    assert got["rollout_id"] == svc.default_rollout_id(got["service_steps"]) and got["what"] == "servicing with vendor.log_passthrough"
    got = svc.rollout_what({"source": ""}, "", None, "fw-2025", "mine")
    assert (got["mode"], got["rollout_id"], got["service_what"]) == ("service", "mine", "runbook fw-2025")
    assert svc.rollout_what("u", "", None, "rb")["error"].endswith("got rollout_image and rollout_runbook")
    assert "must be a list of Ironic service steps" in svc.rollout_what("", "", [{"step": "x"}])["error"]
    assert svc.rollout_what("")["error"].startswith("no image: set rollout_image")
