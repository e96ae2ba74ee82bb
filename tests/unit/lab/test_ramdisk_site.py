"""The lab ramdisk rehearsing any inventory directory (LAB_SITE): cabling from nics[].leaf/port,
lab_cabling overrides, silent nodes, and the site read again when its files change."""
import os
import shutil
import sys
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, "lab"))
import ramdisk  # noqa: E402

from ansible_collections.spineleaf.baremetal.plugins.module_utils._lldp import neighbours  # noqa: E402

SITE = os.path.join(REPO, "tests", "integration", "sites", "cabling")


def seen(site, name):
    inventory = site.inventory(name)
    _source, nbrs = neighbours({"inventory": inventory})
    return dict((i["name"], (i["mac_address"], nbrs.get(i["name"], {}).get("switch_system_name"),
                             nbrs.get(i["name"], {}).get("switch_port_id"))) for i in inventory["interfaces"])


def test_inventory_site_with_lab_cabling_overrides():
    site = ramdisk.load_inventory_site(SITE)
    assert sorted(site.nodes) == ["c1-n%02d" % i for i in range(1, 8)] + ["c2-n01", "c2-n02", "c2-n03"]
    assert seen(site, "c1-n07") == {"eno1": ("52:54:00:c1:07:01", "c1-leaf-a", "Ethernet1/7"),
                                    "eno2": ("52:54:00:c1:07:02", "c1-leaf-b", "Ethernet1/7")}
    assert seen(site, "c1-n01")["eno1"][1:] == ("c1-leaf-a", "Ethernet1/2")          # links: a mis-cable
    assert seen(site, "c1-n05")["eno2"][0] == "52:54:00:c1:05:02"                    # links: the real MAC
    assert "ens2f1" in seen(site, "c1-n06")                                          # links: reported name
    assert site.silent == {"c2-n03"}
    vlans = neighbours({"inventory": site.inventory("c2-n01")})[1]["eno1"]
    assert vlans["switch_port_untagged_vlan_id"] == 150 and vlans["switch_port_mtu"] == 9000  # rack_vlans override
    assert neighbours({"inventory": site.inventory("c1-n07")})[1]["eno1"]["switch_port_untagged_vlan_id"] == 121


def test_the_lab_site_through_load_inventory_site_is_the_lab_site():
    by_dir = ramdisk.load_inventory_site(os.path.join(REPO, "inventory", "lab"))
    classic = ramdisk.load_site()
    assert sorted(by_dir.nodes) == sorted(classic.nodes)
    for name in classic.nodes:
        assert by_dir.inventory(name)["interfaces"] == classic.inventory(name)["interfaces"], name


def test_cabling_change_is_read_at_the_next_inspection(tmp_path):
    path = str(tmp_path / "site")
    shutil.copytree(SITE, path)
    disk = ramdisk.Ramdisk("http://127.0.0.1:1", loader=lambda: ramdisk.load_inventory_site(path))
    assert disk.reload_if_changed() is False
    assert seen(disk.site, "c1-n01")["eno1"][2] == "Ethernet1/2"
    all_yml = os.path.join(path, "group_vars", "all.yml")
    data = yaml.safe_load(open(all_yml))
    data["lab_cabling"]["links"].pop("c1-n01")
    data["lab_cabling"]["silent"] = []
    time.sleep(0.01)
    with open(all_yml, "w") as f:
        yaml.safe_dump(data, f)
    os.utime(all_yml, ns=(time.time_ns() + 10 ** 9, time.time_ns() + 10 ** 9))
    assert disk.reload_if_changed() is True
    assert seen(disk.site, "c1-n01")["eno1"][2] == "Ethernet1/1" and disk.site.silent == set()
    assert disk._silent({"name": "c1-n02", "extra": {"lab_silent": True}})
    assert not disk._silent({"name": "c1-n02", "extra": {}})


DISCOVERY = os.path.join(REPO, "tests", "integration", "sites", "discovery")


def test_discovery_site_machines_get_stable_macs_and_bmc_addresses():
    site = ramdisk.load_inventory_site(DISCOVERY)
    assert site.undiscovered == {"r01-d01", "r01-d02", "r02-d01", "r02-d02", "r03-d01", "r03-d02", "stray-r02"}
    # the swap: r01-d01's machine is cabled to the position of r01-d02
    assert seen(site, "r01-d01") == {"eno1": (ramdisk.lab_mac("r01-d01", "eno1"), "leaf-r01-a", "Ethernet1/2"),
                                     "eno2": (ramdisk.lab_mac("r01-d01", "eno2"), "leaf-r01-b", "Ethernet1/2")}
    assert site.inventory("r02-d02")["bmc_address"] == ramdisk.lab_bmc("r02-d02")
    assert seen(site, "stray-r02")["eno1"][1:] == ("leaf-r02-a", "Ethernet1/9")
    assert ramdisk.lab_mac("a", "eno1") == ramdisk.lab_mac("a", "eno1") != ramdisk.lab_mac("a", "eno2")
    # the lab site (MACs known) has nothing to discover
    assert ramdisk.load_inventory_site(os.path.join(REPO, "inventory", "lab")).undiscovered == set()


def test_a_file_written_during_a_load_is_read_at_the_next_round(tmp_path):
    """The site's mtimes are taken before it is loaded: an edit landing while the loader reads is
    not recorded as seen, so the next round reads it (a fix-and-re-run rehearsal editing two
    files one after the other once kept the old MAC)."""
    path = str(tmp_path / "site")
    shutil.copytree(SITE, path)
    all_yml = os.path.join(path, "group_vars", "all.yml")
    stamp = time.time_ns() + 10 ** 9
    pending = []

    def loader():
        site = ramdisk.load_inventory_site(path)
        if pending:  # the second edit lands after the loader read the file
            data = pending.pop()
            with open(all_yml, "w") as f:
                yaml.safe_dump(data, f)
            os.utime(all_yml, ns=(stamp + 10 ** 9, stamp + 10 ** 9))
        return site

    disk = ramdisk.Ramdisk("http://127.0.0.1:1", loader=loader)
    assert seen(disk.site, "c1-n01")["eno1"][2] == "Ethernet1/2"
    data = yaml.safe_load(open(all_yml))
    data["lab_cabling"]["links"].pop("c1-n01")
    pending.append(data)
    os.utime(all_yml, ns=(stamp, stamp))  # the first edit
    assert disk.reload_if_changed() is True
    assert seen(disk.site, "c1-n01")["eno1"][2] == "Ethernet1/2"  # read before the second edit
    assert disk.reload_if_changed() is True  # the second edit, written during that load
    assert seen(disk.site, "c1-n01")["eno1"][2] == "Ethernet1/1"
    assert disk.reload_if_changed() is False


def test_lab_network_switch_macs_are_what_lldp_topology_writes():
    """The lab Neutron's NGS devices (labctl.py writes ngs_mac_address from ramdisk.lab_network)
    carry, per leaf, the switch_id the collection derives from what the lab ramdisk reports over
    LLDP, also for a switch whose chassis ID is locally assigned (rack r03); physnet per rack."""
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._lldp import switch_mac  # pylint: disable=import-outside-toplevel
    for site_dir in (None, SITE):
        site = ramdisk.load_inventory_site(site_dir) if site_dir else ramdisk.load_site()
        net = ramdisk.lab_network(site_dir)
        assert net["provisioning_network"] == "ctlplane"
        seen_macs = {}
        for name in site.nodes:
            for parsed in neighbours({"inventory": site.inventory(name)})[1].values():
                seen_macs[parsed["switch_system_name"]] = switch_mac(parsed)
        assert seen_macs and {leaf: net["switches"][leaf]["chassis_id"] for leaf in seen_macs} == seen_macs
    lab = ramdisk.lab_network()["switches"]
    assert lab["leaf-r03-b"] == {"rack": "r03", "chassis_id": "00:1c:73:03:00:0b", "physnet": "leaf3"}
    assert sorted(lab) == ["leaf-r0%d-%s" % (r, s) for r in (1, 2, 3) for s in "ab"]


def test_no_lldp_nodes_and_racks_post_what_a_ramdisk_without_ipa_collect_lldp_posts(tmp_path):
    path = str(tmp_path / "site")
    shutil.copytree(SITE, path)
    all_yml = os.path.join(path, "group_vars", "all.yml")
    data = yaml.safe_load(open(all_yml))
    data["lab_cabling"].update(no_lldp=["c1-n07"], no_lldp_racks=["c2"])
    with open(all_yml, "w") as f:
        yaml.safe_dump(data, f)
    site = ramdisk.load_inventory_site(path)
    assert site.no_lldp == {"c1-n07"} and site.no_lldp_racks == {"c2"}
    for name in ("c1-n07", "c2-n01", "c2-n02"):
        inventory = site.inventory(name)
        assert inventory["interfaces"] and all(i["lldp"] is None and i["mac_address"] for i in inventory["interfaces"])
        assert neighbours({"inventory": inventory}) == (None, {})
    assert neighbours({"inventory": site.inventory("c1-n06")})[0] == "inventory"   # the others keep theirs


def test_a_duplicate_asked_for_is_posted_again_when_one_copy_came_too_late():
    r = ramdisk.Ramdisk("http://ironic.invalid", site=object(), log=lambda msg: None)
    rounds = [["posted", "refused: HTTP 404"], ["posted", "posted"]]
    forgotten = []
    r._post_copies = lambda name, copies: rounds.pop(0)
    r._forget_machine = forgotten.append
    assert r._post_new("r02-d01", 2) == "posted 2 times at once (posted, posted) at attempt 2"
    assert forgotten == ["r02-d01"]
    # a machine posted once is never posted again
    r._post_copies = lambda name, copies: ["refused: HTTP 404"]
    assert r._post_new("r01-d01", 1) == "refused: HTTP 404"
