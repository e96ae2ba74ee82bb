"""ironic_provision against the lab: deploy with addresses from the routed network, re-run makes
0 writes, check mode, rebuild on a new image, refusals, undeploy releases the ports."""
from lab.harness import run_module

MODULE = "spineleaf.baremetal.ironic_provision"
NET = "prov-it"
IMG_A = {"source": "http://images.lab/a.qcow2", "checksum": "a" * 32}
IMG_B = {"source": "http://images.lab/b.qcow2", "os_hash_algo": "sha256", "os_hash_value": "b" * 64}
SECRET_UD = "#cloud-config\npassword: ud-s3cret-Zq\n"
SECRET_II = "ii-pw-Kx81"


def _network(lab_module, lab):
    segs = []
    for i in (1, 2):  # rack 3 (leaf3) deliberately has no segment
        segs.append(dict(name="%s-r%02d" % (NET, i), physical_network="leaf%d" % i, segmentation_id=3900 + i,
                         subnets=[dict(name="%s-r%02d" % (NET, i), cidr="10.39.%d.0/24" % i, gateway_ip="10.39.%d.1" % i,
                                       dns_nameservers=["10.39.0.53"])]))
    r = lab_module(lab, "spineleaf.baremetal.routed_network", dict(name=NET, segments=segs))
    assert not r.get("failed"), r


def _node(conn, name, physnet, rack, mac):
    # noop: this module test is about provisioning; VIFs are test_vifs.py's (the lab default is neutron)
    node = conn.baremetal.create_node(name=name, driver="fake-hardware", extra={"rack": rack}, network_interface="noop")
    conn.baremetal.create_port(node_id=node.id, address=mac, physical_network=physnet, pxe_enabled=True)
    conn.baremetal.set_node_provision_state(node.id, "manage", wait=True, timeout=60)
    return node


def _state(conn, name):
    return conn.baremetal.get_node(name)


def _stamp(conn, name):
    """provision_updated_at (the SDK's Node does not map it)."""
    return conn.baremetal.get("/nodes/%s" % name, microversion="1.81").json()["provision_updated_at"]


def test_deploy_rebuild_undeploy(lab, conn, lab_module):
    _network(lab_module, lab)
    for name, physnet, rack, mac in (("pv-a", "leaf1", "r01", "52:54:00:39:01:01"), ("pv-b", "leaf1", "r01", "52:54:00:39:01:02"),
                                     ("pv-c", "leaf2", "r02", "52:54:00:39:02:01"), ("pv-d", "leaf3", "r03", "52:54:00:39:03:01")):
        _node(conn, name, physnet, rack, mac)
    conn.baremetal.set_node_provision_state("pv-a", "provide", wait=True, timeout=60)  # a: available, b/c/d: manageable

    args = dict(nodes=["pv-a", "pv-b", {"name": "pv-c", "instance_info": {"root_gb": 10}}, "pv-d"], image=IMG_A,
                network=NET, config_drive={"user_data": SECRET_UD, "meta_data": {"team": "lab"}},
                instance_info={"root_password": SECRET_II}, poll_interval=0.2)
    res, r = run_module(lab, MODULE, args, diff=True, verbosity=3)
    assert r["failed"]
    by = dict((n["name"], n) for n in r["nodes"])
    assert [by[n]["action"] for n in ("pv-a", "pv-b", "pv-c")] == ["deployed"] * 3, r
    assert by["pv-d"]["action"] == "failed"
    assert "rack r03" in by["pv-d"]["msg"] and NET in by["pv-d"]["msg"] and "pv-d" in r["msg"]
    assert r["summary"] == {"deployed": 3, "failed": 1}
    assert SECRET_UD.split()[-1] not in res.output and SECRET_II not in res.output
    assert by["pv-a"]["image"] == {"before": None, "after": IMG_A["source"]}
    assert by["pv-c"]["addresses"][0].startswith("10.39.2.")
    for name in ("pv-a", "pv-b", "pv-c"):
        node = _state(conn, name)
        assert node.provision_state == "active" and node.instance_info["image_source"] == IMG_A["source"]
    assert _state(conn, "pv-c").instance_info["root_gb"] == 10
    ports = {p.name: p for p in conn.network.ports(network_id=conn.network.find_network(NET).id)}
    assert set(ports) == {"pv-a", "pv-b", "pv-c"}
    assert ports["pv-a"].mac_address == "52:54:00:39:01:01" and ports["pv-a"].fixed_ips[0]["ip_address"] == by["pv-a"]["addresses"][0]

    # Same request again: nothing to do, no write, the same ports.
    args["nodes"] = args["nodes"][:3]
    r = lab_module(lab, MODULE, args)
    assert not r.get("failed") and r["changed"] is False and r["api_writes"] == 0, r
    assert r["summary"] == {"unchanged": 3}

    # Check mode with a new image: the plan, and nothing moves.
    stamp = _stamp(conn, "pv-a")
    res, r = run_module(lab, MODULE, dict(args, image=IMG_B), check=True, diff=True)
    assert r["changed"] and r["summary"] == {"rebuilt": 3} and r["api_writes"] == 0, r
    assert r["diff"]["after"]["pv-a"] == {"image": IMG_B["source"], "action": "rebuilt"}
    assert _stamp(conn, "pv-a") == stamp

    # A node in maintenance and a protected node are refused; the others are rebuilt.
    conn.baremetal.set_node_maintenance("pv-b", reason="fan swap")
    conn.baremetal.patch_node("pv-c", [{"op": "add", "path": "/protected", "value": True}])
    r = lab_module(lab, MODULE, dict(args, image=IMG_B))
    by = dict((n["name"], n) for n in r["nodes"])
    assert r["failed"] and by["pv-a"]["action"] == "rebuilt"
    assert by["pv-b"]["action"] == "failed" and "maintenance" in by["pv-b"]["msg"] and "fan swap" in by["pv-b"]["msg"]
    assert by["pv-c"]["action"] == "failed" and "protected" in by["pv-c"]["msg"]
    node = _state(conn, "pv-a")
    assert node.instance_info["image_source"] == IMG_B["source"] and node.instance_info["image_os_hash_value"] == "b" * 64
    assert _stamp(conn, "pv-a") != stamp
    assert [p.name for p in conn.network.ports(network_id=conn.network.find_network(NET).id, name="pv-a")] == ["pv-a"]
    conn.baremetal.unset_node_maintenance("pv-b")
    conn.baremetal.patch_node("pv-c", [{"op": "remove", "path": "/protected"}])

    # Undeploy: available again, the node's address released.
    r = lab_module(lab, MODULE, dict(nodes=["pv-a"], state="available", network=NET))
    assert r["changed"] is False and r["nodes"][0]["action"] == "unchanged", r  # undeploy is opt-in
    r = lab_module(lab, MODULE, dict(nodes=["pv-a"], state="available", undeploy=True, network=NET, poll_interval=0.2))
    assert not r.get("failed") and r["nodes"][0]["action"] == "undeployed", r
    assert _state(conn, "pv-a").provision_state == "available"
    assert list(conn.network.ports(network_id=conn.network.find_network(NET).id, name="pv-a")) == []
    r = lab_module(lab, MODULE, dict(nodes=["pv-a"], state="available", undeploy=True, network=NET))
    assert r["changed"] is False and r["api_writes"] == 0


def test_bad_request_fails_before_any_write(lab, conn, lab_module):
    r = lab_module(lab, MODULE, dict(nodes=["x1", {"name": "x2", "flavor": "big"}, {"image": {}}], concurrency=0))
    assert r["failed"] and "nothing was changed" in r["msg"]
    for text in ("node x1: no image source", "node x2: unknown keys flavor", "nodes[2]: a node given as a dict needs a name",
                 "concurrency must be at least 1"):
        assert text in r["msg"], r["msg"]
