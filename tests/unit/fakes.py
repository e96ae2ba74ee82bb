"""The unit tests' shared fakes (mocks are for unit tests of pure logic only; see README "Tests"):
an SDK connection holding a fake proxy, an SDK-style HTTP error, a clock that sleeps instantly,
and a fake Ironic for the runners (provisioning, rolling re-image) on that clock.

Import as ``from tests.unit.fakes import FakeConn, ...``."""


class FakeConn:
    """An openstacksdk connection: ``baremetal`` is the fake proxy given (an inert object when none
    is, for adapters whose calls the test replaces)."""

    def __init__(self, baremetal=None):
        self.baremetal = baremetal if baremetal is not None else object()


class FakeHttpError(Exception):
    """An SDK HTTP exception: ``status_code`` and ``details``, as the adapters read them."""

    def __init__(self, status_code, details):
        super().__init__(details)
        self.status_code = status_code
        self.details = details


class Clock:
    """A monotonic clock the test drives: ``sleep(s)`` moves it on at once."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.t += s


class FakeIronic:
    """The adapter calls of the runners over node dicts, on a ``Clock``: each provision action
    finishes ``duration`` seconds after it is sent; a node in ``bad`` ends its deployment in
    "deploy failed" (target kept "active", as Ironic does) ``fail_times`` times.

    It records ``calls`` (uuid, action, config drive), ``writes``, the most nodes ever in flight
    (``max_inflight``) and the most nodes ever out of service, in maintenance or not active
    (``max_out``). Ironic refuses to deploy a node in maintenance; so does the fake.
    """

    def __init__(self, nodes, clock, duration=2.0, bad=(), fail_times=99):
        self.nodes = dict((n["uuid"], dict(n)) for n in nodes)
        self.clock = clock
        self.duration = duration
        self.bad = dict((b, fail_times) for b in bad)
        self.pending = {}
        self.calls = []
        self.writes = 0
        self.max_inflight = 0
        self.max_out = 0

    def _observe(self):
        out = sum(1 for n in self.nodes.values() if n.get("maintenance") or n["provision_state"] != "active")
        self.max_out = max(self.max_out, out)
        self.max_inflight = max(self.max_inflight, len(self.pending))

    def set_maintenance(self, uuid, on, reason=None):
        self.writes += 1
        self.nodes[uuid].update(maintenance=on, maintenance_reason=reason if on else None)
        self._observe()

    def patch_node(self, uuid, ops):
        self.writes += 1
        for op in ops:
            field, key = op["path"].split("/")[1:]
            self.nodes[uuid][field][key] = op["value"]

    def provision(self, uuid, action, config_drive=None):
        self.writes += 1
        self.calls.append((uuid, action, config_drive))
        node = self.nodes[uuid]
        assert not node.get("maintenance"), "Ironic refuses to deploy a node in maintenance"
        deploy = action in ("active", "rebuild")
        node["target_provision_state"] = "active" if deploy else "available"
        node["provision_state"] = "deploying" if deploy else "cleaning"
        self.pending[uuid] = self.clock() + self.duration
        self._observe()

    def node_states(self, uuids):
        for uuid, at in list(self.pending.items()):
            if self.clock() >= at:
                node = self.nodes[uuid]
                target = node["target_provision_state"]
                if target == "active" and self.bad.get(uuid, 0) > 0:
                    # as Ironic does: "deploy failed" keeps the target "active"
                    self.bad[uuid] -= 1
                    node["provision_state"], node["last_error"] = "deploy failed", "boom"
                else:
                    node["provision_state"], node["target_provision_state"] = target, None
                del self.pending[uuid]
        return dict((u, dict(self.nodes[u])) for u in uuids)
