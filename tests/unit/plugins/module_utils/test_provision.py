"""Provisioning planner, network_data and the sliding-window runner (fake adapter, fake clock)."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _provision as prov
from tests.unit.fakes import Clock, FakeIronic

IMG_A = {"image_source": "http://img/a.qcow2", "image_checksum": "aaa"}
IMG_B = {"image_source": "http://img/b.qcow2", "image_checksum": "bbb"}


def nd(uuid, name, state="available", info=None, **kw):
    node = dict(uuid=uuid, name=name, provision_state=state, target_provision_state=None, maintenance=False,
                protected=False, retired=False, instance_info=info or {}, last_error=None)
    node.update(kw)
    return node


def req(key, info=None, state="active"):
    return dict(key=key, instance_info=dict(info or IMG_A), state=state)


def ops(planned):
    return dict((p["name"], p["op"]) for p in planned)


def test_plan_active_states():
    nodes = [nd("u1", "avail"), nd("u2", "manage", "manageable"), nd("u3", "same", "active", IMG_A),
             nd("u4", "other", "active", IMG_B), nd("u5", "failed", "deploy failed", IMG_A),
             nd("u6", "maint", maintenance=True, maintenance_reason="disk swap"),
             nd("u7", "prot", "active", IMG_B, protected=True), nd("u8", "retired", retired=True),
             nd("u9", "enroll", "enroll"), nd("u10", "busy", "cleaning", target_provision_state="available"),
             nd("u11", "deploying", "wait call-back", IMG_A, target_provision_state="active"),
             # after a failed deploy or a conductor restart that failed `deploying`, Ironic keeps the target
             nd("u12", "crashed", "deploy failed", IMG_A, target_provision_state="active")]
    planned = prov.plan([req(n["name"]) for n in nodes] + [req("ghost"), req("u1")], nodes)
    assert ops(planned) == {"avail": "deploy", "manage": "deploy", "same": "unchanged", "other": "rebuild",
                            "failed": "deploy", "maint": "fail", "prot": "fail", "retired": "fail",
                            "enroll": "fail", "busy": "fail", "deploying": "wait", "crashed": "deploy", "ghost": "fail"}
    by = dict((p["name"], p) for p in planned)
    assert by["manage"]["steps"] == [("provide", "available"), ("active", "active")]
    assert "disk swap" in by["maint"]["msg"] and "maint" in by["maint"]["msg"]
    assert "protected" in by["prot"]["msg"]
    assert "retired" in by["retired"]["msg"]
    assert "not found" in by["ghost"]["msg"]
    assert len(planned) == 13  # u1 asked twice, planned once


def test_rebuild_modes_and_checksum():
    nodes = [nd("u1", "a", "active", IMG_A)]
    assert ops(prov.plan([req("a")], nodes, rebuild="always")) == {"a": "rebuild"}
    assert ops(prov.plan([req("a", IMG_B)], nodes, rebuild="never")) == {"a": "unchanged"}
    same_source_new_sum = {"image_source": IMG_A["image_source"], "image_checksum": "zzz"}
    assert ops(prov.plan([req("a", same_source_new_sum)], nodes)) == {"a": "rebuild"}
    # no checksum requested: the source decides
    assert ops(prov.plan([req("a", {"image_source": IMG_A["image_source"]})], nodes)) == {"a": "unchanged"}
    # os_hash_value counts as the checksum
    hashed = nd("u2", "h", "active", {"image_source": "s", "image_os_hash_algo": "sha256", "image_os_hash_value": "x"})
    assert ops(prov.plan([req("h", {"image_source": "s", "image_os_hash_value": "x"})], [hashed])) == {"h": "unchanged"}


def test_plan_available():
    nodes = [nd("u1", "a", "active", IMG_A), nd("u2", "m", "manageable"), nd("u3", "v"),
             nd("u4", "p", "active", protected=True), nd("u5", "e", "enroll")]
    planned = prov.plan([req(n["name"], state="available") for n in nodes], nodes, state="available", undeploy=True)
    assert ops(planned) == {"a": "undeploy", "m": "provide", "v": "unchanged", "p": "fail", "e": "fail"}
    assert [prov.planned_action(p) for p in planned] == ["undeployed", "provided", "unchanged", "failed", "failed"]
    # without undeploy=true an active node is never wiped
    safe = prov.plan([req("a", state="available")], nodes, state="available")
    assert ops(safe) == {"a": "unchanged"} and "undeploy=false" in safe[0]["msg"]


def test_instance_info_patch_merges_and_escapes():
    assert prov.instance_info_patch({"image_source": "x", "root_gb": 10}, {"image_source": "x", "root_gb": 10}) == []
    assert prov.instance_info_patch({"image_source": "x"}, {"image_source": "y", "a/b": 1}) == [
        {"op": "add", "path": "/instance_info/a~1b", "value": 1},
        {"op": "add", "path": "/instance_info/image_source", "value": "y"}]


def test_secret_values():
    data = {"root_password": "s3cret", "nested": {"api_token": "tok", "plain": "ok"}, "list": [{"passwd": "p"}]}
    assert sorted(prov.secret_values(data)) == ["p", "s3cret", "tok"]
    assert prov.is_secret_key("bmc_password") and not prov.is_secret_key("image_source")


def test_network_data_from_subnet():
    subnet = {"id": "s1", "cidr": "10.10.2.0/24", "gateway_ip": "10.10.2.1", "dns_nameservers": ["10.0.0.53"],
              "host_routes": [{"destination": "10.10.3.0/24", "nexthop": "10.10.2.1"},
                              {"destination": "10.10.1.0/24", "nexthop": "10.10.2.1"}]}
    doc = prov.network_data([{"mac": "52:54:00:02:01:01", "ip_address": "10.10.2.7", "subnet": subnet,
                              "network_id": "n1", "mtu": 9000}])
    assert doc["links"] == [{"id": "port0", "type": "phy", "ethernet_mac_address": "52:54:00:02:01:01", "mtu": 9000}]
    net = doc["networks"][0]
    assert net["ip_address"] == "10.10.2.7" and net["netmask"] == "255.255.255.0" and net["type"] == "ipv4"
    assert net["routes"][0] == {"network": "0.0.0.0", "netmask": "0.0.0.0", "gateway": "10.10.2.1"}
    assert net["routes"][1:] == [{"network": "10.10.1.0", "netmask": "255.255.255.0", "gateway": "10.10.2.1"},
                                 {"network": "10.10.3.0", "netmask": "255.255.255.0", "gateway": "10.10.2.1"}]
    assert doc["services"] == [{"type": "dns", "address": "10.0.0.53"}]


def test_segment_subnets_by_physnet():
    segs = [{"id": "g1", "name": "ctl-r01", "physical_network": "leaf1"}, {"id": "g2", "name": "ctl-r02", "physical_network": "leaf2"}]
    subs = [{"id": "s1", "segment_id": "g1", "ip_version": 4, "name": "a"}]
    out = prov.segment_subnets(segs, subs)
    assert list(out) == ["leaf1"] and out["leaf1"]["segment_name"] == "ctl-r01"


def _items(nodes, op="deploy"):
    planned = prov.plan([req(n["name"]) for n in nodes], nodes)
    return [dict(p, result=prov.planned_action(p)) for p in planned]


def test_runner_sliding_window_and_results():
    clock = Clock()
    nodes = [nd("u%d" % i, "n%d" % i) for i in range(10)]
    fake = FakeIronic(nodes, clock)
    runner = prov.Runner(fake, concurrency=3, poll=0.5, clock=clock, sleep=clock.sleep,
                         prepare=lambda item: {"meta_data": {"name": item["name"]}})
    done = runner.run(_items(nodes))
    assert sorted(r["action"] for r in done) == ["deployed"] * 10
    assert fake.max_inflight == 3
    # a sliding window over 10 nodes of 2 s, 3 at a time: ceil(10/3) * 2 s (+ polling slack)
    assert clock.t <= 8.0 + 4 * 0.5
    assert all(c[2] == {"meta_data": {"name": fake.nodes[c[0]]["name"]}} for c in fake.calls)


def test_runner_retries_then_fails_and_max_failures_stops_new_nodes():
    clock = Clock()
    nodes = [nd("u%d" % i, "n%d" % i) for i in range(6)]
    fake = FakeIronic(nodes, clock, bad=("u0", "u1"), fail_times=1)
    done = prov.Runner(fake, concurrency=2, retries=1, poll=0.5, clock=clock, sleep=clock.sleep).run(_items(nodes))
    assert sorted(r["action"] for r in done) == ["deployed"] * 6  # each bad node succeeded on its retry

    clock = Clock()
    fake = FakeIronic(nodes, clock, bad=("u0", "u1", "u2"))
    done = dict((r["name"], r) for r in prov.Runner(fake, concurrency=2, retries=0, max_failures=1, poll=0.5,
                                                    clock=clock, sleep=clock.sleep).run(_items(nodes)))
    assert done["n0"]["action"] == "failed" and done["n0"]["last_error"] == "boom"
    assert done["n1"]["action"] == "failed"
    assert [done["n%d" % i]["action"] for i in range(2, 6)] == ["skipped"] * 4
    assert "max_failures 1" in done["n5"]["msg"]


def test_runner_prepare_failure_fails_that_node_only():
    clock = Clock()
    nodes = [nd("u1", "a"), nd("u2", "b")]

    def prepare(item):
        if item["name"] == "a":
            raise ValueError("node a: rack r09 has no segment on network ctlplane")

    done = dict((r["name"], r) for r in prov.Runner(FakeIronic(nodes, clock), poll=0.5, clock=clock, sleep=clock.sleep,
                                                    prepare=prepare).run(_items(nodes)))
    assert done["a"]["action"] == "failed" and "r09" in done["a"]["msg"]
    assert done["b"]["action"] == "deployed"


def test_runner_timeout():
    clock = Clock()
    nodes = [nd("u1", "a")]
    fake = FakeIronic(nodes, clock, duration=100)
    done = prov.Runner(fake, timeout=10, poll=1, clock=clock, sleep=clock.sleep).run(_items(nodes))
    assert done[0]["action"] == "failed" and "after 10s" in done[0]["msg"]


@pytest.mark.parametrize("info", [{}, {"image_source": None}])
def test_image_identity_empty(info):
    assert prov.image_identity(info) == (None, None)


def test_runner_ends_a_failed_cleaning_at_once_with_last_error():
    """Ironic keeps target "available" on a node whose provide failed its cleaning (clean failed):
    the node fails with last_error when it lands there, not at the timeout."""
    class CleanFails(FakeIronic):
        def node_states(self, uuids):
            out = super().node_states(uuids)
            for uuid in uuids:
                if out[uuid]["provision_state"] == "available":
                    self.nodes[uuid].update(provision_state="clean failed", target_provision_state="available",
                                            last_error="erase_devices failed")
                    out[uuid] = dict(self.nodes[uuid])
            return out
    clock = Clock()
    nodes = [nd("u1", "a", "manageable")]
    fake = CleanFails(nodes, clock, duration=1)
    items = [dict(p, result=prov.planned_action(p)) for p in prov.plan([req("a", state="available")], nodes, "available")]
    done = prov.Runner(fake, timeout=600, poll=1, clock=clock, sleep=clock.sleep).run(items)
    assert done[0]["action"] == "failed" and done[0]["last_error"] == "erase_devices failed"
    assert "went to clean failed" in done[0]["msg"] and clock.t < 10
