"""The Ironic and Neutron adapters against the real lab: pagination over more items than one page,
and the one retry policy (409 NodeLocked, 503) seen through a loopback proxy that answers a few
requests with the error a busy Ironic / Neutron gives and forwards everything else."""
import json
import uuid as uuidlib

import openstack
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import IronicAdapter
from ansible_collections.spineleaf.baremetal.plugins.module_utils._neutron import Neutron, NeutronError

from .faultproxy import NODE_LOCKED, UNAVAILABLE, proxied

PREFIX = "adapter-page-"
COUNT = 7


def proxy_conn(ironic=None, neutron=None):
    kwargs = dict(auth_type="none", baremetal_status_code_retries=0)
    if ironic:
        kwargs["baremetal_endpoint_override"] = ironic
    if neutron:
        kwargs["network_endpoint_override"] = neutron + "/"
    return openstack.connect(load_yaml_config=False, load_envvars=False, **kwargs)


@pytest.fixture(scope="module")
def paged_nodes(conn):
    """COUNT nodes with one port each, created through the adapter."""
    ironic = IronicAdapter(conn)
    made = []
    for i in range(COUNT):
        node = ironic.create_node(dict(name="%s%02d" % (PREFIX, i), driver="fake-hardware"))
        ironic.create_port(node["uuid"], dict(address="52:54:00:aa:bb:%02x" % i, pxe_enabled=True))
        made.append(node)
    assert ironic.writes == 2 * COUNT
    yield made
    for node in made:
        ironic.delete_node(node["uuid"])  # its port goes with it


def test_list_raw_follows_pages(conn, paged_nodes):
    ironic = IronicAdapter(conn)
    everything = ironic.list_raw("nodes", fields=["uuid", "name"])
    total = len(everything)
    assert total >= COUNT and ironic.reads == 1

    ironic = IronicAdapter(conn)
    paged = ironic.list_raw("nodes", fields=["uuid", "name"], limit=2)
    # One GET per full page of 2 (each with a "next" link), plus the partial or empty last one.
    assert ironic.reads == total // 2 + 1
    assert sorted(n["uuid"] for n in paged) == sorted(n["uuid"] for n in everything)
    assert set(paged[0]) - {"links"} == {"uuid", "name"}  # only the fields asked for
    ours = sorted(n["name"] for n in paged if n["name"].startswith(PREFIX))
    assert ours == ["%s%02d" % (PREFIX, i) for i in range(COUNT)]

    ironic = IronicAdapter(conn)
    detailed = ironic.list_raw("nodes", limit=3)
    assert ironic.reads == total // 3 + 1
    assert len(detailed) == total and len({n["uuid"] for n in detailed}) == total
    assert "driver_info" in detailed[0] and "provision_state" in detailed[0]

    ironic = IronicAdapter(conn)
    ports = [p for p in ironic.list_raw("ports", limit=2) if p["node_uuid"] in {n["uuid"] for n in paged_nodes}]
    assert sorted(p["address"] for p in ports) == ["52:54:00:aa:bb:%02x" % i for i in range(COUNT)]
    assert all(p["pxe_enabled"] is True for p in ports)  # API field names, not the SDK's


def test_pages_stay_on_the_endpoint_given(lab, paged_nodes):
    """Ironic's "next" links name its own address; the adapter keeps following the proxy."""
    with proxied(lab.ironic_url) as proxy:
        ironic = IronicAdapter(proxy_conn(ironic=proxy.url))
        nodes = ironic.list_raw("nodes", fields=["uuid"], limit=2)
        assert len(proxy.requests_to("GET", "/v1/nodes")) == ironic.reads == len(nodes) // 2 + 1


def test_ironic_retries_node_locked_and_unavailable(lab, conn, paged_nodes):
    node = paged_nodes[0]["uuid"]
    with proxied(lab.ironic_url) as proxy:
        ironic = IronicAdapter(proxy_conn(ironic=proxy.url), backoff=0.01, max_backoff=0.05)
        proxy.fail("PATCH", "/v1/nodes/%s" % node, 409, dict(NODE_LOCKED), count=2)
        proxy.fail("GET", "/v1/nodes?", 503, UNAVAILABLE, count=2)
        marker = str(uuidlib.uuid4())
        ironic.patch_node(node, [{"op": "add", "path": "/extra/retry_probe", "value": marker}])
        assert ironic.writes == 3  # two answered "locked", the third went through
        assert len(proxy.requests_to("PATCH", "/v1/nodes/%s" % node)) == 3
        nodes = ironic.list_raw("nodes", fields=["uuid", "extra"])
        assert len(proxy.requests_to("GET", "/v1/nodes?")) == ironic.reads + 2
    assert dict((n["uuid"], n["extra"]) for n in nodes)[node]["retry_probe"] == marker
    assert conn.baremetal.get_node(node).extra["retry_probe"] == marker


def test_ironic_gives_up_on_other_conflicts_and_after_its_retries(lab, paged_nodes):
    node = paged_nodes[1]["uuid"]
    conflict = {"error_message": json.dumps({"faultstring": "A port with MAC address x already exists.",
                                             "faultcode": "Client"})}
    with proxied(lab.ironic_url) as proxy:
        ironic = IronicAdapter(proxy_conn(ironic=proxy.url), retries=2, backoff=0.01, max_backoff=0.01)
        proxy.fail("PATCH", "/v1/nodes/%s" % node, 409, conflict, count=1)
        with pytest.raises(Exception) as err:
            ironic.patch_node(node, [{"op": "add", "path": "/extra/x", "value": 1}])
        assert getattr(err.value, "status_code", None) == 409 and ironic.writes == 1
        proxy.fail("PATCH", "/v1/nodes/%s" % node, 409, dict(NODE_LOCKED), count=5)
        with pytest.raises(Exception) as err:
            ironic.patch_node(node, [{"op": "add", "path": "/extra/x", "value": 1}])
        assert "locked" in str(err.value) and ironic.writes == 1 + 3  # first try + 2 retries


def test_neutron_retries_unavailable(lab, conn):
    name = "adapter-retry-%s" % uuidlib.uuid4().hex[:8]
    conn.network.create_network(name=name, provider_network_type="flat", provider_physical_network=name[-12:])
    try:
        with proxied(lab.neutron_url) as proxy:
            waits = []
            neutron = Neutron(proxy_conn(neutron=proxy.url), sleep=waits.append)
            proxy.fail("GET", "/v2.0/networks", 503, {"NeutronError": {"message": "busy"}}, count=2)
            found = neutron.find_network(name)
            assert found["name"] == name and neutron.reads == 1
            assert len(proxy.requests_to("GET", "/v2.0/networks")) == 3 and waits == [0.5, 1.0]
            proxy.fail("GET", "/v2.0/networks", 503, {"NeutronError": {"message": "busy"}}, count=9)
            with pytest.raises(NeutronError, match="network %s.*503" % name):
                neutron.find_network(name)
    finally:
        conn.network.delete_network(conn.network.find_network(name), ignore_missing=True)
