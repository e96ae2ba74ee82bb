"""The one sliding window (_window): pure logic over the shared fake Ironic and clock."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _rack_progress as rp
from ansible_collections.spineleaf.baremetal.plugins.module_utils import _rollout as ro
from ansible_collections.spineleaf.baremetal.plugins.module_utils._window import DONE, FAILED, MOVING, Step, Window, poll
from tests.unit.fakes import Clock, FakeIronic

DEPLOY = Step("active", done=("active",), failed=("deploy failed",), moving=("deploying",), what="deploying")


def nodes(n, state="available"):
    return [dict(uuid="u%d" % i, name="n%d" % i, provision_state=state, target_provision_state=None,
                 maintenance=False, last_error=None) for i in range(n)]


def items(ns, steps=(DEPLOY,)):
    return [dict(uuid=n["uuid"], name=n["name"], node=dict(n), steps=list(steps), result="deployed") for n in ns]


def window(fake, clock, **kw):
    kw.setdefault("poll", 0.5)
    return Window(fake, clock=clock, sleep=clock.sleep, **kw)


def by_name(done):
    return dict((r["name"], r) for r in done)


def test_the_window_never_holds_more_than_n_and_slides():
    clock = Clock()
    ns = nodes(10)
    fake = FakeIronic(ns, clock, duration=2.0)
    seen = []
    done = window(fake, clock, concurrency=3).run_window(items(ns), seen.append)
    assert sorted(r["action"] for r in done) == ["deployed"] * 10
    assert fake.max_inflight == 3
    assert max(c["in_flight"] for c in seen) == 3
    assert seen[0] == dict(done=0, failed=0, in_flight=3, queued=7)
    assert seen[-1] == dict(done=10, failed=0, in_flight=0, queued=0)
    # sliding, not batches: ceil(10/3) rounds of 2 s plus polling slack
    assert clock.t <= 8.0 + 4 * 0.5
    assert all(r["attempts"] == 1 and r["provision_state"] == "active" and r["duration"] > 0 for r in done)


def test_a_node_still_moving_at_its_timeout_fails_alone():
    clock = Clock()
    ns = nodes(2)
    fake = FakeIronic(ns, clock, duration=2.0)
    real = fake.provision

    def provision(uuid, action, config_drive=None):
        real(uuid, action, config_drive)
        if uuid == "u0":
            fake.pending[uuid] = 1e9  # the fake finishes an action `duration` after it is sent: n0 hangs
    fake.provision = provision
    done = by_name(window(fake, clock, concurrency=2, timeout=10).run_window(items(ns)))
    assert done["n0"]["action"] == "failed" and done["n0"]["msg"] == "node n0: still deploying after 10s"
    assert done["n1"]["action"] == "deployed"
    assert 10 < clock.t <= 11


def test_retries_then_success_and_failure_state_with_last_error():
    clock = Clock()
    ns = nodes(3)
    fake = FakeIronic(ns, clock, bad=("u0", "u1"), fail_times=1)
    done = by_name(window(fake, clock, concurrency=3, retries=1).run_window(items(ns)))
    assert [done["n%d" % i]["action"] for i in range(3)] == ["deployed"] * 3
    assert done["n0"]["attempts"] == 2 and done["n0"]["errors"] == ["node n0: went to deploy failed: boom"]

    clock = Clock()
    fake = FakeIronic(ns, clock, bad=("u0",))
    done = by_name(window(fake, clock, concurrency=3, retries=1).run_window(items(ns)))
    assert done["n0"]["action"] == "failed" and done["n0"]["attempts"] == 2
    assert done["n0"]["msg"] == "node n0: went to deploy failed: boom" and done["n0"]["last_error"] == "boom"
    assert done["n0"]["provision_state"] == "deploy failed"
    assert [done["n%d" % i]["action"] for i in (1, 2)] == ["deployed"] * 2
    assert [c[1] for c in fake.calls if c[0] == "u0"] == ["active", "active"]


def test_steps_run_in_order_and_a_disappeared_node_fails():
    clock = Clock()
    ns = nodes(2, state="manageable")
    fake = FakeIronic(ns, clock)
    provide = Step("provide", done=("available",), failed=("clean failed",))
    recs = items(ns, steps=(provide, DEPLOY))
    real = fake.node_states
    fake.node_states = lambda uuids: dict((u, n) for u, n in real(uuids).items() if u != "u1" or clock.t < 1)
    done = by_name(window(fake, clock, concurrency=2).run_window(recs))
    assert [c[1] for c in fake.calls if c[0] == "u0"] == ["provide", "active"]
    assert done["n0"]["action"] == "deployed"
    assert done["n1"]["action"] == "failed" and done["n1"]["msg"] == "node n1: disappeared during the operation"


def test_a_failure_budget_stops_new_starts_and_skips_the_rest():
    class Budget(Window):
        def stopped(self):
            return self.failures > 0

    clock = Clock()
    ns = nodes(5)
    fake = FakeIronic(ns, clock, bad=("u0",))
    done = by_name(Budget(fake, concurrency=2, poll=0.5, clock=clock, sleep=clock.sleep).run_window(items(ns)))
    assert done["n0"]["action"] == "failed" and done["n1"]["action"] == "deployed"  # in flight: it finishes
    assert [done["n%d" % i]["action"] for i in (2, 3, 4)] == ["skipped"] * 3
    assert done["n4"]["msg"] == "node n4: not started" and done["n4"]["duration"] == 0.0


def test_a_start_that_fails_frees_its_slot_and_fails_alone():
    class Prepared(Window):
        def prepare(self, rec):
            if rec["name"] == "n1":
                raise ValueError("node n1: no segment for rack r09")

    clock = Clock()
    ns = nodes(3)
    fake = FakeIronic(ns, clock)
    done = by_name(Prepared(fake, concurrency=1, poll=0.5, clock=clock, sleep=clock.sleep).run_window(items(ns)))
    assert done["n1"]["action"] == "failed" and "r09" in done["n1"]["msg"] and done["n1"]["provision_state"] == "available"
    assert done["n0"]["action"] == done["n2"]["action"] == "deployed"
    assert all(c[0] != "u1" for c in fake.calls)


class ServiceFake(FakeIronic):
    """The fake Ironic with the verbs of servicing and cleaning: their arguments are recorded and the
    node comes back to where it was (``active`` / ``manageable``), or to the failed state for ``bad``."""

    def provision(self, uuid, action, config_drive=None, **args):
        self.writes += 1
        self.calls.append((uuid, action, args))
        node = self.nodes[uuid]
        back = node["provision_state"]
        node.update(provision_state="servicing" if action == "service" else "cleaning", target_provision_state=back)
        self.pending[uuid] = (self.clock() + self.duration, back, action)

    def node_states(self, uuids):
        for uuid, (at, back, action) in list(self.pending.items()):
            if self.clock() >= at:
                node = self.nodes[uuid]
                if self.bad.get(uuid, 0) > 0:
                    self.bad[uuid] -= 1
                    node["provision_state"] = "service failed" if action == "service" else "clean failed"
                    node["last_error"] = "step failed"
                else:
                    node["provision_state"], node["target_provision_state"] = back, None
                del self.pending[uuid]
        return dict((u, dict(self.nodes[u])) for u in uuids)


def test_a_new_step_plugs_in_with_a_table_and_its_arguments():
    """What the docstring of _window promises the servicing and cleaning campaigns."""
    service = Step("service", done=("active",), failed=("service failed",), moving=("servicing", "service wait"),
                   what="servicing", args=lambda rec: dict(service_steps=rec["service_steps"]))
    clock = Clock()
    ns = nodes(4, state="active")
    fake = ServiceFake(ns, clock, bad=("u2",))
    recs = [dict(r, steps=[service], result="serviced", service_steps=[{"step": "x"}]) for r in items(ns)]
    done = by_name(window(fake, clock, concurrency=2).run_window(recs))
    assert [done["n%d" % i]["action"] for i in range(4)] == ["serviced", "serviced", "failed", "serviced"]
    assert done["n2"]["msg"] == "node n2: went to service failed: step failed"
    assert fake.calls[0] == ("u0", "service", {"service_steps": [{"step": "x"}]})


def test_a_step_times_out_into_its_abort_verb():
    clock = Clock()
    ns = nodes(1, state="manageable")
    fake = ServiceFake(ns, clock, duration=100)
    clean = Step("clean", done=("manageable",), failed=("clean failed",), moving=("cleaning", "clean wait"),
                 abort="abort", aborts_to="clean failed")
    done = window(fake, clock, timeout=5).run_window([dict(items(ns)[0], steps=[clean])])
    assert [c[1] for c in fake.calls] == ["clean", "abort"]
    assert done[0]["action"] == "failed" and done[0]["provision_state"] == "clean failed"
    assert done[0]["msg"] == "node n0: still cleaning after 5s"


def test_step_verdicts_come_from_the_table():
    step = Step("inspect", done=("manageable",), failed=("inspect failed",),
                done_if=lambda node, rec: node.get("finished") != rec["baseline"],
                failed_if=lambda node, rec: node.get("provision_state") == "enroll" and bool(node.get("last_error")))
    rec = dict(name="n1", baseline="t0")
    assert step.verdict(dict(provision_state="manageable", finished="t1"), rec) == DONE
    assert step.verdict(dict(provision_state="manageable", finished="t0"), rec) == MOVING  # not this attempt's
    assert step.verdict(dict(provision_state="manageable", target_provision_state="active", finished="t1"), rec) == MOVING
    assert step.verdict(dict(provision_state="inspect failed", target_provision_state="manageable"), rec) == FAILED
    assert step.verdict(dict(provision_state="enroll", last_error="BMC"), rec) == FAILED
    assert step.verdict(dict(provision_state="inspect wait"), rec) == MOVING


def test_the_poller_sleeps_between_rounds_and_grows_to_its_ceiling():
    slept, rounds = [], []
    poll(lambda: len(rounds), lambda n: rounds.append(n) or n >= 4, 1.0, max_interval=2.0, wait_first=True,
         sleep=slept.append)
    assert rounds == [0, 1, 2, 3, 4]
    assert slept == [1.0, 1.0, 1.5, 2.0, 2.0]


def test_the_poller_backs_off_while_nothing_moves_and_starts_again_when_something_does():
    slept, rounds = [], []
    moved = {3}  # the round of index 3 finished a node
    poll(lambda: len(rounds), lambda n: rounds.append(n) or n >= 6, 0.1, max_interval=1.0, sleep=slept.append,
         progressed=lambda: len(rounds) - 1 in moved)
    assert [round(s, 3) for s in slept] == [0.1, 0.15, 0.225, 0.1, 0.15, 0.225]


def test_the_window_backs_off_to_max_poll_and_back_when_a_node_finishes():
    clock = Clock()
    fake = FakeIronic(nodes(2), clock=clock, duration=10.0)
    slept = []

    def sleep(s):
        slept.append(s)
        clock.sleep(s)
    w = Window(fake, concurrency=1, poll=0.1, max_poll=2.0, clock=clock, sleep=sleep)
    done = w.run_window(items(nodes(2)))
    assert [r["name"] for r in done] == ["n0", "n1"] and all(r["action"] == "deployed" for r in done)
    assert max(slept) == 2.0 and len(slept) < 30  # at a fixed 0.1 s: about 200 rounds for 20 s
    first_long = slept.index(2.0)
    assert 0.1 in slept[first_long:]  # n0 finished, n1 started: quick again


# ------------------------------------------------------------------ the progress contract
def test_a_progress_file_that_cannot_be_written_warns_once_and_never_raises(tmp_path):
    warned = []
    write = rp.progress_writer(str(tmp_path / "gone" / "r01.json"), warn=warned.append, rack="r01")
    write(dict(total=2, done=0))
    write(dict(total=2, done=1))
    assert len(warned) == 1 and "cannot write it" in warned[0] and "the work goes on" in warned[0]
    # the directory comes back: the next change is written
    (tmp_path / "gone").mkdir()
    write(dict(total=2, done=2))
    assert rp.read_progress(str(tmp_path / "gone" / "r01.json")) == dict(total=2, done=2, rack="r01")


def test_without_a_warn_callback_the_error_is_a_python_warning(tmp_path):
    write = rp.progress_writer(str(tmp_path / "gone" / "r01.json"))
    with pytest.warns(UserWarning, match="cannot write it"):
        write(dict(total=1))


def test_a_rollout_reporting_to_an_unwritable_progress_file_finishes(tmp_path):
    clock = Clock()
    ns = [dict(uuid="u%d" % i, name="n%d" % i, provision_state="active", target_provision_state=None,
               maintenance=False, maintenance_reason=None, protected=False, extra={},
               instance_info={"image_source": "old"}) for i in range(3)]
    new = {"image_source": "new"}
    plan = [dict(name=n["name"], uuid=n["uuid"], node=dict(n), op="upgrade", msg=None) for n in ns]
    warned = []
    out = ro.RackRollout(FakeIronic(ns, clock), "r1", new, max_unavailable=2, clock=clock, sleep=clock.sleep).run(
        plan, progress=rp.progress_writer(str(tmp_path / "no" / "dir.json"), warn=warned.append, rack="r01"))
    assert [r["action"] for r in out] == ["upgraded"] * 3
    assert len(warned) == 1


def test_the_module_progress_contract_warns_through_the_module(tmp_path):
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import BaremetalModule

    class Module:
        warned = []
        write_progress = BaremetalModule.write_progress

        def warn(self, msg):
            self.warned.append(msg)

    module = Module()
    module.write_progress(str(tmp_path / "missing" / "p.json"), dict(total=1))
    module.write_progress(str(tmp_path / "missing" / "p.json"), dict(total=1, done=1))
    assert len(module.warned) == 1


def test_a_rollout_with_another_step_is_a_table_and_a_start():
    """The rolling upgrade's window with servicing instead of a rebuild: the subclass sets its step's
    table and its start; the window, budget, records and maintenance on failure are the rollout's."""
    class Serviced(ro.RackRollout):
        step = Step("service", done=("active",), failed=("service failed", "error"), moving=("servicing",),
                    failed_msg="node %(name)s: servicing went to %(state)s: %(error)s", no_error="-")

        def _start(self, rec):
            rec["started"] = self.clock()
            self.adapter.patch_node(rec["uuid"], [self._record("started")])
            self.adapter.provision(rec["uuid"], "service", service_steps=[{"step": "x"}])
            return True

    clock = Clock()
    ns = [dict(n, extra={}, instance_info={}) for n in nodes(4, state="active")]
    fake = ServiceFake(ns, clock, bad=("u1",))
    plan = [dict(name=n["name"], uuid=n["uuid"], node=dict(n), op="upgrade", msg=None) for n in ns]
    out = Serviced(fake, "s1", None, max_unavailable=2, budget=1, clock=clock, sleep=clock.sleep).run(plan)
    assert [r["action"] for r in out] == ["upgraded", "failed", "upgraded", "upgraded"]
    assert out[1]["msg"] == "node n1: servicing went to service failed: step failed"
    assert fake.nodes["u1"]["maintenance"]  # the rollout's fail(): left in maintenance with the reason
    assert fake.nodes["u0"]["extra"][ro.RECORD_KEY]["state"] == "done"
    assert [c[1] for c in fake.calls] == ["service"] * 4
