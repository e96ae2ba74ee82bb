"""The whole site at scale: site.yml and rolling_upgrade.yml end to end on a generated site, and
what Ansible itself costs around the bulk calls.

A generated site (R racks x N nodes, default 50 x 40 = 2,000; every fifth rack bonded) as one
racks file, on a lab of the production profile (PostgreSQL, API workers, two conductor groups) or
the default one; the lab ramdisk answers the site's nodes. Steps:

  1. site.yml from nothing to every node active (deploy_image);
  2. a no-change re-run of site.yml;
  3. rolling_upgrade.yml to a new image, max_unavailable 4 per rack, racks in order;
  4. site.yml --limit rack_<one> on the full site, and the same rack as a site of its own;
  5. ansible-inventory --list on the racks file;
  6. (--split 2,4) the no-change re-run as N ansible-playbook jobs side by side, --limit on a slice
     of the racks each, as AWX execution nodes would run them, against the one job of step 2.

For each: wall time; the bulk calls' time (the tasks of the collection's API modules and the
waits for their background rack jobs, from a task-timing callback, bench/callback_plugins);
Ansible's share = (wall - bulk) / wall; peak RSS of ansible-playbook's processes and of the
module processes; lines of output; API calls in Ironic's request log (lists / GETs / writes).
The top tasks by time of each run are printed too (where Ansible's share goes).

    python bench/bench_site.py [--racks 50] [--nodes-per-rack 40] [--profile production|default]
                               [--steps 1,2,3,4,5] [--bonded-every 5] [--deploy-delay 1] [--no-deploy] [--split 2,4]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 pylint: disable=wrong-import-position
import measure  # noqa: E402 pylint: disable=wrong-import-position

VENV_BIN = os.path.join(common.REPO, ".venv", "bin")
CALLBACKS = os.path.join(common.BENCH, "callback_plugins")
# The collection's modules that call the APIs, and the waits for their background (async) jobs:
# their tasks' wall time is the "bulk" time; everything else is Ansible's own.
BULK = ("ironic_nodes", "ironic_inspect", "ironic_traits", "ironic_provision", "ironic_rollout",
        "ironic_discover", "routed_network", "routed_network_check", "preflight", "rack_progress_wait", "rack_jobs",
        "lldp_topology")
IMAGE_1 = {"source": "http://images.bench.invalid/site-1.0.qcow2", "checksum": "5f0c1e2d3a4b5c6d7e8f90a1b2c3d4e5"}
IMAGE_2 = {"source": "http://images.bench.invalid/site-2.0.qcow2", "checksum": "6a1d2e3f4a5b6c7d8e9fa0b1c2d3e4f5"}
KEEP = os.environ.get("BENCH_SITE_KEEP")  # --keep: a directory for each run's output and task timings
GOALS = {"site": 1.25, "rerun_s": 180.0, "rollout": 1.2, "limit": 2.0, "rss_mb": 1024.0}


def rack_name(i):
    return "r%02d" % i


def racks_file(racks, per_rack, bonded_every, only=None, max_unavailable=4, deploy=True):
    """The racks-plugin file of a generated site (``only``: just that rack, a site of its own)."""
    nodes = {"range": "{rack}-n[01:%02d]" % per_rack, "role": "compute", "bmc_address": "127.1.{rack_index}.{n}",
             "nics": [{"name": "eno1", "mac": {"base": "52:54:01:{rack_index:02x}:00:01", "step": 256}, "pxe": True,
                       "leaf": "leaf-{rack}-a", "port": {"base": 0, "step": 1}},
                      {"name": "eno2", "mac": {"base": "52:54:01:{rack_index:02x}:00:02", "step": 256}, "pxe": False,
                       "leaf": "leaf-{rack}-b", "port": {"base": 0, "step": 1}}],
             "overrides": {"{rack}-n01": {"role": "controller"}, "{rack}-n02": {"role": "storage"}}}
    bonded = dict(nodes, bonds=[{"name": "bond0", "members": ["eno1", "eno2"], "mode": "802.3ad"}])
    all_racks = [rack_name(i) for i in range(1, racks + 1)]
    site_racks = {}
    for i, name in enumerate(all_racks, 1):
        if only and name != only:
            continue
        site_racks[name] = {"index": i}
        if bonded_every and i % bonded_every == 0:
            site_racks[name]["nodes"] = [bonded]
    # bmc_driver lab-hardware, as inventory/lab: its deploy runs a direct deploy's network steps, so
    # the VIFs site.yml attaches get bound on the neutron lab (fake-hardware's fake deploy runs none:
    # every VIF kept Ironic's binding_failed placeholder and network_check failed the nodes).
    return {
        "plugin": "spineleaf.baremetal.racks",
        "vars": {
            "ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "site_name": "bench", "cloud": "spineleaf-lab", "bmc_driver": "lab-hardware",
            "neutron_max_subnet_host_routes": max(20, racks),
            "bmc_username": "admin", "bmc_password": "bench-bmc-secret", "bmc_driver_info": {},
            "routed_networks": [{"name": "ctlplane", "provisioning": True, "supernet": "10.40.0.0/16",
                                 "prefix_per_rack": 24, "vlan_base": 100, "physnet_pattern": "leaf{rack_index}",
                                 "dhcp": True, "extra_routes": []}],
            "rollout": {"rack_order": [r for r in all_racks if r in site_racks], "max_unavailable": max_unavailable,
                        "failure_budget": 1, "health_gate": True},
            "tag_rules": [
                {"name": "memory-64g", "when": "inventory.memory.physical_mb >= `65536`", "traits_add": ["CUSTOM_MEM_64G"]},
                {"name": "cpu-x86-64", "when": "inventory.cpu.architecture == 'x86_64'",
                 "traits_add": ["CUSTOM_CPU_X86_64"], "properties": {"cpu_arch": "x86_64"}},
                {"name": "compute-profile", "when": "facts.node_role == 'compute'", "extra": {"hw_profile": "compute"}}],
            "site_final_state": "available",
            **({"deploy_image": IMAGE_1} if deploy else {}),
        },
        "switches": {"port_name": "Ethernet1/{port}", "port_count": 48},
        "defaults": {"physnet": "leaf{rack_index}", "leaves": {
            "leaf-{rack}-a": {"chassis_id": "00:1c:74:{rack_index:02x}:00:0a", "mlag_peer": "leaf-{rack}-b"},
            "leaf-{rack}-b": {"chassis_id": "00:1c:74:{rack_index:02x}:00:0b", "mlag_peer": "leaf-{rack}-a"}},
            "nodes": [nodes]},
        "racks": site_racks,
    }


def write_site(path, racks, per_rack, bonded_every, only=None, deploy=True):
    """A directory with ``site.racks.yml`` (what the playbooks read) and ``hosts.yml``, the same site
    in YAML form (what the lab ramdisk reads: `labctl.py up --site DIR`)."""
    os.makedirs(path, exist_ok=True)
    racks_path = os.path.join(path, "site.racks.yml")
    with open(racks_path, "w") as f:
        yaml.safe_dump(racks_file(racks, per_rack, bonded_every, only, deploy=deploy), f, sort_keys=False)
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-inventory"), "-i", racks_path, "--list", "--yaml",
                           "--output", os.path.join(path, "hosts.yml")], cwd=common.REPO, capture_output=True,
                          text=True, check=False, env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(common.REPO, "ansible.cfg")))
    if proc.returncode != 0:
        raise RuntimeError("ansible-inventory failed on the generated site:\n" + proc.stderr[-3000:])
    return racks_path


def child_cpu():
    """CPU seconds (user + system) of this process's finished children: ansible-playbook and the
    workers and modules it waited for. Unlike wall time, hardly changed by a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load():
    return "%.1f" % os.getloadavg()[0]


def run(lab, cmd, label):
    """One ansible-playbook / ansible-inventory process, measured: wall, RSS, lines, API calls, task timings."""
    with tempfile.TemporaryDirectory() as tmp:
        timing = os.path.join(tmp, "timing.json")
        env = lab.ansible_env()
        env.update(ANSIBLE_CALLBACKS_ENABLED="site_timing",
                   ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, SITE_TIMING_FILE=timing)
        offset = measure.log_offset(lab)
        load_before = load()
        cpu_before = child_cpu()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=common.REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        sampler = measure.RssSampler(proc.pid)
        sampler.start()
        output = proc.communicate()[0]
        wall = time.perf_counter() - start
        cpu = child_cpu() - cpu_before
        sampler.done.set()
        sampler.join()
        tasks = []
        if os.path.exists(timing):
            with open(timing) as f:
                tasks = json.load(f)["tasks"]
    calls = measure.api_calls(lab, offset)
    bulk = sum(t["seconds"] for t in tasks if t["action"].rsplit(".", 1)[-1] in BULK)
    row = dict(label=label, wall=wall, cpu=cpu, bulk=bulk, rc=proc.returncode, playbook_mb=sampler.playbook_kb / 1024.0,
               module_mb=sampler.module_kb / 1024.0, lines=output.count("\n"), calls=calls, tasks=tasks,
               load=load_before + " / " + load(), output=output)
    if KEEP:  # each run as soon as it ends: a run stopped half-way keeps what it measured
        os.makedirs(KEEP, exist_ok=True)
        stem = os.path.join(KEEP, "run%d" % len([f for f in os.listdir(KEEP) if f.endswith(".json")]))
        with open(stem + ".out", "w") as f:
            f.write("%s\n%s" % (" ".join(cmd), output))
        with open(stem + ".json", "w") as f:
            json.dump(dict((k, v) for k, v in row.items() if k != "output"), f)
    print("bench site: %s: %.1f s (bulk %.1f s), CPU %.1f s, rc %d, playbook %.0f MB, module %.0f MB, %d lines, calls %s, load %s"
          % (label, wall, bulk, cpu, proc.returncode, row["playbook_mb"], row["module_mb"], row["lines"], calls, row["load"]),
          file=sys.stderr, flush=True)
    return row


def run_split(lab, inventory, racks, jobs):
    """The no-change re-run of site.yml as ``jobs`` ansible-playbook processes side by side (as AWX
    execution nodes would run one job each), each with ``--limit`` on its share of the racks (contiguous
    slices, as one job per conductor group would take them). Wall = until the last job ends."""
    names = [rack_name(i) for i in range(1, racks + 1)]
    size = -(-len(names) // jobs)
    slices = [names[i:i + size] for i in range(0, len(names), size)]
    with tempfile.TemporaryDirectory() as tmp:
        env = lab.ansible_env()
        offset = measure.log_offset(lab)
        load_before = load()
        cpu_before = child_cpu()
        start = time.perf_counter()
        procs = []
        for index, share in enumerate(slices):
            out = open(os.path.join(tmp, "job%d.out" % index), "w+")  # pylint: disable=consider-using-with
            cmd = [os.path.join(VENV_BIN, "ansible-playbook"), os.path.join("playbooks", "site.yml"), "-i", inventory,
                   "--limit", ":".join("rack_" + r for r in share)]
            procs.append((subprocess.Popen(cmd, env=env, cwd=common.REPO, stdout=out, stderr=subprocess.STDOUT), out))
        samplers = []
        for proc, _out in procs:
            sampler = measure.RssSampler(proc.pid)
            sampler.start()
            samplers.append(sampler)
        ends = []
        for proc, _out in procs:
            proc.wait()
            ends.append(time.perf_counter() - start)
        wall = time.perf_counter() - start
        cpu = child_cpu() - cpu_before
        for sampler in samplers:
            sampler.done.set()
            sampler.join()
        output, rcs = "", []
        for proc, out in procs:
            out.seek(0)
            output += out.read()
            out.close()
            rcs.append(proc.returncode)
    calls = measure.api_calls(lab, offset)
    label = "site.yml no-change re-run as %d parallel jobs" % jobs
    row = dict(label=label, wall=wall, cpu=cpu, bulk=0.0, rc=max(rcs), playbook_mb=max(x.playbook_kb for x in samplers) / 1024.0,
               module_mb=max(x.module_kb for x in samplers) / 1024.0, lines=output.count("\n"), calls=calls, tasks=[],
               load=load_before + " / " + load(), output=output, jobs=jobs, ends=ends)
    totals = dict(changed=0, failed=0, hosts=0)
    for part in output.split("PLAY RECAP")[1:]:
        one = recap("PLAY RECAP" + part)
        for key in totals:
            totals[key] += one[key]
    row["recap"] = totals
    print("bench site: %s: %.1f s (jobs ended at %s), CPU %.1f s, rc %s, %d lines, calls %s, recap %s, load %s"
          % (label, wall, ", ".join("%.0f" % e for e in ends), cpu, rcs, row["lines"], calls, totals, row["load"]),
          file=sys.stderr, flush=True)
    return row


def playbook(lab, name, inventory, *args):
    cmd = [os.path.join(VENV_BIN, "ansible-playbook"), os.path.join("playbooks", name), "-i", inventory] + list(args)
    return run(lab, cmd, " ".join([name] + list(args)))


def recap(output):
    """{'changed': total changed=, 'failed': total failed=} of the PLAY RECAP."""
    out = dict(changed=0, failed=0, hosts=0)
    for line in output.split("PLAY RECAP")[-1].splitlines():
        if " : ok=" in line:
            out["hosts"] += 1
            fields = dict(p.split("=") for p in line.split(":", 1)[1].split())
            out["changed"] += int(fields.get("changed", 0))
            out["failed"] += int(fields.get("failed", 0))
    return out


def top_tasks(tasks, n=12):
    """The n most expensive tasks of a run, same-named tasks (a task file included per wave) summed."""
    agg = {}
    for t in tasks:
        key = (t["name"], t["action"].rsplit(".", 1)[-1])
        a = agg.setdefault(key, dict(seconds=0.0, runs=0, hosts=0, skipped=0))
        a["seconds"] += t["seconds"]
        a["runs"] += 1
        a["hosts"] += t["hosts"]
        a["skipped"] += t["skipped"]
    return sorted(agg.items(), key=lambda kv: -kv[1]["seconds"])[:n]


def cost_classes(tasks):
    """Where Ansible's time goes: per-host tasks (ran on more than one host), run-once tasks,
    include_* per host, and the bulk tasks."""
    out = dict(bulk=0.0, per_host=0.0, per_host_skipped=0.0, include=0.0, run_once=0.0)
    for t in tasks:
        action = t["action"].rsplit(".", 1)[-1]
        if action in BULK:
            out["bulk"] += t["seconds"]
        elif action in ("include_tasks", "include_role", "import_tasks"):
            out["include"] += t["seconds"]
        elif t["hosts"] > 1 and t["skipped"] == t["hosts"]:
            out["per_host_skipped"] += t["seconds"]
        elif t["hosts"] > 1:
            out["per_host"] += t["seconds"]
        else:
            out["run_once"] += t["seconds"]
    return out


def rollout_ideal(tasks, m):
    """The sliding-window ideal of a rolling upgrade: per rack, nodes / M x mean node time, racks in
    order (the issue's definition), from the durations the rollout reported."""
    durations = []
    for t in tasks:
        for r in t.get("racks") or []:
            durations.extend(d for d in r["durations"] if d is not None)
    if not durations:
        return 0.0, 0
    mean = sum(durations) / len(durations)
    return len(durations) / float(m) * mean, len(durations)


def main(argv):  # pylint: disable=too-many-locals,too-many-statements
    parser = argparse.ArgumentParser()
    parser.add_argument("--racks", type=int, default=int(os.environ.get("BENCH_SITE_RACKS", "50")))
    parser.add_argument("--nodes-per-rack", type=int, default=int(os.environ.get("BENCH_SITE_NODES_PER_RACK", "40")))
    parser.add_argument("--profile", default=os.environ.get("BENCH_SITE_PROFILE", "production"),
                        choices=["production", "default"])
    parser.add_argument("--steps", default="1,2,3,4,5")
    parser.add_argument("--bonded-every", type=int, default=5, help="every Nth rack bonded (0: none)")
    parser.add_argument("--deploy-delay", default="1", help="LAB_DEPLOY_DELAY: seconds per fake deploy step")
    parser.add_argument("--max-unavailable", type=int, default=4)
    parser.add_argument("--keep", help="copy the runs' output and timings into this directory")
    parser.add_argument("--split", default="",
                        help="step 6: the no-change re-run as N parallel jobs, --limit on a share of the racks each "
                             "(comma-separated N, e.g. 2,4), against the one job of step 2")
    parser.add_argument("--no-deploy", action="store_true",
                        help="no deploy_image: site.yml ends with every node available (enroll, inspect, tag); "
                             "what a site of this size costs Ansible without the deploy step's lab time")
    args = parser.parse_args(argv)
    global KEEP  # pylint: disable=global-statement
    KEEP = args.keep or KEEP
    steps = set(int(s) for s in args.steps.split(","))
    total = args.racks * args.nodes_per_rack
    os.environ["LAB_DEPLOY_DELAY"] = args.deploy_delay
    os.environ["LAB_VLAN_PHYSNETS"] = str(max(16, args.racks))
    # Neutron routes each rack's subnet to every other rack's (racks - 1 host routes a subnet): past
    # 21 racks a stock Neutron (max_subnet_host_routes 20) refuses the 22nd subnet; raised as a site of
    # that size must (README "Ironic and Neutron for routed bare metal").
    os.environ["LAB_MAX_SUBNET_HOST_ROUTES"] = str(max(20, args.racks))
    os.environ.setdefault("LAB_RAMDISK_INTERVAL", "0.05")
    one = rack_name(min(2, args.racks))
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        site_dir = os.path.join(tmp, "site")
        site = write_site(site_dir, args.racks, args.nodes_per_rack, args.bonded_every, deploy=not args.no_deploy)
        alone = write_site(os.path.join(tmp, "alone"), args.racks, args.nodes_per_rack, args.bonded_every, only=one,
                           deploy=not args.no_deploy)
        with measure.profile_lab(args.profile) as lab:
            lab.ctl("up", "--site", site_dir)
            if 5 in steps:
                rows[5] = run(lab, [os.path.join(VENV_BIN, "ansible-inventory"), "-i", site, "--list"],
                              "ansible-inventory --list")
            split = [int(n) for n in args.split.split(",") if n.strip()]
            if steps & {1, 2, 3, 4} or split:
                rows[1] = playbook(lab, "site.yml", site)
            if 2 in steps:
                rows[2] = playbook(lab, "site.yml", site)
            if split and 2 not in steps:
                rows[2] = playbook(lab, "site.yml", site)
            for jobs in split:
                rows["6-%d" % jobs] = run_split(lab, site, args.racks, jobs)
            if 3 in steps:
                rows[3] = playbook(lab, "rolling_upgrade.yml", site, "-e", "rollout_image=" + IMAGE_2["source"],
                                   "-e", json.dumps({"rollout": {"rack_order": [rack_name(i) for i in range(1, args.racks + 1)],
                                                                 "max_unavailable": args.max_unavailable,
                                                                 "failure_budget": 1}}))
            if 4 in steps:
                image = json.dumps({"deploy_image": IMAGE_2 if 3 in steps else IMAGE_1})
                rows[4] = playbook(lab, "site.yml", site, "--limit", "rack_" + one, "-e", image)
                rows["4a"] = playbook(lab, "site.yml", alone, "-e", image)
    return report(args, total, one, rows)


def report(args, total, one, rows):  # pylint: disable=too-many-locals
    names = {1: "1. site.yml, nothing to %d %s" % (total, "available" if getattr(args, "no_deploy", False) else "active"), 2: "2. site.yml no-change re-run",
             3: "3. rolling_upgrade.yml, max_unavailable %d, racks in order" % args.max_unavailable,
             4: "4. site.yml --limit rack_%s (full site)" % one, "4a": "4. rack %s as a site of its own" % one,
             5: "5. ansible-inventory --list (racks file)"}
    md = ["## The whole site: %d racks x %d nodes = %d, %s profile (`python bench/bench_site.py --racks %d "
          "--nodes-per-rack %d --profile %s%s`)" % (
              args.racks, args.nodes_per_rack, total, args.profile, args.racks, args.nodes_per_rack, args.profile,
              " --no-deploy" if args.no_deploy else ""), "",
          "Fake deploy %s s per step; every %s rack bonded. bulk = time in the collection's API module tasks and "
          "the waits for their rack jobs; Ansible's share = (wall - bulk) / wall. RSS = peak (VmHWM). Controller CPU = user + system "
          "seconds of ansible-playbook, its workers and the modules it waited for (not the lab servers, nor the "
          "background rack jobs: async detaches them). Calls = "
          "Ironic's request log: lists / GETs / writes. Load = 1-min load average before / after." % (
              args.deploy_delay, "%dth" % args.bonded_every if args.bonded_every else "no"), "",
          "| step | wall | controller CPU | bulk | Ansible's share | changed / failed (recap) | playbook RSS | module RSS | lines | "
          "lists / GETs / writes | load |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for key in (5, 1, 2) + tuple(k for k in rows if str(k).startswith("6-")) + (3, 4, "4a"):
        r = rows.get(key)
        if not r:
            continue
        if str(key).startswith("6-"):
            names[key] = "6. no-change re-run as %d parallel jobs (`--limit` a slice of racks each)" % r["jobs"]
        share = (r["wall"] - r["bulk"]) / r["wall"] if r["wall"] and r["bulk"] else 0
        rc = r.get("recap") or recap(r["output"])
        md.append("| %s | %.1f s | %.1f s | %.1f s | %.0f%% | %s | %.0f MB | %.0f MB | %d | %d / %d / %d | %s |" % (
            names[key], r["wall"], r.get("cpu", 0), r["bulk"], 100 * share,
            "%d / %d" % (rc["changed"], rc["failed"]) if rc["hosts"] else ("rc %d" % r["rc"]),
            r["playbook_mb"], r["module_mb"], r["lines"], r["calls"]["lists"], r["calls"]["reads"],
            r["calls"]["writes"], r["load"]))
    md += ["", "| goal | measured | goal | met |", "| --- | --- | --- | --- |"]

    def goal(name, value, target, fmt, met):
        md.append("| %s | %s | %s | %s |" % (name, fmt % value, target, "yes" if met else "**no**"))
    if rows.get(1):
        r = rows[1]
        goal("site.yml wall / bulk", r["wall"] / r["bulk"] if r["bulk"] else 0, "<= 1.25x", "%.2fx",
             r["bulk"] and r["wall"] / r["bulk"] <= GOALS["site"])
    if rows.get(2):
        r = rows[2]
        goal("no-change re-run (%d nodes), writes %d" % (total, r["calls"]["writes"]), r["wall"],
             "< 180 s at 2,000, 0 writes", "%.1f s", r["wall"] < GOALS["rerun_s"] and r["calls"]["writes"] == 0)
    if rows.get(3):
        ideal, n = rollout_ideal(rows[3]["tasks"], args.max_unavailable)
        if ideal:
            goal("rolling_upgrade.yml / ideal (%d nodes / %d x mean node time = %.1f s)" % (n, args.max_unavailable, ideal),
                 rows[3]["wall"] / ideal, "<= 1.2x", "%.2fx", rows[3]["wall"] / ideal <= GOALS["rollout"])
    if rows.get(4) and rows.get("4a"):
        q = rows[4]["wall"] / rows["4a"]["wall"]
        goal("--limit rack_%s / that rack alone" % one, q, "< 2x", "%.2fx", q < GOALS["limit"])
    for key in sorted(k for k in rows if str(k).startswith("6-")):
        if rows.get(2):
            goal("no-change re-run, one job / %d parallel jobs" % rows[key]["jobs"], rows[2]["wall"] / rows[key]["wall"],
                 "(measured, no goal)", "%.2fx", True)
    peak = max([r["playbook_mb"] for r in rows.values() if r] or [0])
    goal("ansible-playbook peak RSS", peak, "< 1024 MB", "%.0f MB", peak < GOALS["rss_mb"])
    for key in (1, 2, 3):
        r = rows.get(key)
        if not r or not r["tasks"]:
            continue
        c = cost_classes(r["tasks"])
        md += ["", "### Where %s's time goes" % names[key], "",
               "bulk %.1f s; per-host tasks %.1f s (of which all-skipped %.1f s); include_* per host %.1f s; "
               "run-once tasks %.1f s; outside tasks (start-up, inventory, recap) %.1f s." % (
                   c["bulk"], c["per_host"] + c["per_host_skipped"], c["per_host_skipped"], c["include"], c["run_once"],
                   r["wall"] - sum(c.values())), "",
               "| task | action | runs | host results (skipped) | seconds |", "| --- | --- | --- | --- | --- |"]
        for (name, action), a in top_tasks(r["tasks"]):
            md.append("| %s | %s | %d | %d (%d) | %.1f |" % (
                name[:90].replace("|", "/"), action, a["runs"], a["hosts"], a["skipped"], a["seconds"]))
    markdown = "\n".join(md) + "\n"
    common.write_result("site", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
