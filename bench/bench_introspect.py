"""Whole introspection of a site: 200 nodes over 5 racks (inspect, LLDP decode, port-level cabling
check, switch ports / physnets / rack traits written, reports), the introspect role vs a plain
sequential openstacksdk script doing the same job (inspect one node after the other, read Ironic's
parsed LLDP, patch each port's local_link_connection and physical_network, add the rack trait), each
on its own half of one generated site that the lab ramdisk rehearses (`labctl.py up --site`).

Usage: python bench/bench_introspect.py [--racks 5] [--nodes-per-rack 40]
"""
import argparse
import os
import sys
import tempfile
import time

import yaml

from common import fresh_lab, ratio, run_playbook, timed, write_result

SCRIPT_PREFIX = "sdk"


def make_site(path, racks, per_rack):
    """An inventory directory: racks b01..bNN (group baremetal) plus the same number of nodes for the
    script (group sdk_nodes, outside baremetal), every node with two NICs on its rack's MLAG pair."""
    os.makedirs(os.path.join(path, "group_vars"))
    leaves, children, sdk_hosts = {}, {}, {}
    for r in range(1, racks + 1):
        rack = "b%02d" % r
        for side in "ab":
            leaves["%s-leaf-%s" % (rack, side)] = {"rack": rack, "chassis_id": "00:1c:73:%02x:00:0%s" % (r, side),
                                                   "mlag_peer": "%s-leaf-%s" % (rack, "b" if side == "a" else "a")}
        hosts = {}
        for n in range(1, per_rack + 1):
            for group, prefix, offset in ((hosts, rack, 0), (sdk_hosts, "%s-%s" % (SCRIPT_PREFIX, rack), 100)):
                group["%s-n%02d" % (prefix, n)] = {
                    "bmc_address": "127.1.%d.%d" % (r, n), "rack": rack, "rack_index": r, "rack_physnet": "leaf%d" % r,
                    "nics": [{"name": "eno%d" % i, "mac": "52:54:%02x:%02x:%02x:%02x" % (0xb0, r, n + offset, i), "pxe": i == 1,
                              "leaf": "%s-leaf-%s" % (rack, "ab"[i - 1]), "port": "Ethernet1/%d" % (n + offset)}
                             for i in (1, 2)]}
        children["rack_" + rack] = {"hosts": hosts, "vars": {"rack": rack, "rack_index": r, "rack_physnet": "leaf%d" % r}}
    inventory = {"all": {"children": {"baremetal": {"children": children}, "sdk_nodes": {"hosts": sdk_hosts}}}}
    with open(os.path.join(path, "hosts.yml"), "w") as f:
        yaml.safe_dump(inventory, f)
    with open(os.path.join(path, "group_vars", "all.yml"), "w") as f:
        yaml.safe_dump({"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                        "site_name": "bench", "cloud": "spineleaf-lab", "bmc_driver": "fake-hardware",
                        "bmc_username": "admin", "bmc_password": "bench", "leaf_switches": leaves,
                        "routed_networks": [{"name": "ctlplane", "provisioning": True, "supernet": "10.30.0.0/16",
                                             "prefix_per_rack": 24, "vlan_base": 100, "physnet_pattern": "leaf{rack_index}"}]},
                       f)
    return sdk_hosts


def enroll_script_nodes(conn, hosts):
    """The script's nodes, enrolled and manageable (not timed)."""
    ids = {}
    for name, hv in hosts.items():
        node = conn.baremetal.create_node(name=name, driver="fake-hardware")
        for nic in hv["nics"]:
            conn.baremetal.create_port(node_id=node.id, address=nic["mac"])
        conn.baremetal.set_node_provision_state(node, "manage")
        ids[name] = node.id
    conn.baremetal.wait_for_nodes_provision_state(list(ids.values()), "manageable")
    return ids


def sdk_script(conn, hosts, ids):
    """One node after the other: inspect, wait, read LLDP, write ports and the rack trait."""
    for name, hv in hosts.items():
        node_id = ids[name]
        conn.baremetal.set_node_provision_state(node_id, "inspect")
        while True:
            node = conn.baremetal.get_node(node_id, fields=["provision_state", "target_provision_state"])
            if node.provision_state in ("manageable", "inspect failed") and not node.target_provision_state:
                break
            time.sleep(0.1)
        data = conn.baremetal.get_node_inventory(node_id)
        parsed = data["plugin_data"].get("parsed_lldp") or {}
        by_mac = dict((i["mac_address"], parsed.get(i["name"]) or {}) for i in data["inventory"]["interfaces"])
        for port in conn.baremetal.ports(node_id=node_id, details=True):
            lldp = by_mac.get(port.address) or {}
            llc = {"switch_id": lldp.get("switch_chassis_id"), "port_id": lldp.get("switch_port_id"),
                   "switch_info": lldp.get("switch_system_name")}
            conn.baremetal.update_port(port, local_link_connection=llc, physical_network=hv["rack_physnet"])
        conn.baremetal.add_node_trait(node_id, "CUSTOM_RACK_" + hv["rack"].upper())


def run_role(lab, site, report_dir):
    plays = [{"name": "introspect", "hosts": "baremetal", "gather_facts": False,
              "roles": [{"role": "spineleaf.baremetal.introspect", "introspect_report_dir": report_dir,
                         "introspect_concurrency": 32}]}]
    res = run_playbook(lab, plays, inventory=site)
    if res.rc != 0:
        raise RuntimeError("introspect failed:\n" + res.output[-3000:])
    return res


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--racks", type=int, default=5)
    parser.add_argument("--nodes-per-rack", type=int, default=40)
    args = parser.parse_args(argv)
    total = args.racks * args.nodes_per_rack
    os.environ.setdefault("LAB_RAMDISK_INTERVAL", "0.05")
    with tempfile.TemporaryDirectory() as tmp, fresh_lab() as lab:
        site = os.path.join(tmp, "site")
        sdk_hosts = make_site(site, args.racks, args.nodes_per_rack)
        lab.ctl("up", "--site", site)
        enroll = [{"name": "enroll", "hosts": "baremetal", "gather_facts": False,
                   "roles": [{"role": "spineleaf.baremetal.enroll"}]}]
        enrolled = run_playbook(lab, enroll, inventory=site)
        if enrolled.rc != 0:
            raise RuntimeError("enroll failed:\n" + enrolled.output[-3000:])
        ours_s, _res = timed(run_role, lab, site, os.path.join(tmp, "reports"))
        rerun_s, _res = timed(run_role, lab, site, os.path.join(tmp, "reports"))
        conn = lab.connect()
        ids = enroll_script_nodes(conn, sdk_hosts)
        script_s = timed(sdk_script, conn, sdk_hosts, ids)[0]
        report = os.path.join(tmp, "reports", "topology.html")
        report_kb = os.path.getsize(report) // 1024
    lines = ["## Whole introspection: %d nodes over %d racks (inspect, decode, port-level check, writes, reports)" % (
        total, args.racks), "",
        "| implementation | seconds | per node | vs introspect role |", "|---|---|---|---|",
        "| spineleaf.baremetal.introspect role (concurrency 32) | %.1f | %.3f | 1.0x |" % (ours_s, ours_s / total),
        "| introspect role re-run (nothing to inspect, 0 writes) | %.1f | %.3f | %s faster |" % (
            rerun_s, rerun_s / total, ratio(ours_s, rerun_s)),
        "| openstacksdk script, sequential (inspect, read LLDP, patch ports, add trait) | %.1f | %.3f | %s |" % (
            script_s, script_s / total, ratio(script_s, ours_s)),
        "", "The role also checked every port against the inventory and wrote a %d KiB site-wide report; the script "
        "checks nothing." % report_kb, ""]
    markdown = "\n".join(lines)
    write_result("introspect", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
