"""Bad inputs to the modules and roles: (id, task, patterns the error message must match).

Each pattern names the object (node, segment, subnet, rule, ...) and the field. The whole list runs
as one playbook (block/rescue per case) against the seeded lab; test_modules.py asserts each message
and that Ironic and Neutron are unchanged afterwards."""

SEED_MAC = "52:54:00:5e:ed:01"
NODES = "spineleaf.baremetal.ironic_nodes"
NET = "spineleaf.baremetal.routed_network"
TRAITS = "spineleaf.baremetal.ironic_traits"
INSPECT = "spineleaf.baremetal.ironic_inspect"
PROVISION = "spineleaf.baremetal.ironic_provision"
ROLLOUT = "spineleaf.baremetal.ironic_rollout"
TOPO = "spineleaf.baremetal.lldp_topology"
CHECK = "spineleaf.baremetal.routed_network_check"
PREFLIGHT = "spineleaf.baremetal.preflight"


def mac(i):
    return "52:54:00:ba:%02x:%02x" % (i // 256, i % 256)


def node(name, i=0, **kw):
    d = {"name": name, "driver": "fake-hardware",
         "driver_info": {"ipmi_address": "10.0.0.1", "ipmi_password": "x"},
         "ports": [{"address": mac(i), "pxe_enabled": True, "physical_network": "leaf1"}]}
    d.update(kw)
    return d


def port(address, **kw):
    d = {"address": address, "physical_network": "leaf1"}
    d.update(kw)
    return d


_SUBNET = iter(range(256))


def seg(name, vlan=101, physnet="leaf1", subnets=None, **kw):
    d = {"name": name, "physical_network": physnet, "segmentation_id": vlan,
         "subnets": subnets if subnets is not None else [{"name": name + "-sub", "cidr": "10.60.%d.0/24" % next(_SUBNET)}]}
    d.update(kw)
    return d


def sub(name, cidr, **kw):
    d = {"name": name, "cidr": cidr}
    d.update(kw)
    return d


def net(*segments, name="bi-net"):
    return {"name": name, "segments": list(segments)}


CASES = [
    # ---------------------------------------------------------------- ironic_nodes: MACs
    ("nodes_mac_malformed", NODES, {"nodes": [node("bi-m1", ports=[port("52:54:00:zz:00:01")])]},
     [r"node bi-m1", r"ports\[0\]", r"address '52:54:00:zz:00:01' is not a MAC"]),
    ("nodes_mac_short", NODES, {"nodes": [node("bi-m2", ports=[port("52:54:00")])]},
     [r"node bi-m2", r"ports\[0\]: address '52:54:00' is not a MAC"]),
    ("nodes_mac_unicode", NODES, {"nodes": [node("bi-m3", ports=[port("52:54:00:éé:00:01")])]},
     [r"node bi-m3", r"ports\[0\]: address .* is not a MAC"]),
    ("nodes_mac_empty", NODES, {"nodes": [node("bi-m4", ports=[port("")])]},
     [r"node bi-m4", r"ports\[0\]: address '' is not a MAC"]),
    ("nodes_mac_dup_in_node", NODES, {"nodes": [node("bi-m5", ports=[port(mac(5)), port(mac(5).upper())])]},
     [r"node bi-m5", r"port %s: MAC also listed for node bi-m5" % mac(5)]),
    ("nodes_mac_dup_across_nodes", NODES,
     {"nodes": [node("bi-m6", 6), node("bi-m7", ports=[port(mac(6).replace(":", "-"))])]},
     [r"node bi-m7", r"port %s: MAC also listed for node bi-m6" % mac(6)]),
    ("nodes_mac_owned_by_other", NODES, {"nodes": [node("bi-m8", ports=[port(SEED_MAC)])]},
     [r"node bi-m8", r"port %s: MAC already belongs to node seed-a" % SEED_MAC]),
    # ---------------------------------------------------------------- ironic_nodes: names, driver, traits
    ("nodes_missing_driver", NODES, {"nodes": [node("bi-d1", driver=None)]},
     [r"node bi-d1", r"driver is required"]),
    ("nodes_name_empty", NODES, {"nodes": [node("")]}, [r"nodes\[0\]", r"name"]),
    ("nodes_name_twice", NODES, {"nodes": [node("bi-n2", 20), node("bi-n2", 21)]},
     [r"node bi-n2", r"listed more than once"]),
    ("nodes_name_unicode", NODES, {"nodes": [node("nœud-☃", 22)]},
     [r"node nœud-☃", r"name must be 1-255 ASCII letters, digits"]),
    ("nodes_name_slash", NODES, {"nodes": [node("r07/n15", 23)]},
     [r"node r07/n15", r"name must be 1-255 ASCII letters, digits"]),
    ("nodes_name_long", NODES, {"nodes": [node("n" * 300, 24)]},
     [r"node n{300}: name must be 1-255"]),
    ("nodes_trait_lowercase", NODES, {"nodes": [node("bi-t1", 30, traits=["custom_rack_r01"])]},
     [r"node bi-t1", r"traits", r"custom_rack_r01"]),
    ("nodes_trait_bad_char", NODES, {"nodes": [node("bi-t2", 31, traits=["CUSTOM_RACK-R01"])]},
     [r"node bi-t2", r"traits", r"CUSTOM_RACK-R01"]),
    ("nodes_trait_long", NODES, {"nodes": [node("bi-t3", 32, traits=["CUSTOM_" + "A" * 260])]},
     [r"node bi-t3", r"traits", r"255"]),
    ("nodes_unknown_port_group", NODES,
     {"nodes": [node("bi-p1", ports=[port(mac(40), port_group="bond9")])]},
     [r"node bi-p1", r"port_group 'bond9' is not in this node's port_groups"]),
    ("nodes_port_group_twice", NODES,
     {"nodes": [node("bi-p2", 41, port_groups=[{"name": "bi-p2-b"}, {"name": "bi-p2-b"}])]},
     [r"node bi-p2", r"port group bi-p2-b listed twice"]),
    ("nodes_port_group_owned_by_other", NODES,
     {"nodes": [node("bi-p3", 42, port_groups=[{"name": "seed-a-bond"}])]},
     [r"node bi-p3", r"port group seed-a-bond already belongs to node seed-a"]),
    ("nodes_port_group_bad_address", NODES,
     {"nodes": [node("bi-p4", 43, port_groups=[{"name": "bi-p4-b", "address": "bond"}])]},
     [r"node bi-p4", r"port group bi-p4-b: address 'bond' is not a MAC"]),
    ("nodes_port_group_split_physnet", NODES,
     {"nodes": [node("bi-p5", port_groups=[{"name": "bi-p5-b"}],
                     ports=[port(mac(44), port_group="bi-p5-b"),
                            port(mac(45), port_group="bi-p5-b", physical_network="leaf2")])]},
     [r"node bi-p5", r"port group bi-p5-b", r"physical_network"]),
    ("nodes_port_group_name_shared", NODES,
     {"nodes": [node("bi-p6", 46, port_groups=[{"name": "bond0"}]),
                node("bi-p7", 47, port_groups=[{"name": "bond0"}])]},
     [r"node bi-p7", r"port group name bond0 is also used by node bi-p6"]),
    # ---------------------------------------------------------------- ironic_nodes: wrong types
    ("nodes_not_a_list", NODES, {"nodes": "bi-x1"}, [r"dictionary requested"]),  # AnsibleModule's own message: it does not name the option
    ("nodes_driver_info_string", NODES, {"nodes": [node("bi-x2", 50, driver_info="ipmi")]},
     [r"driver_info", r"dict"]),
    ("nodes_ports_not_list_of_dicts", NODES, {"nodes": [node("bi-x3", ports=["52:54:00:ba:00:33"])]},
     [r"dictionary requested"]),  # AnsibleModule's own message
    ("nodes_port_no_address", NODES, {"nodes": [node("bi-x4", ports=[{"pxe_enabled": True}])]},
     [r"address", r"ports"]),
    ("nodes_pxe_not_bool", NODES, {"nodes": [node("bi-x5", ports=[port(mac(53), pxe_enabled="maybe")])]},
     [r"pxe_enabled", r"bool"]),
    ("nodes_properties_list", NODES, {"nodes": [node("bi-x6", 54, properties=[1, 2])]},
     [r"properties", r"dict"]),
    ("nodes_target_state_bad", NODES, {"nodes": [node("bi-x7", 55)], "target_state": "active"},
     [r"target_state", r"enroll, manageable, available"]),
    ("nodes_concurrency_zero", NODES, {"nodes": [node("bi-x8", 56)], "concurrency": 0},
     [r"concurrency", r"at least 1"]),
    ("nodes_timeout_negative", NODES, {"nodes": [node("bi-x9", 57)], "timeout": -5},
     [r"timeout must be at least 1"]),
    # ---------------------------------------------------------------- routed_network
    ("net_cidr_bad_prefix", NET, net(seg("bi-s1", 101, subnets=[sub("bi-s1-a", "10.61.0.0/33")])),
     [r"bi-s1-a", r"cidr", r"10.61.0.0/33"]),
    ("net_cidr_garbage", NET, net(seg("bi-s2", 102, subnets=[sub("bi-s2-a", "ten.0.0.0/24")])),
     [r"bi-s2-a", r"cidr", r"ten.0.0.0/24"]),
    ("net_cidr_host_bits", NET, net(seg("bi-s3", 103, subnets=[sub("bi-s3-a", "10.61.3.7/24")])),
     [r"bi-s3-a", r"cidr", r"10.61.3.7/24"]),
    ("net_cidr_overlap", NET, net(seg("bi-s4", 104, subnets=[sub("bi-s4-a", "10.62.0.0/16")]),
                                  seg("bi-s5", 105, subnets=[sub("bi-s5-a", "10.62.4.0/24")])),
     [r"bi-s(4|5)-a", r"overlap"]),
    ("net_gateway_outside", NET,
     net(seg("bi-s6", 106, subnets=[sub("bi-s6-a", "10.63.0.0/24", gateway_ip="10.64.0.1")])),
     [r"bi-s6-a", r"gateway_ip", r"10.64.0.1"]),
    ("net_gateway_garbage", NET,
     net(seg("bi-s7", 107, subnets=[sub("bi-s7-a", "10.63.1.0/24", gateway_ip="gw")])),
     [r"bi-s7-a", r"gateway_ip", r"gw"]),
    ("net_vlan_0", NET, net(seg("bi-s8", 0)), [r"segment bi-s8: VLAN 0 is out of range 1-4094"]),
    ("net_vlan_4095", NET, net(seg("bi-s9", 4095)), [r"segment bi-s9: VLAN 4095 is out of range 1-4094"]),
    ("net_vlan_huge", NET, net(seg("bi-s10", 70000)), [r"segment bi-s10: VLAN 70000 is out of range 1-4094"]),
    ("net_dup_physnet_vlan", NET, net(seg("bi-s11", 111), seg("bi-s12", 111)),
     [r"bi-s1[12]", r"leaf1", r"111"]),
    ("net_vlan_of_other_network", NET, net(seg("bi-s13", 150)),
     [r"bi-s13", r"leaf1", r"150", r"seed-net"]),
    ("net_pool_outside", NET, net(seg("bi-s14", 114, subnets=[sub(
        "bi-s14-a", "10.65.0.0/24", allocation_pools=[{"start": "10.65.1.10", "end": "10.65.1.20"}])])),
     [r"subnet bi-s14-a \(segment bi-s14\): allocation pool 10.65.1.10-10.65.1.20 is outside cidr"]),
    ("net_dns_garbage", NET, net(seg("bi-s15", 115, subnets=[
        sub("bi-s15-a", "10.66.0.0/24", dns_nameservers=["dns.example"])])),
     [r"bi-s15-a", r"dns_nameservers", r"dns.example"]),
    ("net_route_nexthop_outside", NET, net(seg("bi-s16", 116, subnets=[sub(
        "bi-s16-a", "10.67.0.0/24", host_routes=[{"destination": "10.0.0.0/8", "nexthop": "10.68.0.1"}])])),
     [r"subnet bi-s16-a \(segment bi-s16\): host route nexthop 10.68.0.1 is not inside cidr"]),
    ("net_segment_name_twice", NET, net(seg("bi-s17", 117), seg("bi-s17", 118, subnets=[])),
     [r"segment bi-s17: duplicate segment name"]),
    ("net_subnet_name_twice", NET, net(seg("bi-s18", 119, subnets=[sub("bi-dup", "10.69.0.0/24")]),
                                       seg("bi-s19", 120, subnets=[sub("bi-dup", "10.69.1.0/24")])),
     [r"subnet bi-dup \(segment bi-s19\): duplicate subnet name"]),
    ("net_ip_version_mismatch", NET, net(seg("bi-s20", 121, subnets=[
        sub("bi-s20-a", "10.70.0.0/24", ip_version=6)])),
     [r"bi-s20-a", r"ip_version"]),
    ("net_flat_with_vlan", NET, net(seg("bi-s21", 122, network_type="flat")),
     [r"bi-s21", r"segmentation_id", r"flat"]),
    ("net_missing_physnet", NET, {"name": "bi-net", "segments": [{"name": "bi-s22", "segmentation_id": 123}]},
     [r"physical_network", r"segments"]),
    ("net_vlan_string", NET, net(seg("bi-s23", "one hundred")), [r"segmentation_id", r"int"]),
    # ---------------------------------------------------------------- ironic_traits
    ("traits_broken_jmespath", TRAITS, {"rules": [
        {"name": "big", "when": "properties.memory_mb >", "traits_add": ["CUSTOM_BIG"]}]},
     [r"rule 'big', when: invalid JMESPath"]),
    ("traits_bad_trait_add", TRAITS, {"rules": [{"name": "lower", "when": "`true`", "traits_add": ["custom_x"]}]},
     [r"rule 'lower', traits_add: trait 'custom_x'"]),
    ("traits_bad_selector", TRAITS, {"selector": "[?name ==", "rules": []}, [r"selector"]),
    ("traits_rule_without_name", TRAITS, {"rules": [{"when": "`true`", "traits_add": ["CUSTOM_X"]}]},
     [r"name", r"rules"]),
    ("traits_assign_bad_trait", TRAITS, {"assign": {"seed-a": {"traits": ["bad trait"]}}},
     [r"assign\[seed-a\]", r"bad trait"]),
    # a list was written as its text ("['baremetal.gpu', 'x']") before #14
    ("traits_resource_class_list", TRAITS, {"rules": [
        {"name": "gpu", "when": "`true`", "resource_class": ["baremetal.gpu", "x"]}]},
     [r"rule 'gpu': resource_class must be one string, got \['baremetal.gpu', 'x'\] \(list\)"]),
    ("traits_resource_class_number", TRAITS, {"rules": [{"name": "num", "when": "`true`", "resource_class": 7}]},
     [r"rule 'num': resource_class must be one string, got 7 \(int\)"]),
    ("traits_assign_resource_class_list", TRAITS, {"assign": {"seed-a": {"resource_class": ["a", "b"]}}},
     [r"assign\[seed-a\]", r"resource_class must be one string, got \['a', 'b'\] \(list\)"]),
    ("inspect_concurrency_zero", INSPECT, {"nodes": ["seed-a"], "concurrency": 0},
     [r"concurrency", r"at least 1"]),
    ("inspect_max_poll_interval_zero", INSPECT, {"nodes": ["seed-a"], "max_poll_interval": 0},
     [r"max_poll_interval", r"more than 0"]),
    ("inspect_poll_interval_negative", INSPECT, {"nodes": ["seed-a"], "poll_interval": -1},
     [r"poll_interval", r"more than 0"]),
    ("provision_image_no_source", PROVISION, {"nodes": ["seed-a"], "image": {"checksum": "abc"}},
     [r"image", r"source"]),
    ("provision_concurrency_zero", PROVISION, {"nodes": ["seed-a"], "image": {"source": "http://x/i.qcow2"},
                                               "concurrency": 0},
     [r"concurrency", r"at least 1"]),
    ("rollout_max_unavailable_zero", ROLLOUT, {"nodes": ["seed-a"], "rollout_id": "u1", "max_unavailable": 0,
                                               "image": {"source": "http://x/i.qcow2"}},
     [r"max_unavailable", r"at least 1"]),
    ("rollout_failure_budget_garbage", ROLLOUT, {"nodes": ["seed-a"], "rollout_id": "u1",
                                                 "failure_budget": "lots", "image": {"source": "http://x/i.qcow2"}},
     [r"failure_budget", r"lots"]),
    ("topology_switch_not_dict", TOPO, {"nodes": ["seed-a"], "switches": {"leaf-r01-a": "r01"}},
     [r"leaf-r01-a"]),
    ("topology_bad_finding", TOPO, {"nodes": ["seed-a"], "switches": {}, "blocking_findings": ["nope"]},
     [r"blocking_findings", r"nope"]),
    ("check_rack_without_physnet", CHECK, {"network": "seed-net", "racks": [{"rack": "r01"}]},
     [r"physical_network", r"racks"]),
    ("preflight_bad_microversion", PREFLIGHT, {"min_baremetal_microversion": "one.eighty"},
     [r"min_baremetal_microversion: 'one.eighty' is not a microversion"]),
]
