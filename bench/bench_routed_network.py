"""Benchmark: one routed provider network with 16 segments and 16 subnets against a fresh lab Neutron.

spineleaf.baremetal.routed_network (one task) vs openstack.cloud 2.5.0 (network + resource + subnet
tasks: 2.5.0 has no network_segment module) vs a plain sequential openstacksdk script; first run
and re-run of each, on networks of their own (own VLANs and CIDRs) in the same lab.

Usage: python bench/bench_routed_network.py   (BENCH_IRONIC_PORT / BENCH_NEUTRON_PORT move the lab)
"""
import json
import os
import subprocess
import sys
import tempfile
import textwrap

import common
from tests.recap import recap  # noqa: E402 (common puts the checkout on sys.path)

RACKS = 16


def racks(vlan_base, octet):
    """16 racks: rack i on physnet leaf<i>, VLAN vlan_base+i, subnet 10.<octet>.<i>.0/24."""
    return [dict(rack="r%02d" % i, physnet="leaf%d" % i, vlan=vlan_base + i, cidr="10.%d.%d.0/24" % (octet, i),
                 gateway="10.%d.%d.1" % (octet, i), start="10.%d.%d.10" % (octet, i), end="10.%d.%d.250" % (octet, i))
            for i in range(1, RACKS + 1)]


# ------------------------------------------------------------------ ours
def ours_args(name, spec):
    return dict(name=name, segments=[dict(name="%s-%s" % (name, r["rack"]), physical_network=r["physnet"],
                                          segmentation_id=r["vlan"],
                                          subnets=[dict(name="%s-%s" % (name, r["rack"]), cidr=r["cidr"],
                                                        gateway_ip=r["gateway"],
                                                        allocation_pools=[dict(start=r["start"], end=r["end"])])])
                                     for r in spec])


OURS_PLAYBOOK = textwrap.dedent("""\
    - name: routed network with spineleaf.baremetal
      hosts: localhost
      gather_facts: false
      tasks:
        - name: The network, its 16 segments and 16 subnets
          spineleaf.baremetal.routed_network: "{{ routed_network_args }}"
    """)


def run_ours(lab, name, spec, tmp):
    """One ansible-playbook run (one task), like the peer's; the oneline callback gives the module's result."""
    pb = os.path.join(tmp, "ours.yml")
    with open(pb, "w") as f:
        f.write(OURS_PLAYBOOK)
    varfile = os.path.join(tmp, "ours-vars.json")
    with open(varfile, "w") as f:
        json.dump(dict(routed_network_args=ours_args(name, spec)), f)
    env = lab.ansible_env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "oneline"
    proc = subprocess.run([os.path.join(common.REPO, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           "-e", "ansible_python_interpreter=" + os.path.join(common.REPO, ".venv", "bin", "python"),
                           "-e", "@" + varfile, pb], env=env, cwd=common.REPO, capture_output=True, text=True, check=False)
    line = [x for x in proc.stdout.splitlines() if x.startswith("localhost |")]
    if proc.returncode != 0 or not line:
        raise RuntimeError("routed_network failed:\n" + proc.stdout[-3000:] + proc.stderr[-2000:])
    return json.loads(line[-1].split("=> ", 1)[1])


# ------------------------------------------------------------------ openstack.cloud 2.5.0
PEER_PLAYBOOK = textwrap.dedent("""\
    - name: routed network with openstack.cloud
      hosts: localhost
      gather_facts: false
      tasks:
        - name: Does the network exist (network fails on re-runs if given provider attributes)
          openstack.cloud.networks_info:
            name: "{{ net_name }}"
          register: existing
        - name: Network (provider attributes of the first segment, only when creating)
          openstack.cloud.network:
            name: "{{ net_name }}"
            provider_network_type: "{{ omit if existing.networks else 'vlan' }}"
            provider_physical_network: "{{ omit if existing.networks else racks[0].physnet }}"
            provider_segmentation_id: "{{ omit if existing.networks else racks[0].vlan }}"
          register: net
        - name: Find the implicit first segment
          openstack.cloud.resources:
            service: network
            type: segment
            parameters:
              network_id: "{{ net.network.id }}"
              physical_network: "{{ racks[0].physnet }}"
          register: first
        - name: Name the implicit first segment
          openstack.cloud.resource:
            service: network
            type: segment
            attributes:
              id: "{{ first.resources[0].id }}"
              name: "{{ net_name }}-{{ racks[0].rack }}"
            updateable_attributes: [name]
        - name: Other segments
          openstack.cloud.resource:
            service: network
            type: segment
            attributes:
              name: "{{ net_name }}-{{ item.rack }}"
              network_id: "{{ net.network.id }}"
              network_type: vlan
              physical_network: "{{ item.physnet }}"
              segmentation_id: "{{ item.vlan }}"
            non_updateable_attributes: [network_id, network_type, physical_network, segmentation_id]
          loop: "{{ racks[1:] }}"
          register: segs
        - name: Subnets
          openstack.cloud.subnet:
            name: "{{ net_name }}-{{ item.0.rack }}"
            network_name: "{{ net_name }}"
            cidr: "{{ item.0.cidr }}"
            gateway_ip: "{{ item.0.gateway }}"
            allocation_pool_start: "{{ item.0.start }}"
            allocation_pool_end: "{{ item.0.end }}"
            extra_attrs:
              segment_id: "{{ item.1 }}"
          loop: "{{ racks | zip([first.resources[0].id] + (segs.results | map(attribute='resource.id') | list)) | list }}"
          loop_control:
            label: "{{ item.0.rack }}"
    """)


def run_peer(lab, name, spec, tmp):
    pb = os.path.join(tmp, "peer.yml")
    with open(pb, "w") as f:
        f.write(PEER_PLAYBOOK)
    varfile = os.path.join(tmp, "peer-vars.json")
    with open(varfile, "w") as f:
        json.dump(dict(net_name=name, racks=spec), f)
    return common.run_peer_playbook(lab, pb, ["-e", "@" + varfile])


def peer_changed(proc):
    """'changed=N' of localhost in the play recap (None without one)."""
    return recap(proc.stdout).get("localhost", {}).get("changed")


# ------------------------------------------------------------------ plain openstacksdk
SDK_SCRIPT = textwrap.dedent("""\
    import json, sys
    import openstack.config, openstack.connection
    cfg = openstack.config.OpenStackConfig(config_files=[sys.argv[1]]).get_one(cloud="spineleaf-lab")
    conn = openstack.connection.Connection(config=cfg)
    name, racks = sys.argv[2], json.loads(sys.argv[3])
    writes = 0
    net = conn.network.find_network(name)
    if net is None:
        r = racks[0]
        net = conn.network.create_network(name=name, provider_network_type="vlan",
                                          provider_physical_network=r["physnet"], provider_segmentation_id=r["vlan"])
        writes += 1
    segs = list(conn.network.segments(network_id=net.id))
    subs = {s.name: s for s in conn.network.subnets(network_id=net.id)}
    by_name = {s.name: s for s in segs}
    ids = {}
    for i, r in enumerate(racks):
        seg_name = "%s-%s" % (name, r["rack"])
        seg = by_name.get(seg_name)
        if seg is None and i == 0:
            seg = [s for s in segs if not s.name][0]
            seg = conn.network.update_segment(seg, name=seg_name)
            writes += 1
        elif seg is None:
            seg = conn.network.create_segment(network_id=net.id, name=seg_name, network_type="vlan",
                                              physical_network=r["physnet"], segmentation_id=r["vlan"])
            writes += 1
        ids[r["rack"]] = seg.id
    for r in racks:
        sub_name = "%s-%s" % (name, r["rack"])
        if sub_name not in subs:
            conn.network.create_subnet(network_id=net.id, segment_id=ids[r["rack"]], name=sub_name, ip_version=4,
                                       cidr=r["cidr"], gateway_ip=r["gateway"],
                                       allocation_pools=[{"start": r["start"], "end": r["end"]}])
            writes += 1
    print(writes)
    """)


def run_sdk(lab, name, spec, tmp):
    script = os.path.join(tmp, "sdk_routed.py")
    with open(script, "w") as f:
        f.write(SDK_SCRIPT)
    proc = subprocess.run([os.path.join(common.REPO, ".venv", "bin", "python"), script, lab.clouds_yaml, name,
                           json.dumps(spec)], env=lab.ansible_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("sdk script failed: " + proc.stderr[-2000:])
    return int(proc.stdout.strip().splitlines()[-1])


def verify(conn, name):
    """Segments named and subnets on their segments: all three end in the same state."""
    net = conn.network.find_network(name)
    segs = {s.id: s.name for s in conn.network.segments(network_id=net.id)}
    subs = list(conn.network.subnets(network_id=net.id))
    named = sum(1 for n in segs.values() if n)
    on_segment = sum(1 for s in subs if s.segment_id in segs)
    return "%d segments (%d named), %d subnets on segments" % (len(segs), named, on_segment)


def main(argv):
    common.peer_bin()  # install the peer venv first: not part of any timing
    with common.fresh_lab() as lab:
        return run_all(lab)


def run_all(lab):
    """The three approaches, first run and re-run each, against ``lab``; returns the markdown."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        conn = lab.connect()
        peer_spec, ours_spec, sdk_spec = racks(1100, 71), racks(1200, 72), racks(1300, 73)

        t_peer1, proc1 = common.timed(run_peer, lab, "bench-peer", peer_spec, tmp)
        t_peer2, proc2 = common.timed(run_peer, lab, "bench-peer", peer_spec, tmp)
        t_ours1, res1 = common.timed(run_ours, lab, "bench-ours", ours_spec, tmp)
        t_ours2, res2 = common.timed(run_ours, lab, "bench-ours", ours_spec, tmp)
        t_sdk1, w1 = common.timed(run_sdk, lab, "bench-sdk", sdk_spec, tmp)
        t_sdk2, w2 = common.timed(run_sdk, lab, "bench-sdk", sdk_spec, tmp)

        rows.append(("spineleaf.baremetal.routed_network (1 task)", t_ours1, t_ours2,
                     "%d writes / %d writes, changed=%s" % (res1["api_writes"], res2["api_writes"], res2["changed"]),
                     verify(conn, "bench-ours")))
        rows.append(("openstack.cloud 2.5.0 (network + resources + resource x16 + subnet x16)", t_peer1, t_peer2,
                     "changed tasks %s / %s (loops count once)" % (peer_changed(proc1), peer_changed(proc2)), verify(conn, "bench-peer")))
        rows.append(("plain openstacksdk script (sequential)", t_sdk1, t_sdk2, "%d writes / %d writes" % (w1, w2),
                     verify(conn, "bench-sdk")))

    lines = ["## routed_network: 1 network + %d segments + %d subnets (fresh lab Neutron)" % (RACKS, RACKS), "",
             "| approach | first run (s) | re-run (s) | writes first / re-run | end state |",
             "| --- | ---: | ---: | --- | --- |"]
    for label, first, again, writes, end in rows:
        lines.append("| %s | %.1f | %.1f | %s | %s |" % (label, first, again, writes, end))
    lines += ["",
              "- first run: openstack.cloud / routed_network = %s (goal >= 1.0x); sdk script / routed_network = %s"
              % (common.ratio(t_peer1, t_ours1), common.ratio(t_sdk1, t_ours1)),
              "- re-run: openstack.cloud / routed_network = %s (goal >= 10x, zero writes: %s)"
              % (common.ratio(t_peer2, t_ours2), "yes" if res2["api_writes"] == 0 and not res2["changed"] else "NO"),
              "- openstack.cloud 2.5.0 has no network_segment module: segments go through openstack.cloud.resource "
              "(and openstack.cloud.resources to find the implicit first segment). Its network module fails on a "
              "re-run of a multi-segment network when given provider attributes (Neutron reports them as None), so "
              "the peer playbook first checks with networks_info and omits them when the network exists.",
              "- Most of a first run is Neutron's own work: each subnet create rewrites the host routes of every "
              "peer subnet.",
              ""]
    markdown = "\n".join(lines)
    common.write_result("routed_network", markdown)
    return markdown


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv) else 1)
