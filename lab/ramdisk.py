"""Lab ramdisk emulator: plays ironic-python-agent's part in inspection.

For nodes in ``inspect wait`` it POSTs an IPA-style body (inventory + ``lldp_raw``) to
Ironic's ``/v1/continue_inspection`` (API 1.84). The data comes from the lab site's
cabling description (``inventory/lab/cabling.yml``) and inventory (``inventory/lab/hosts.yml``);
nodes that are in neither get synthetic data built from their Ironic ports.

Stable importable API (standard library only):

  post_inspection(ironic_url, node_uuid, inventory, lldp_raw=None) -> dict
  make_inventory(node_name, nics, cpu_arch="x86_64", memory_mb=65536, ...) -> dict
  encode_lldp(link) -> [[type, "hex"], ...]
  load_site(cabling_path, hosts_path, miscabled=()) -> Site
  Ramdisk(ironic_url, site).run_once() / .start() / .stop()   (background thread)

  load_inventory_site(site_dir) -> Site   (any inventory directory, see LAB_SITE below)

CLI (the lab daemon started by ``labctl.py up``):

  python lab/ramdisk.py --ironic-url http://127.0.0.1:6385 [--once] [--interval 0.2]
                        [--cabling inventory/lab/cabling.yml] [--hosts inventory/lab/hosts.yml]
                        [--miscabled r02-n03] [--site DIR]

``--site DIR`` (or ``LAB_SITE=DIR``) rehearses any site: the nodes of that inventory directory,
each NIC cabled where its ``nics[].leaf`` / ``port`` say, switches from ``leaf_switches``; an
optional ``lab_cabling`` variable there (format of inventory/lab/cabling.yml) overrides any of it
(``links``: a mis-cable, or a NIC's real ``mac`` / reported ``interface`` name; ``silent``: nodes
the ramdisk ignores, as does ``extra.lab_silent: true`` on an Ironic node; ``no_lldp`` /
``no_lldp_racks``: nodes / racks whose ramdisk collects no LLDP, as a real one booted without
ipa-collect-lldp=1, as does ``extra.lab_no_lldp: true`` on an Ironic node; ``twice``: machines to
discover whose inspection data is posted twice at the same moment, which makes Ironic enroll them
twice). The site is read
again when its files change, so new cabling takes effect at the next inspection.

Discovery (``--discover`` / ``LAB_DISCOVER=1`` at start, ``--discover-once`` for one round, what
``labctl.py discover`` runs): the site's machines to discover - nodes whose NICs have no ``mac``
(each gets ``lab_mac(node, nic)`` and, without ``bmc_address``, ``lab_bmc(node)``) and
``lab_cabling.machines`` (racked machines no node describes) - POST their inventory with no node
(Ironic auto-discovery), unless one of their MACs is already on a port. In such a site the ramdisk
answers a node in ``inspect wait`` as the machine whose MACs its ports carry (the cabling, not the
site's node name, decided which node a machine became).

``LAB_MISCABLED=r02-n03[,r01-n02]`` (or a ``miscabled:`` entry in cabling.yml) makes a node
deliberately mis-cabled, so the cabling check has something to catch. Reading the YAML files
needs PyYAML (present in the project venv and in the lab's Ironic venv).
"""

import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CABLING = os.path.join(REPO, "inventory", "lab", "cabling.yml")
DEFAULT_HOSTS = os.path.join(REPO, "inventory", "lab", "hosts.yml")
API_VERSION = "1.84"

# LLDP TLV types and organisationally specific OUIs (IEEE 802.1AB).
TLV_CHASSIS_ID, TLV_PORT_ID, TLV_TTL, TLV_PORT_DESC, TLV_SYS_NAME, TLV_SYS_DESC = 1, 2, 3, 4, 5, 6
TLV_SYS_CAP, TLV_MGMT_ADDR, TLV_ORG, TLV_END = 7, 8, 127, 0
OUI_8021 = bytes.fromhex("0080c2")
OUI_8023 = bytes.fromhex("00120f")


# ---------------------------------------------------------------- LLDP encoding
def _mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.replace("-", ":").split(":"))


def _tlv(tlv_type, payload):
    return [tlv_type, payload.hex()]


def _mgmt_tlv(address):
    """Management address TLV: IPv4, IPv6 or MAC (IANA family 1, 2, 6)."""
    if ":" in address and len(address.split(":")) == 6 and all(len(p) == 2 for p in address.split(":")):
        family, raw = 6, _mac_bytes(address)
    elif ":" in address:
        family, raw = 2, socket.inet_pton(socket.AF_INET6, address)
    else:
        family, raw = 1, socket.inet_aton(address)
    body = bytes([len(raw) + 1, family]) + raw + bytes([2]) + (0).to_bytes(4, "big") + bytes([0])
    return _tlv(TLV_MGMT_ADDR, body)


def encode_lldp(link):
    """Encode one NIC's neighbour as an IPA ``lldp`` TLV list.

    ``link`` keys: ``chassis_id`` (MAC or any string), ``chassis_id_style`` (``mac`` | ``local``),
    ``port`` (readable interface name), ``port_id_style`` (``name`` | ``mac`` | ``ifindex``),
    ``port_mac``, ``ifindex``, ``system_name``, ``system_description``, ``mgmt_addresses`` (list),
    ``untagged_vlan`` (int), ``vlans`` (list of ``{id, name}``), ``mtu`` (int),
    ``lag_id`` (int or None: the NIC is in a LACP bond when set).
    """
    tlvs = []
    if link.get("chassis_id_style", "mac") == "mac":
        tlvs.append(_tlv(TLV_CHASSIS_ID, bytes([4]) + _mac_bytes(link["chassis_id"])))
    else:
        tlvs.append(_tlv(TLV_CHASSIS_ID, bytes([7]) + str(link["chassis_id"]).encode()))
    style = link.get("port_id_style", "name")
    if style == "mac":
        tlvs.append(_tlv(TLV_PORT_ID, bytes([3]) + _mac_bytes(link["port_mac"])))
    elif style == "ifindex":
        tlvs.append(_tlv(TLV_PORT_ID, bytes([7]) + str(link["ifindex"]).encode()))
    else:
        tlvs.append(_tlv(TLV_PORT_ID, bytes([5]) + link["port"].encode()))
    tlvs.append(_tlv(TLV_TTL, (120).to_bytes(2, "big")))
    tlvs.append(_tlv(TLV_PORT_DESC, link.get("port_description", link["port"]).encode()))
    tlvs.append(_tlv(TLV_SYS_NAME, link["system_name"].encode()))
    tlvs.append(_tlv(TLV_SYS_DESC, link.get("system_description", "Lab leaf switch").encode()))
    # Capabilities: bridge + router available and enabled.
    tlvs.append(_tlv(TLV_SYS_CAP, bytes.fromhex("00140014")))
    for address in link.get("mgmt_addresses", []):
        tlvs.append(_mgmt_tlv(address))
    if link.get("untagged_vlan"):
        tlvs.append(_tlv(TLV_ORG, OUI_8021 + bytes([1]) + int(link["untagged_vlan"]).to_bytes(2, "big")))
    for vlan in link.get("vlans", []):
        name = str(vlan["name"]).encode()
        tlvs.append(_tlv(TLV_ORG, OUI_8021 + bytes([3]) + int(vlan["id"]).to_bytes(2, "big") + bytes([len(name)]) + name))
    lag_id = link.get("lag_id")
    # 802.3 link aggregation: status bit0 capable, bit1 enabled; then the aggregated port id.
    status = 0x03 if lag_id else 0x01
    tlvs.append(_tlv(TLV_ORG, OUI_8023 + bytes([3, status]) + int(lag_id or 0).to_bytes(4, "big")))
    if link.get("mtu"):
        tlvs.append(_tlv(TLV_ORG, OUI_8023 + bytes([4]) + int(link["mtu"]).to_bytes(2, "big")))
    tlvs.append([TLV_END, ""])
    return tlvs


# ---------------------------------------------------------------- inventory
def make_inventory(node_name, nics, cpu_arch="x86_64", memory_mb=65536, cpu_count=16, disks=None,
                   bmc_address=None, pxe_mac=None, vendor="Lab Systems"):
    """Build an IPA-style inventory.

    ``nics``: list of ``{name, mac (or mac_address), speed_mbps (optional), lldp (optional TLV list),
    ipv4_address (optional)}``. The first NIC (or ``pxe_mac``) is the PXE interface.
    """
    interfaces = []
    for nic in nics:
        mac = (nic.get("mac") or nic.get("mac_address")).lower()
        interfaces.append({
            "name": nic["name"],
            "mac_address": mac,
            "ipv4_address": nic.get("ipv4_address"),
            "ipv6_address": None,
            "has_carrier": True,
            "lldp": nic.get("lldp"),
            "vendor": "0x8086",
            "product": "0x1572",
            "client_id": None,
            "biosdevname": None,
            "speed_mbps": nic.get("speed_mbps", 25000),
            "pci_address": nic.get("pci_address"),
            "driver": "i40e",
        })
    if disks is None:
        disks = [
            {"name": "/dev/sda", "model": "LAB SSD", "size": 480 * 1024 ** 3, "rotational": False,
             "wwn": None, "serial": "SSD-%s-0" % node_name, "vendor": "LAB", "hctl": "0:0:0:0",
             "by_path": "/dev/disk/by-path/pci-0000:00:17.0-ata-1"},
            {"name": "/dev/sdb", "model": "LAB HDD", "size": 4000 * 1024 ** 3, "rotational": True,
             "wwn": None, "serial": "HDD-%s-1" % node_name, "vendor": "LAB", "hctl": "1:0:0:0",
             "by_path": "/dev/disk/by-path/pci-0000:00:17.0-ata-2"},
        ]
    pxe = pxe_mac or (interfaces[0]["mac_address"] if interfaces else None)
    return {
        "interfaces": interfaces,
        "cpu": {"model_name": "Lab CPU @ 2.60GHz", "frequency": "2600.0000", "count": cpu_count,
                "architecture": cpu_arch, "flags": ["fpu", "vmx", "sse4_2", "avx2"], "socket_count": 1},
        "memory": {"total": memory_mb * 1024 * 1024, "physical_mb": memory_mb},
        "disks": disks,
        "bmc_address": bmc_address or "0.0.0.0",
        "bmc_v6address": "::/0",
        "system_vendor": {"product_name": "Lab Node", "serial_number": "SN-%s" % node_name,
                          "manufacturer": vendor},
        "boot": {"current_boot_mode": "uefi", "pxe_interface": pxe},
        "hostname": node_name,
    }


def _request(ironic_url, method, path, body=None, version=API_VERSION, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(ironic_url.rstrip("/") + path, data=data, method=method, headers={
        "X-OpenStack-Ironic-API-Version": version,
        "Content-Type": "application/json",
        "Accept": "application/json",
    })
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else {}


def post_inspection(ironic_url, node_uuid, inventory, lldp_raw=None):
    """POST an IPA-style inspection body to ``/v1/continue_inspection`` for one node.

    ``lldp_raw`` defaults to the ``lldp`` lists of the inventory's interfaces.
    Returns Ironic's answer (a dict); raises ``urllib.error.HTTPError`` on refusal.
    """
    if lldp_raw is None:
        lldp_raw = {i["name"]: i["lldp"] for i in inventory.get("interfaces", []) if i.get("lldp")}
    path = "/v1/continue_inspection"
    if node_uuid:
        path += "?" + urllib.parse.urlencode({"node_uuid": node_uuid})
    return _request(ironic_url, "POST", path, {"inventory": inventory, "lldp_raw": lldp_raw})


# ---------------------------------------------------------------- site (cabling + inventory)
class Site:
    """The lab site as the ramdisk sees it: nodes -> NICs -> neighbour links."""

    def __init__(self, nodes, switches, miscabled=(), source=None):
        self.nodes = nodes          # name -> {bmc_address, nics: [{name, mac, link}]}
        self.switches = switches
        self.miscabled = list(miscabled)
        self.source = source        # (cabling, hosts) dicts, to derive a mis-cabled variant
        self.silent = set()         # nodes the ramdisk ignores (their inspection times out)
        self.no_lldp = set()        # nodes whose ramdisk collects no LLDP (booted without ipa-collect-lldp=1)
        self.no_lldp_racks = set()  # racks whose every node collects no LLDP
        self.twice = set()          # machines to discover whose ramdisk posts twice at once (a duplicate)
        self.undiscovered = set()   # machines without MACs in the inventory: discovery posts them
        self.files = []             # what the site was read from (re-read when one changes)
        self._variants = {}
        self.by_mac = {}
        for name, node in nodes.items():
            for nic in node["nics"]:
                self.by_mac[nic["mac"].lower()] = name

    def node_for(self, name, macs=()):
        if name in self.nodes:
            return name
        for mac in macs:
            if mac.lower() in self.by_mac:
                return self.by_mac[mac.lower()]
        return None

    def lldp_off(self, name):
        """Whether the node's ramdisk collects no LLDP (``no_lldp`` / ``no_lldp_racks``): what a real
        IPA sends when the ramdisk is booted without ipa-collect-lldp=1 (every ``lldp`` null, no
        ``lldp_raw``)."""
        node = self.nodes.get(name) or {}
        return name in self.no_lldp or str(node.get("rack")) in self.no_lldp_racks

    def inventory(self, name, miscabled=False):
        """IPA inventory of one site node; ``miscabled`` forces the deliberate mis-cabling."""
        if miscabled and name not in self.miscabled and self.source:
            if name not in self._variants:
                self._variants[name] = build_site(self.source[0], self.source[1], [name])
            return self._variants[name].inventory(name)
        node = self.nodes[name]
        lldp = not self.lldp_off(name)
        nics = [dict(nic, lldp=encode_lldp(nic["link"]) if lldp else None) for nic in node["nics"]]
        return make_inventory(name, nics, bmc_address=node.get("bmc_address"),
                              memory_mb=node.get("memory_mb", 65536))


def _link(switches, switch_name, port, vlans, mtu, lag_id=None):
    sw = switches.get(switch_name, {"chassis_id": "02:00:00:00:00:01"})
    port_number = int("".join(c for c in port.split("/")[-1] if c.isdigit()) or "0")
    chassis = sw.get("chassis_id", "02:00:00:00:00:01")
    link = {
        "system_name": switch_name,
        "system_description": sw.get("description", "Lab leaf switch"),
        "chassis_id_style": sw.get("chassis_id_style", "mac"),
        "chassis_id": chassis if sw.get("chassis_id_style", "mac") == "mac" else sw.get("local_chassis_id", switch_name),
        "port_id_style": sw.get("port_id_style", "name"),
        "port": port,
        "port_description": port if sw.get("port_id_style", "name") != "name" else sw.get("port_description_prefix", "") + port,
        # A switch port's own MAC: the chassis MAC with the port number in the last octet.
        "port_mac": ":".join(chassis.split(":")[:5] + ["%02x" % (port_number & 0xFF)]) if ":" in chassis else "02:00:00:00:00:%02x" % port_number,
        "ifindex": sw.get("ifindex_base", 436207616) + port_number * sw.get("ifindex_step", 4096),
        "mgmt_addresses": list(sw.get("mgmt_addresses", [])),
        "untagged_vlan": vlans.get("untagged"),
        "vlans": vlans.get("tagged", []),
        "mtu": mtu,
        "lag_id": lag_id,
    }
    return link


def build_site(cabling, hosts, miscabled=()):
    """Combine cabling data (dict) and an inventory (dict in hosts.yml form) into a Site.

    Each NIC is cabled where the inventory's ``nics[].leaf`` / ``port`` say, unless the cabling's
    ``links[node][nic]`` says otherwise: ``{switch, port, mtu, mac, interface}`` where ``mac`` is
    the NIC's real MAC (to rehearse a typo in the inventory) and ``interface`` the name the
    ramdisk reports it under. ``silent: [node, ...]`` makes the ramdisk ignore those nodes.
    """
    switches = cabling.get("switches", {})
    links = cabling.get("links") or {}
    rack_vlans = cabling.get("rack_vlans", {})
    default_mtu = cabling.get("mtu", 9000)
    overrides = dict(cabling.get("miscabled") or {})
    for name in miscabled:
        overrides.setdefault(name, "auto")
    nodes = {}

    def walk(group):
        for name, hv in (group.get("hosts") or {}).items():
            yield name, hv or {}
        for child in (group.get("children") or {}).values():
            yield from walk(child or {})

    inventory_hosts = dict(walk(hosts.get("all", hosts)))
    undiscovered = set()  # machines the site knows only by their cabling: posted by discover()
    # Machines racked and cabled that no inventory node describes (``lab_cabling.machines``).
    for name, machine in (cabling.get("machines") or {}).items():
        inventory_hosts.setdefault(name, dict(machine or {}, nics=[dict(n, mac=n.get("mac") or lab_mac(name, n["name"]))
                                                                   for n in (machine or {}).get("nics") or []]))
        undiscovered.add(name)
    switch_rack = {name: (sw or {}).get("rack") for name, sw in switches.items()}
    for name, hv in inventory_hosts.items():
        node_links = links.get(name) or {}
        lag_members = {}
        for bond_index, bond in enumerate(hv.get("bonds") or []):
            for member in bond.get("members", []):
                lag_members[member] = 1000 + bond_index
        nics = []
        for nic in hv.get("nics") or []:
            cable = dict({"switch": nic.get("leaf"), "port": nic.get("port", "Ethernet1/1")}, **(node_links.get(nic["name"]) or {}))
            rack = switch_rack.get(cable["switch"])
            vlans = rack_vlans.get(rack, {})
            mtu = cable.get("mtu", default_mtu)
            # A node to discover has no MAC in the inventory: its machine has one all the same.
            mac = cable.get("mac") or nic.get("mac") or lab_mac(name, nic["name"])
            nics.append({"name": cable.get("interface") or nic["name"], "mac": mac,
                         "cable": cable, "link": _link(switches, cable["switch"], str(cable["port"]), vlans, mtu,
                                                       lag_members.get(nic["name"]))})
            if not nic.get("mac"):
                undiscovered.add(name)
        first_leaf = ((hv.get("nics") or [{}])[0] or {}).get("leaf")
        nodes[name] = {"bmc_address": hv.get("bmc_address") or (lab_bmc(name) if name in undiscovered else None),
                       "nics": nics, "rack": hv.get("rack") or switch_rack.get(first_leaf)}

    for name, override in overrides.items():
        if name not in nodes:
            continue
        node = nodes[name]
        if override == "auto":
            # Plug the first NIC into a leaf of another rack (same port number): the classic
            # "patch cable landed in the neighbouring rack" mistake.
            nic = node["nics"][0]
            here = switch_rack.get(nic["cable"]["switch"])
            others = sorted(s for s, r in switch_rack.items() if r and r != here and s.endswith(nic["cable"]["switch"][-2:]))
            override = {nic["name"]: {"switch": others[0] if others else nic["cable"]["switch"],
                                      "port": nic["cable"]["port"]}}
        for nic in node["nics"]:
            if nic["name"] in override:
                cable = override[nic["name"]]
                rack = switch_rack.get(cable["switch"])
                nic["cable"] = dict(cable)
                nic["link"] = _link(switches, cable["switch"], cable["port"], rack_vlans.get(rack, {}),
                                    cable.get("mtu", default_mtu), nic["link"].get("lag_id"))
    site = Site(nodes, switches, [n for n in overrides if n in nodes], source=(cabling, hosts))
    site.silent = set(cabling.get("silent") or [])
    site.no_lldp = set(cabling.get("no_lldp") or [])
    site.no_lldp_racks = set(str(r) for r in cabling.get("no_lldp_racks") or [])
    site.twice = set(cabling.get("twice") or [])
    site.undiscovered = undiscovered
    return site


def load_site(cabling_path=DEFAULT_CABLING, hosts_path=DEFAULT_HOSTS, miscabled=()):
    """Read cabling.yml and hosts.yml (needs PyYAML) and build the Site."""
    import yaml  # pylint: disable=import-outside-toplevel
    with open(cabling_path) as f:
        cabling = yaml.safe_load(f) or {}
    # cabling.yml is also a valid Ansible inventory file: the data sits under all.vars.lab_cabling.
    cabling = ((cabling.get("all") or {}).get("vars") or {}).get("lab_cabling", cabling)
    with open(hosts_path) as f:
        hosts = yaml.safe_load(f) or {}
    env = [n.strip() for n in os.environ.get("LAB_MISCABLED", "").split(",") if n.strip()]
    site = build_site(cabling, hosts, list(miscabled) + env)
    site.files = [cabling_path, hosts_path]
    return site


# ---------------------------------------------------------------- any site: an inventory directory
def _yaml_files(path):
    if os.path.isdir(path):
        return [os.path.join(path, f) for f in sorted(os.listdir(path)) if f.endswith((".yml", ".yaml"))]
    for ext in ("", ".yml", ".yaml"):
        if os.path.isfile(path + ext):
            return [path + ext]
    return []


def read_inventory(site_dir):
    """A YAML inventory directory (hosts files, group_vars/, host_vars/) -> ({host: vars}, files read).

    Variables merge as Ansible does for the keys the lab needs: group ``all``, then the host's
    other groups from the top of the tree down, then host_vars and inline host variables. Jinja
    expressions are not evaluated (the lab reads plain data: nics, racks, switches, networks).
    """
    import yaml  # pylint: disable=import-outside-toplevel
    files, groups_vars, host_groups, host_inline = [], {}, {}, {}

    def load(path):
        files.append(path)
        with open(path) as f:
            return yaml.safe_load(f) or {}

    def walk(name, group, chain):
        group = group or {}
        groups_vars.setdefault(name, {}).update(group.get("vars") or {})
        for host, hv in (group.get("hosts") or {}).items():
            host_groups.setdefault(host, [])
            for g in chain + [name]:
                if g not in host_groups[host]:
                    host_groups[host].append(g)
            host_inline.setdefault(host, {}).update(hv or {})
        for child, sub in (group.get("children") or {}).items():
            walk(child, sub, chain + [name])

    for path in _yaml_files(site_dir):
        data = load(path)
        if "plugin" in data:
            # An inventory plugin's config (e.g. lab.racks.yml), not a YAML inventory: Ansible
            # reads only one form of a site (ansible.cfg ignores *.racks.yml in a directory).
            files.remove(path)
            continue
        for name, group in data.items():
            walk(name, group, [] if name == "all" else ["all"])
    for kind, target in (("group_vars", groups_vars), ("host_vars", None)):
        base = os.path.join(site_dir, kind)
        if not os.path.isdir(base):
            continue
        for entry in sorted(os.listdir(base)):
            name = entry.rsplit(".", 1)[0] if entry.endswith((".yml", ".yaml")) else entry
            merged = {}
            for path in _yaml_files(os.path.join(base, entry)):
                merged.update(load(path))
            if target is not None:
                target.setdefault(name, {}).update(merged)
            else:
                host_inline.setdefault(name, {}).update(merged)
    hosts = {}
    for host, chain in host_groups.items():
        hv = dict(groups_vars.get("all", {}))
        for g in chain:
            if g != "all":
                hv.update(groups_vars.get(g, {}))
        hv.update(host_inline.get(host, {}))
        hosts[host] = hv
    return hosts, files


def _rack_vlans(hosts):
    """Per rack, the VLANs its leaf ports carry: every routed network's VLAN of the rack
    (``vlan_base + rack_index`` unless ``rack_vlans[network]`` says otherwise), the provisioning
    network's untagged."""
    out = {}
    for hv in hosts.values():
        rack, index = hv.get("rack"), hv.get("rack_index")
        if not rack or not isinstance(index, int) or rack in out:
            continue
        tagged, untagged = [], None
        for net in hv.get("routed_networks") or []:
            vlan = (hv.get("rack_vlans") or {}).get(net.get("name"))
            if vlan is None and net.get("vlan_base") is not None:
                vlan = int(net["vlan_base"]) + index
            if vlan is None:
                continue
            tagged.append({"id": int(vlan), "name": "%s-%s" % (net.get("name"), rack)})
            if net.get("provisioning"):
                untagged = int(vlan)
        out[rack] = {"untagged": untagged, "tagged": tagged}
    return out


def load_inventory_site(site_dir):
    """The Site of any inventory directory: NICs cabled where ``nics[].leaf`` / ``port`` say,
    switches from ``leaf_switches`` (port IDs as names), VLANs from ``routed_networks``, and the
    optional ``lab_cabling`` variable (format of inventory/lab/cabling.yml: ``switches``,
    ``rack_vlans``, ``mtu``, ``links``, ``silent``) overriding any of it."""
    hosts, files = read_inventory(site_dir)
    nodes = {h: hv for h, hv in hosts.items() if hv.get("nics")}
    anyone = next(iter(hosts.values()), {})
    lab = dict(anyone.get("lab_cabling") or {})
    switches = {}
    for name, sw in (anyone.get("leaf_switches") or {}).items():
        sw = dict(sw or {})
        switches[name] = {"rack": sw.get("rack"), "chassis_id": sw.get("chassis_id") or _lab_chassis(name),
                          "port_id_style": "name"}
    for name, sw in (lab.get("switches") or {}).items():
        switches[name] = dict(switches.get(name, {"chassis_id": _lab_chassis(name)}), **(sw or {}))
    cabling = {"switches": switches, "links": lab.get("links") or {}, "mtu": lab.get("mtu", 9000),
               "rack_vlans": dict(_rack_vlans(nodes), **(lab.get("rack_vlans") or {})),
               "silent": lab.get("silent") or [], "machines": lab.get("machines") or {},
               "twice": lab.get("twice") or [], "no_lldp": lab.get("no_lldp") or [],
               "no_lldp_racks": lab.get("no_lldp_racks") or []}
    site = build_site(cabling, {"all": {"hosts": nodes}})
    # The directories too: a file added or replaced (editors rename) changes their mtime.
    site.files = files + [d for d in (site_dir, os.path.join(site_dir, "group_vars"), os.path.join(site_dir, "host_vars"))
                          if os.path.isdir(d)]
    return site


def lab_network(site_dir=None, site=None):
    """What the lab's Neutron needs to know of a site (``labctl.py`` writes its switch config from
    it): per leaf switch the chassis MAC the lab ramdisk reports for it (its LLDP chassis ID, or
    for a switch with a locally assigned chassis ID the MAC it gives as management address: the
    ``switch_id`` Ironic's ports then carry), its rack and the rack's physnet; and the name of the
    site's provisioning network (the ``routed_networks`` entry with ``provisioning: true``)."""
    site_dir = site_dir or os.path.join(REPO, "inventory", "lab")
    hosts, _files = read_inventory(site_dir)
    if site is None:
        site = load_inventory_site(site_dir) if site_dir != os.path.join(REPO, "inventory", "lab") else load_site()
    physnets, provisioning = {}, None
    for hv in hosts.values():
        nets = hv.get("routed_networks") or []
        prov = next((n for n in nets if n.get("provisioning")), nets[0] if nets else None)
        if prov and not provisioning:
            provisioning = prov.get("name")
        rack, index = hv.get("rack"), hv.get("rack_index")
        if not rack or rack in physnets:
            continue
        physnet = hv.get("rack_physnet")
        if not physnet and prov and prov.get("physnet_pattern") and isinstance(index, int):
            try:
                physnet = prov["physnet_pattern"].format(rack_index=index, rack=rack)
            except (KeyError, IndexError, ValueError):
                physnet = None
        physnets[rack] = physnet
    declared = (next(iter(hosts.values()), {}) or {}).get("leaf_switches") or {}
    switches = {}
    for name, sw in sorted(site.switches.items()):
        sw = dict(sw or {})
        rack = sw.get("rack") or (declared.get(name) or {}).get("rack")
        mac = sw.get("chassis_id")
        if sw.get("chassis_id_style", "mac") != "mac":
            mac = next((a for a in sw.get("mgmt_addresses") or [] if str(a).count(":") == 5), mac)
        switches[name] = {"rack": rack, "chassis_id": str(mac).lower(), "physnet": physnets.get(rack)}
    return {"switches": switches, "provisioning_network": provisioning}


def lab_mac(node, nic):
    """The MAC of a lab machine's NIC the inventory gives none (a node to discover): stable,
    locally administered (02:...), from the node and NIC names."""
    digest = hashlib.sha1(("%s/%s" % (node, nic)).encode()).digest()
    return "02:5d:%02x:%02x:%02x:%02x" % tuple(digest[:4])


def lab_bmc(node):
    """The BMC address a lab machine the inventory gives none reports (10.254.x.y, from its name)."""
    digest = hashlib.sha1(node.encode()).digest()
    return "10.254.%d.%d" % (digest[0], 1 + digest[1] % 254)


def _lab_chassis(name):
    """A stable, locally administered MAC for a switch the site gives no chassis ID."""
    digest = hashlib.sha1(name.encode()).digest()
    return "02:%02x:%02x:%02x:%02x:%02x" % tuple(digest[:5])


def _mtimes(files):
    out = {}
    for path in files or []:
        try:
            out[path] = os.stat(path).st_mtime_ns
        except OSError:
            out[path] = None
    return out


def synthetic_inventory(node_name, node_uuid, macs):
    """Inventory for a node the site does not know (e.g. benchmark nodes): one leaf per 2 NICs."""
    digest = hashlib.sha1((node_name or node_uuid).encode()).digest()
    macs = list(macs) or ["52:54:%02x:%02x:%02x:%02x" % tuple(digest[:4])]
    nics = []
    for index, mac in enumerate(macs):
        link = _link({"synth-leaf-%d" % (index % 2): {"chassis_id": "02:00:00:00:00:%02x" % (index % 2 + 1)}},
                     "synth-leaf-%d" % (index % 2), "Ethernet1/%d" % (1 + digest[4] % 48),
                     {"untagged": 100, "tagged": [{"id": 100, "name": "vlan100"}]}, 9000)
        nics.append({"name": "eth%d" % index, "mac": mac, "lldp": encode_lldp(link)})
    return make_inventory(node_name or node_uuid, nics)


# ---------------------------------------------------------------- the loop
class Ramdisk:
    """Answers every node in ``inspect wait``; run_once() for one round, start()/stop() as a thread."""

    def __init__(self, ironic_url, site=None, interval=0.2, log=None, loader=None):
        self.ironic_url = ironic_url
        self.loader = loader
        self.site = site if site is not None or loader is None else loader()
        self._seen = _mtimes(getattr(self.site, "files", None))
        self.interval = interval
        self.log = log or (lambda msg: print("ramdisk: %s" % msg, flush=True))
        self.posted = {}
        self._stop = threading.Event()
        self._thread = None

    def reload_if_changed(self):
        """Read the site again when one of its files changed: new cabling takes effect at the
        next inspection, without restarting the lab."""
        if self.loader is None:
            return False
        # The mtimes are taken before the load: a file written while the loader reads (an operator
        # saving a second file) then differs from what is recorded, and is read at the next round.
        now = _mtimes(getattr(self.site, "files", None))
        if now == self._seen:
            return False
        try:
            site = self.loader()
        except Exception as exc:  # a half-written file: keep the old site, try again next round
            self.log("site not reloaded: %s" % exc)
            return False
        # A file the new site lists and the old one did not is new: a directory's mtime (taken
        # before the load too) already records its arrival.
        self.site = site
        self._seen = dict((path, now[path]) if path in now else (path, mtime)
                          for path, mtime in _mtimes(site.files).items())
        self.log("site reloaded (%d nodes)" % len(site.nodes))
        return True

    def _waiting(self):
        nodes = _request(self.ironic_url, "GET",
                         "/v1/nodes?" + urllib.parse.urlencode({"provision_state": "inspect wait",
                                                               "fields": "uuid,name,extra", "limit": 1000}))["nodes"]
        return nodes

    def _macs(self, node_uuid):
        ports = _request(self.ironic_url, "GET", "/v1/ports?" + urllib.parse.urlencode(
            {"node_uuid": node_uuid, "fields": "address"}))["ports"]
        return [p["address"] for p in ports]

    def answer(self, node):
        name, uuid = node.get("name"), node["uuid"]
        site_name = self.site.node_for(name) if self.site else None
        macs = None
        if self.site is not None and self.site.undiscovered:
            # Discovered machines are named by where they are cabled, not by the site's node
            # names: the machine is the one whose MACs the node's ports carry.
            macs = self._macs(uuid)
            site_name = self.site.node_for(None, macs) or site_name
        if site_name is None and self.site is not None and macs is None:
            macs = self._macs(uuid)
            site_name = self.site.node_for(name, macs)
        if site_name is not None:
            # A node whose extra has lab_miscabled=true is reported mis-cabled (tests, demos).
            miscabled = str((node.get("extra") or {}).get("lab_miscabled", "")).lower() in ("1", "true", "yes")
            inventory = self.site.inventory(site_name, miscabled=miscabled)
        else:
            inventory = synthetic_inventory(name, uuid, macs if macs is not None else self._macs(uuid))
        if str((node.get("extra") or {}).get("lab_no_lldp", "")).lower() in ("1", "true", "yes"):
            inventory = dict(inventory, interfaces=[dict(i, lldp=None) for i in inventory.get("interfaces") or []])
        post_inspection(self.ironic_url, uuid, inventory)
        return site_name

    def _enrolled_macs(self):
        """Every MAC on an Ironic port (one paginated listing)."""
        macs, path = set(), "/v1/ports?" + urllib.parse.urlencode({"fields": "address", "limit": 1000})
        while path:
            body = _request(self.ironic_url, "GET", path)
            macs.update(p["address"].lower() for p in body.get("ports") or [])
            nxt = body.get("next") if body.get("ports") else None
            path = "/v1/ports?" + nxt.split("?", 1)[1] if nxt and "?" in nxt else None
        return macs

    def discover(self, names=None):
        """Play the site's not-yet-enrolled machines booting the ramdisk on the provisioning network:
        POST each one's inventory and LLDP with no node (Ironic auto-discovery enrolls it). A
        machine is one whose inventory node has no MAC (or a ``lab_cabling.machines`` entry); it is
        posted unless one of its MACs is already on an Ironic port, or it is silent. Returns
        ``{machine: "posted" | "enrolled" | "silent" | "refused: ..."}``."""
        self.reload_if_changed()
        if self.site is None:
            return {}
        enrolled = self._enrolled_macs()
        out = {}
        for name in sorted(names or self.site.undiscovered):
            node = self.site.nodes.get(name)
            if node is None:
                out[name] = "unknown machine"
            elif name in self.site.silent:
                out[name] = "silent"
            elif any(nic["mac"].lower() in enrolled for nic in node["nics"]):
                out[name] = "enrolled"
            else:
                out[name] = self._post_new(name, 2 if name in self.site.twice else 1)
        self.log("discovery: %s" % ", ".join("%s %s" % kv for kv in sorted(out.items())))
        return out

    # A duplicate needs the copies to reach Ironic before either has enrolled the machine: on a loaded
    # machine one copy can come late and be refused (its MACs are on the first node by then).
    TWICE_ATTEMPTS = 5

    def _post_new(self, name, copies):
        """POST one machine's inspection data with no node, ``copies`` times at the same moment
        (``lab_cabling.twice``: a ramdisk that posted twice, or two booting at once; Ironic 39 then
        enrolls the machine twice, one node with the ports and one with none). When a copy came too
        late (refused), the node the others made is deleted and the copies are posted again, so the
        duplicate asked for is there (up to ``TWICE_ATTEMPTS`` times)."""
        for attempt in range(1, self.TWICE_ATTEMPTS + 1):
            answers = self._post_copies(name, copies)
            if copies == 1 or answers.count("posted") == copies or attempt == self.TWICE_ATTEMPTS:
                break
            self._forget_machine(name)
        said = "posted %d times at once (%s)" % (copies, ", ".join(sorted(answers)))
        return answers[0] if copies == 1 else said + (" at attempt %d" % attempt if attempt > 1 else "")

    def _forget_machine(self, name, wait=60.0):
        """Delete the nodes holding the machine's MACs (once their inspection has ended)."""
        macs = set(nic["mac"].lower() for nic in self.site.nodes[name]["nics"])
        path = "/v1/ports?" + urllib.parse.urlencode({"fields": "address,node_uuid", "limit": 1000})
        nodes = set(p["node_uuid"] for p in _request(self.ironic_url, "GET", path).get("ports") or []
                    if p["address"].lower() in macs)
        deadline = time.monotonic() + wait
        for node_uuid in sorted(nodes):
            while True:
                try:
                    _request(self.ironic_url, "DELETE", "/v1/nodes/%s" % node_uuid)
                    break
                except urllib.error.HTTPError as exc:
                    if exc.code not in (400, 409) or time.monotonic() > deadline:  # still inspecting / locked
                        raise
                    time.sleep(0.5)

    def _post_copies(self, name, copies):
        inventory = self.site.inventory(name)
        answers = []
        start = threading.Barrier(copies)

        def post():
            start.wait()
            try:
                post_inspection(self.ironic_url, None, inventory)
                answers.append("posted")
            except urllib.error.HTTPError as exc:
                answers.append("refused: HTTP %s %s" % (exc.code, exc.read()[:200].decode(errors="replace")))
        threads = [threading.Thread(target=post) for copy in range(copies)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return answers

    def _silent(self, node):
        """``extra.lab_silent: true`` on the node, or listed in the site's ``silent``."""
        extra = node.get("extra") or {}
        return str(extra.get("lab_silent", "")).lower() in ("1", "true", "yes") or bool(
            self.site and node.get("name") in self.site.silent)

    def run_once(self):
        """Answer every node now in ``inspect wait``; returns the list of node uuids answered."""
        done = []
        self.reload_if_changed()
        for node in self._waiting():
            if self._silent(node):
                continue  # a silent node: its inspection times out, as with a dead ramdisk
            try:
                self.answer(node)
                done.append(node["uuid"])
                self.posted[node["uuid"]] = time.time()
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:300].decode(errors="replace")
                self.log("node %s (%s): Ironic refused the data: HTTP %s %s" % (node.get("name"), node["uuid"], exc.code, detail))
            except (OSError, ValueError, KeyError) as exc:
                self.log("node %s (%s): %s" % (node.get("name"), node["uuid"], exc))
        return done

    def loop(self):
        while not self._stop.is_set():
            try:
                self.run_once()
            except (OSError, ValueError, KeyError) as exc:  # Ironic not up yet / restarting
                self.log("waiting for Ironic: %s" % exc)
                self._stop.wait(1.0)
            self._stop.wait(self.interval)

    def start(self):
        self._thread = threading.Thread(target=self.loop, name="lab-ramdisk", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--ironic-url", default=os.environ.get("LAB_IRONIC_URL", "http://127.0.0.1:6385"))
    parser.add_argument("--cabling", default=DEFAULT_CABLING)
    parser.add_argument("--hosts", default=DEFAULT_HOSTS)
    parser.add_argument("--miscabled", action="append", default=[], help="node name to mis-cable (repeatable)")
    parser.add_argument("--site", default=os.environ.get("LAB_SITE") or None,
                        help="an inventory directory to rehearse (default: the lab site, inventory/lab)")
    parser.add_argument("--interval", type=float, default=float(os.environ.get("LAB_RAMDISK_INTERVAL", "0.2")))
    parser.add_argument("--once", action="store_true", help="answer the nodes waiting now, then exit")
    parser.add_argument("--discover", action="store_true", default=os.environ.get("LAB_DISCOVER") == "1",
                        help="first post the site's machines to discover (no MACs in the inventory) with no "
                             "node, as their ramdisks would (Ironic auto-discovery); also LAB_DISCOVER=1")
    parser.add_argument("--discover-once", action="store_true",
                        help="post the machines to discover now, print what was posted, exit")
    parser.add_argument("--lab-network", action="store_true",
                        help="print the site's leaf switches (chassis MAC, rack, physnet) and provisioning "
                             "network as JSON (labctl.py writes the lab Neutron's switch config from it), exit")
    args = parser.parse_args(argv)
    if args.lab_network:
        print(json.dumps(lab_network(os.path.abspath(args.site) if args.site else None)))
        return 0
    if args.site:
        site_dir = os.path.abspath(args.site)

        def loader():
            return load_inventory_site(site_dir)
    else:
        def loader():
            return load_site(args.cabling, args.hosts, args.miscabled)
    ramdisk = Ramdisk(args.ironic_url, interval=args.interval, loader=loader)
    print("ramdisk: site %s, %d nodes" % (args.site or "inventory/lab", len(ramdisk.site.nodes)), flush=True)
    if ramdisk.site.miscabled:
        print("ramdisk: deliberately mis-cabled: %s" % ", ".join(ramdisk.site.miscabled), flush=True)
    if args.discover_once:
        print(json.dumps({"discovery": ramdisk.discover()}))
        return 0
    if args.discover:
        try:
            ramdisk.discover()
        except (OSError, ValueError, KeyError) as exc:
            print("ramdisk: discovery failed: %s" % exc, flush=True)
    if args.once:
        done = ramdisk.run_once()
        print(json.dumps({"answered": done}))
        return 0
    try:
        ramdisk.loop()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
