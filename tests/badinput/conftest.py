"""The bad-input corpus runs against a lab instance of its own, seeded with a node and a network
that some cases collide with (a MAC owned by another node, a VLAN used by another network)."""
import os

import pytest

from lab.harness import REPO, Lab

SEED_MAC = "52:54:00:5e:ed:01"


@pytest.fixture(scope="session")
def lab():
    """BADINPUT_IRONIC_PORT / BADINPUT_NEUTRON_PORT (else TEST_* + 300) keep it apart from the
    integration suite's lab, so both can run in one `make test`."""
    ironic = int(os.environ.get("BADINPUT_IRONIC_PORT") or int(os.environ.get("TEST_IRONIC_PORT", "16385")) + 300)
    neutron = int(os.environ.get("BADINPUT_NEUTRON_PORT") or int(os.environ.get("TEST_NEUTRON_PORT", "19696")) + 300)
    state = os.environ.get("BADINPUT_LAB_STATE_DIR") or os.path.join(REPO, ".lab", "badinput-run")
    instance = Lab(ironic, neutron, state)
    with instance.fresh():
        yield instance


@pytest.fixture(scope="session")
def conn(lab):
    conn = lab.connect()
    node = conn.baremetal.create_node(name="seed-a", driver="fake-hardware")
    conn.baremetal.create_port_group(node_id=node.id, name="seed-a-bond", address=SEED_MAC)
    conn.baremetal.create_port(node_id=node.id, address=SEED_MAC, physical_network="leaf1")
    net = conn.network.create_network(name="seed-net", provider_network_type="vlan",
                                      provider_physical_network="leaf1", provider_segmentation_id=150)
    seg = next(iter(conn.network.segments(network_id=net.id)))
    conn.network.create_subnet(name="seed-sub", network_id=net.id, segment_id=seg.id, ip_version=4,
                               cidr="10.250.0.0/24")
    return conn


def snapshot(conn):
    """Everything a bad input could have written, with update stamps (an update changes them)."""
    def rows(items, *fields):
        return sorted(tuple(str(getattr(i, f, None)) for f in fields) for i in items)
    return {
        "nodes": rows(conn.baremetal.nodes(details=True), "id", "name", "updated_at", "provision_state",
                      "is_maintenance", "traits"),
        "ports": rows(conn.baremetal.ports(details=True), "id", "address", "updated_at"),
        "port_groups": rows(conn.baremetal.port_groups(details=True), "id", "name", "updated_at"),
        "networks": rows(conn.network.networks(), "id", "name", "updated_at", "revision_number"),
        "segments": rows(conn.network.segments(), "id", "name", "segmentation_id"),
        "subnets": rows(conn.network.subnets(), "id", "name", "cidr", "revision_number"),
    }
