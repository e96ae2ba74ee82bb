"""Scaling curve on the default lab profile: enrollment, inspection, tagging and a no-change
re-run at 100, 500 and 2,000 nodes (racks of 40: 2,000 = 50 racks x 40), each step one
ansible-playbook run with one bulk task over every node (the worst case for memory).

    python bench/bench_scale.py [--sizes 100,500,2000] [--profile default]

Reported per size and step: time per node, the peak RSS of the module process and of
ansible-playbook, and the API calls the step made (from the lab Ironic's own request log), so a
no-change re-run shows O(1) list calls and 0 writes whatever the size.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 pylint: disable=wrong-import-position
import measure  # noqa: E402 pylint: disable=wrong-import-position

RACK_SIZE = 40
RULES = [
    {"name": "memory-64g", "when": "inventory.memory.physical_mb >= `65536`", "traits_add": ["CUSTOM_MEM_64G"]},
    {"name": "x86", "when": "inventory.cpu.architecture == 'x86_64'", "traits_add": ["CUSTOM_CPU_X86_64"],
     "properties": {"cpu_arch": "x86_64"}},
    {"name": "rack", "when": "extra.rack != null", "extra": {"tagged": True}},
]


def node_specs(n):
    specs = []
    for i in range(n):
        rack = "sc%02d" % (i // RACK_SIZE + 1)  # not the lab site's r01..: the lab ramdisk knows those
        specs.append({
            "name": "%s-n%02d" % (rack, i % RACK_SIZE + 1), "driver": "fake-hardware",
            "driver_info": {"ipmi_address": "10.%d.%d.%d" % (i // 65536, (i // 256) % 256, i % 256)},
            "resource_class": "baremetal.compute", "traits": ["CUSTOM_RACK_%s" % rack.upper()],
            "extra": {"rack": rack},
            "ports": [{"address": "52:54:0%d:%02x:%02x:%02x" % (p + 5, i // 65536, (i // 256) % 256, i % 256),
                       "pxe_enabled": p == 0, "physical_network": "leaf%d" % (i // RACK_SIZE % 16 + 1)}
                      for p in range(2)]})
    return specs


INSPECT = {"spineleaf.baremetal.ironic_inspect": {"nodes": "{{ (bench_nodes | map(attribute='name') | list)[:bench_inspect] }}"}}
STEPS = [
    ("enroll", {"spineleaf.baremetal.ironic_nodes": {"nodes": "{{ bench_nodes }}", "target_state": "manageable"}}),
    ("inspect", INSPECT),
    ("tag", {"spineleaf.baremetal.ironic_traits": {"rules": "{{ bench_rules }}"}}),
    ("re-run enroll", {"spineleaf.baremetal.ironic_nodes": {"nodes": "{{ bench_nodes }}", "target_state": "manageable"}}),
    ("re-run inspect", INSPECT),
    ("re-run tag", {"spineleaf.baremetal.ironic_traits": {"rules": "{{ bench_rules }}"}}),
]


def inspected(n, limit):
    """How many nodes the inspect steps take (the first ``limit``, all when 0)."""
    return min(n, limit) if limit else n


def per_node(name, n, limit):
    return inspected(n, limit) if "inspect" in name else n


def run_size(n, profile, inspect_limit=0):
    specs = node_specs(n)
    rows = {}
    with measure.profile_lab(profile) as lab:
        for name, task in STEPS:
            offset = measure.log_offset(lab)
            task = dict(task, register="r_step")
            seconds, results, rss = measure.run_plays(lab, [measure.localhost_play([task])],
                                                      {"bench_nodes": specs, "bench_rules": RULES,
                                                       "bench_inspect": inspected(n, inspect_limit)})
            result = results["r_step"]
            if result.get("failed"):
                raise RuntimeError("%s at %d nodes: %s" % (name, n, result.get("msg")))
            calls = measure.api_calls(lab, offset)
            rows[name] = dict(seconds=seconds, changed=result.get("changed"), calls=calls, **rss)
            print("bench scale: %d nodes %s: %.1f s, module %.0f MB, playbook %.0f MB, calls %s" % (
                n, name, seconds, rss["module_mb"], rss["playbook_mb"], calls), file=sys.stderr, flush=True)
    return rows


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SCALE_SIZES", "100,500,2000"))
    parser.add_argument("--profile", default="default")
    parser.add_argument("--inspect-limit", type=int, default=0,
                        help="inspect only the first N nodes of each site (0: all); the inspect steps' ms/node "
                             "is then per inspected node: what polling one site costs as it grows")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    lim = args.inspect_limit
    data = dict((n, run_size(n, args.profile, lim)) for n in sizes)
    title = "## Scaling curve, %s profile (`python bench/bench_scale.py --sizes %s%s`)" % (
        args.profile, args.sizes, " --inspect-limit %d" % lim if lim else "")
    md = [title, "",
          ("One bulk task over all nodes per step (inspect steps: the first %s nodes). ms/node = playbook wall "
           "time / nodes the step worked on; RSS = peak (VmHWM) of the module process / of ansible-playbook's "
           "processes; calls = API requests in Ironic's log (GET lists / all GETs / writes)." % (lim or "all")), "",
          "| nodes | step | ms/node | changed | module RSS | playbook RSS | lists / GETs / writes | GETs per node |",
          "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for n in sizes:
        for name, _task in STEPS:
            r = data[n][name]
            md.append("| %d | %s | %.1f | %s | %.0f MB | %.0f MB | %d / %d / %d | %.3f |" % (
                n, name, 1000.0 * r["seconds"] / per_node(name, n, lim), r["changed"], r["module_mb"], r["playbook_mb"],
                r["calls"]["lists"], r["calls"]["reads"], r["calls"]["writes"], r["calls"]["reads"] / float(n)))
    small, large = min(sizes), max(sizes)
    if small != large:
        md += ["", "| step | ms/node at %d vs at %d (goal <= 1.2x) |" % (large, small), "| --- | --- |"]
        for name, _task in STEPS:
            a = data[large][name]["seconds"] / per_node(name, large, lim)
            b = data[small][name]["seconds"] / per_node(name, small, lim)
            md.append("| %s | %.2fx |" % (name, a / b))
    peak_module = max(r["module_mb"] for rows in data.values() for r in rows.values())
    peak_playbook = max(r["playbook_mb"] for rows in data.values() for r in rows.values())
    md += ["", "Peak RSS at %d nodes: module %.0f MB, ansible-playbook %.0f MB (goal < 400 MB); overall peaks "
           "module %.0f MB, playbook %.0f MB." % (
               large, max(r["module_mb"] for r in data[large].values()),
               max(r["playbook_mb"] for r in data[large].values()), peak_module, peak_playbook), ""]
    markdown = "\n".join(md)
    common.write_result("scale", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
