"""Cleaning campaigns: which nodes, which phases, and the window with its budget (a fake Ironic)."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._cleaning import (
    Campaign, check_steps, phases_for, plan_node, refusal)
from tests.unit.fakes import Clock

STEP = {"interface": "bios", "step": "apply_configuration", "args": {"settings": [{"name": "HT", "value": "Off"}]}}


def node(state, **kw):
    return dict(dict(uuid="u-" + state, provision_state=state, maintenance=False), **kw)


def test_phases_end_where_the_node_started():
    assert phases_for("available") == ["manage", "clean", "provide"]
    assert phases_for("manageable") == ["clean"]
    assert phases_for("clean failed") == ["manage", "clean"]
    assert refusal("manageable") is None
    assert "never touches a workload" in refusal("active") and "deploying" in refusal("deploy wait")
    assert "cleaning starts from manageable or available" in refusal("inspecting")


def test_plan_cleans_only_drift_or_raw_steps():
    raw = [{"interface": "raid", "step": "create_configuration", "args": {}}]
    assert plan_node("n", node("available"), [STEP], [], requested=True)["action"] == "cleaned"
    assert plan_node("n", node("available"), [], raw, requested=True)["action"] == "unchanged"  # no drift
    forced = plan_node("n", node("available"), [], raw, requested=True, force=True)
    assert forced["action"] == "cleaned" and forced["clean_steps"] == raw
    assert plan_node("n", node("manageable"), [], raw)["action"] == "cleaned"  # raw steps only: always
    assert plan_node("n", node("manageable"), [], [])["msg"] == "nothing to run"
    refused = plan_node("n", node("active"), [STEP], [], requested=True)
    assert refused["action"] == "refused" and refused["clean_steps"] == []
    assert plan_node("n", node("active"), [], [], requested=True)["action"] == "unchanged"  # in sync: not refused
    assert plan_node("n", None, [STEP])["msg"] == "node n is not in Ironic (enroll it first)"
    assert plan_node("n", node("manageable", maintenance=True), [STEP], requested=True)["action"] == "maintenance"
    assert plan_node("n", node("manageable"), [], [], ["no url"], requested=True)["action"] == "failed"
    assert plan_node("n", node("available"), [STEP], requested=True)["msg"] == \
        "manage -> clean -> provide: bios.apply_configuration (back to available)"


def test_bad_raw_steps_are_named():
    with pytest.raises(ValueError, match=r"node n: clean_steps\[1\] needs interface and step"):
        check_steps("n", [STEP, {"step": "x"}])
    with pytest.raises(ValueError, match=r"clean_steps\[0\].args must be a dict"):
        check_steps("n", [{"interface": "a", "step": "b", "args": [1]}])


class FakeIronic:
    """Provision actions finish one poll round after they are sent; ``bad`` nodes fail cleaning."""

    def __init__(self, nodes, bad=()):
        self.nodes = dict((n["uuid"], dict(n, target_provision_state=None, last_error=None, provision_updated_at=0))
                          for n in nodes)
        self.bad = set(bad)
        self.calls = []
        self.pending = {}
        self.inflight_max = 0
        self.t = 0
        self.reads = 0

    def set_provision_state(self, uuid, action, **body):
        self.calls.append((uuid, action, body))
        self.pending[uuid] = action
        self.nodes[uuid]["target_provision_state"] = "x"
        self.inflight_max = max(self.inflight_max, len(self.pending))

    def tick(self):
        self.t += 1
        for uuid, action in list(self.pending.items()):
            n = self.nodes[uuid]
            n.update(target_provision_state=None, provision_updated_at=self.t)
            if action == "clean" and uuid in self.bad:  # Ironic keeps the target of the failed action
                n.update(provision_state="clean failed", target_provision_state="manageable", last_error="BIOS locked")
            else:
                n["provision_state"] = {"manage": "manageable", "clean": "manageable", "provide": "available"}[action]
            del self.pending[uuid]

    def read_nodes(self, fields, ids, moving_states=()):
        """The window's read: a round of Ironic's work, then the nodes asked for."""
        self.reads += 1
        assert self.reads < 1000, "the campaign never settled"
        self.tick()
        return dict((u, dict(self.nodes[u])) for u in ids)


def entries(fake, names):
    out = []
    for uuid in names:
        n = fake.nodes[uuid]
        e = plan_node(uuid, n, [STEP], requested=True)
        e["provision_updated_at"] = n["provision_updated_at"]
        out.append(e)
    return out


def test_campaign_runs_the_phases_within_the_window():
    fake = FakeIronic([node("available", uuid="a%d" % i) for i in range(5)])
    plan = entries(fake, sorted(fake.nodes))
    verdict = Campaign(fake, concurrency=2, clock=Clock(), sleep=lambda s: None).run(plan)
    assert not verdict["stopped"] and [e["action"] for e in plan] == ["cleaned"] * 5
    assert [e["provision_state"] for e in plan] == ["available"] * 5
    assert [a for u, a, b in fake.calls if u == "a0"] == ["manage", "clean", "provide"]
    assert [b for u, a, b in fake.calls if a == "clean"][0] == {"clean_steps": [STEP]}
    assert fake.inflight_max <= 2
    assert "provision_updated_at" not in plan[0] and "baseline" not in plan[0]


def test_budget_zero_stops_the_rack_and_leaves_the_rest_unstarted():
    fake = FakeIronic([node("manageable", uuid="m%d" % i) for i in range(4)], bad=["m0"])
    plan = entries(fake, sorted(fake.nodes))
    verdict = Campaign(fake, concurrency=1, budget=0, rack="r09", clock=Clock(), sleep=lambda s: None).run(plan)
    assert verdict["stopped"] and verdict["msg"] == "rack r09 stopped: 1 of 4 nodes failed (budget 0)"
    assert [e["action"] for e in plan] == ["failed", "skipped", "skipped", "skipped"]
    assert "clean went to clean failed: BIOS locked" in plan[0]["msg"]
    assert set(u for u, a, b in fake.calls) == {"m0"}


def test_budget_counts_refusals_and_check_mode_verdict():
    fake = FakeIronic([node("manageable", uuid="m0")])
    plan = [plan_node("act", node("active"), [STEP], requested=True)] + entries(fake, ["m0"])
    campaign = Campaign(fake, budget=0, rack="r1", clock=Clock(), sleep=lambda s: None)
    assert campaign.verdict([dict(e) for e in plan])["stopped"]
    campaign.run(plan)
    assert [e["action"] for e in plan] == ["refused", "skipped"] and fake.calls == []
    within = [plan_node("act", node("active"), [STEP], requested=True)] + entries(FakeIronic([node("manageable", uuid="m1")]), [])
    assert not Campaign(fake, budget="50%", clock=Clock()).verdict(within + [dict(plan[1], action="cleaned")])["stopped"]


def test_a_node_past_its_timeout_fails():
    fake = FakeIronic([node("manageable", uuid="s0")])
    fake.tick = lambda: None  # never finishes
    clock = Clock()
    plan = entries(fake, ["s0"])
    Campaign(fake, timeout=12, poll=5, clock=clock, sleep=clock.sleep).run(plan)
    assert plan[0]["action"] == "failed" and "still manageable after 12s" in plan[0]["msg"]


def test_ironic_maintenance_after_a_clean_failure_is_lifted_others_left_alone():
    failed = node("clean failed", maintenance=True, maintenance_reason="step failed", fault="clean failure")
    entry = plan_node("n", failed, [STEP], requested=True)
    assert entry["action"] == "cleaned" and entry["clear_maintenance"] and entry["phases"] == ["manage", "clean"]
    other = node("manageable", maintenance=True, maintenance_reason="disk swap")
    assert plan_node("n", other, [STEP], requested=True)["action"] == "maintenance"
