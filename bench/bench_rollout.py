"""Rolling-upgrade benchmark: ironic_rollout's sliding window vs its ideal and vs Ansible `serial`.

R racks x N active nodes in a fresh lab whose fake deploy sleeps a random 1-3 s per step
(LAB_DEPLOY_DELAY=1,3: a rebuild takes 2-6 s, so nodes differ as real ones do). Then:
(a) one task looping ironic_rollout over the racks in order, max_unavailable M;
(b) the same rebuilds as an Ansible play with `serial: M` over the same hosts (one
    ironic_provision per host, each batch waits for its slowest node);
(c) the product as users run it: the rolling_upgrade role over the racks (plan, gates, one
    asynchronous ironic_rollout per rack, progress lines, per-host results).
The ideal is the sliding-window schedule of the per-node times (a) measured, per rack, racks one
after another, and the issue's nodes / M x mean node time. Usage:

    python bench/bench_rollout.py [--racks 5] [--per-rack 40] [--max-unavailable 4] [--mode image|service]

``--mode service`` (#26): the same three runs with Ironic servicing instead of a rebuild - the fake
vendor's ``log_passthrough`` service step sleeps a random 1-3 s (LAB_VENDOR_DELAY=1,3; deploys are
instant, LAB_DEPLOY_DELAY=0); (b) runs ironic_rollout for one node per host under `serial: M`.
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(common.REPO, ".collections"))
from ansible_collections.spineleaf.baremetal.plugins.module_utils import _rollout  # noqa: E402

PY = os.path.join(common.REPO, ".venv", "bin", "python")


STEPS = [{"interface": "vendor", "step": "log_passthrough", "args": {}}]
MODE = {"mode": "image"}  # --mode


def image(v):
    return {"source": "http://images.bench.invalid/base-%s.qcow2" % v}


def what(v):
    """The rollout's change: a new image, or servicing under a rollout id of its own (--mode service)."""
    if MODE["mode"] == "service":
        return {"service_steps": STEPS}
    return {"image": image(v)}


def play(tasks, hosts="localhost", **more):
    p = {"hosts": hosts, "gather_facts": False, "connection": "local", "vars": {"ansible_python_interpreter": PY},
         "tasks": tasks}
    p.update(more)
    return p


def make_site(lab, racks, per_rack, tmp):
    names = dict(("r%02d" % r, ["r%02d-n%02d" % (r, i) for i in range(1, per_rack + 1)]) for r in range(1, racks + 1))
    specs = [{"name": n, "driver": "fake-hardware", "ports": [{"address": "52:54:06:%02x:%02x:00" % (r, i), "pxe_enabled": True}]}
             for r, rack in enumerate(names.values(), 1) for i, n in enumerate(rack, 1)]
    with open(os.path.join(tmp, "nodes.json"), "w") as f:
        json.dump({"bench_nodes": specs, "bench_names": [s["name"] for s in specs]}, f)
    res = common.run_playbook(lab, [play([
        {"spineleaf.baremetal.ironic_nodes": {"nodes": "{{ bench_nodes }}", "target_state": "available", "concurrency": 4}},
        {"spineleaf.baremetal.ironic_provision": {"nodes": "{{ bench_names }}", "image": image("1.0"), "concurrency": 64}},
    ])], extra_args=["-e", "@" + os.path.join(tmp, "nodes.json")])
    if res.rc != 0:
        raise RuntimeError("building the site failed:\n" + res.output[-3000:])
    with open(os.path.join(tmp, "hosts.ini"), "w") as f:
        for index, (rack, hosts) in enumerate(names.items(), 1):
            f.write("[rack_%s]\n%s\n" % (rack, "\n".join("%s rack=%s rack_index=%d" % (h, rack, index) for h in hosts)))
    return names


def run_window(lab, names, m, tmp):
    out = os.path.join(tmp, "window.json")
    with open(os.path.join(tmp, "racks.json"), "w") as f:
        json.dump({"bench_racks": [{"rack": r, "nodes": n} for r, n in names.items()]}, f)
    seconds, res = common.timed(common.run_playbook, lab, [play([
        {"spineleaf.baremetal.ironic_rollout": dict({"rack": "{{ item.rack }}", "nodes": "{{ item.nodes }}", "rollout_id": "bench-2.0",
                                                     "max_unavailable": m, "failure_budget": 0, "poll_interval": 0.2},
                                                    **what("2.0")),
         "loop": "{{ bench_racks }}", "register": "r"},
        {"ansible.builtin.copy": {"content": "{{ r.results | to_json }}", "dest": out}},
    ])], extra_args=["-e", "@" + os.path.join(tmp, "racks.json")])
    if res.rc != 0:
        raise RuntimeError("ironic_rollout failed:\n" + res.output[-3000:])
    with open(out) as f:
        return seconds, json.load(f)


def run_serial(lab, m, tmp):
    if MODE["mode"] == "service":  # one node per host, `serial: M` batches
        task = {"spineleaf.baremetal.ironic_rollout": dict({"rack": "{{ rack }}", "nodes": ["{{ inventory_hostname }}"],
                                                            "rollout_id": "bench-3.0", "poll_interval": 0.2}, **what("3.0")),
                "delegate_to": "localhost"}
        seconds, res = common.timed(common.run_playbook, lab, [play([task], hosts="all", serial=m)],
                                    inventory=os.path.join(tmp, "hosts.ini"), extra_args=["-f", str(max(5, m))])
        if res.rc != 0:
            raise RuntimeError("serial play failed:\n" + res.output[-3000:])
        return seconds
    seconds, res = common.timed(common.run_playbook, lab, [play([
        {"spineleaf.baremetal.ironic_provision": {"nodes": ["{{ inventory_hostname }}"], "image": image("3.0"),
                                                  "poll_interval": 0.2}, "delegate_to": "localhost"},
    ], hosts="all", serial=m)], inventory=os.path.join(tmp, "hosts.ini"), extra_args=["-f", str(max(5, m))])
    if res.rc != 0:
        raise RuntimeError("serial play failed:\n" + res.output[-3000:])
    return seconds


def run_role(lab, m, tmp):
    """(c): the rolling_upgrade role, racks in order, the same window."""
    seconds, res = common.timed(common.run_playbook, lab, [play([], hosts="all", roles=[{
        "role": "spineleaf.baremetal.rolling_upgrade",
        "rolling_upgrade_image": image("4.0") if MODE["mode"] == "image" else {},
        "rolling_upgrade_service_steps": STEPS if MODE["mode"] == "service" else [], "rolling_upgrade_id": "bench-4.0",
        "rolling_upgrade_max_unavailable": m, "rolling_upgrade_failure_budget": 0,
        "rolling_upgrade_poll_interval": 0.2}])], inventory=os.path.join(tmp, "hosts.ini"), extra_args=["-f", "20"])
    if res.rc != 0:
        raise RuntimeError("rolling_upgrade role failed:\n" + res.output[-3000:])
    return seconds


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--racks", type=int, default=int(os.environ.get("BENCH_ROLLOUT_RACKS", "5")))
    parser.add_argument("--per-rack", type=int, default=int(os.environ.get("BENCH_ROLLOUT_PER_RACK", "40")))
    parser.add_argument("--max-unavailable", type=int, default=4)
    parser.add_argument("--delay", default=os.environ.get("BENCH_ROLLOUT_DELAY", "1,3"))
    parser.add_argument("--mode", choices=["image", "service"], default="image")
    args = parser.parse_args(argv)
    MODE["mode"] = args.mode
    if args.mode == "service":  # the fake vendor step sleeps, deploys (building the site) do not
        os.environ["LAB_DEPLOY_DELAY"], os.environ["LAB_VENDOR_DELAY"] = "0", args.delay
    else:
        os.environ["LAB_DEPLOY_DELAY"] = args.delay
    m = args.max_unavailable
    with tempfile.TemporaryDirectory() as tmp:
        with common.fresh_lab() as lab:
            names = make_site(lab, args.racks, args.per_rack, tmp)
            t_a, results = run_window(lab, names, m, tmp)
            t_b = run_serial(lab, m, tmp)
            t_c = run_role(lab, m, tmp)
    durations = [[n["duration"] for n in r["nodes"]] for r in results]
    every = [d for rack in durations for d in rack]
    mean = sum(every) / len(every)
    ideal_sched = sum(_rollout.window_schedule(d, m)[0] for d in durations)
    ideal_issue = sum(len(d) for d in durations) / float(m) * mean
    batch_same = sum(_rollout.batch_schedule(d, m) for d in durations)
    in_module = sum(r["elapsed"] for r in results)
    upgraded = sum(1 for r in results for n in r["nodes"] if n["action"] == "upgraded")
    total = args.racks * args.per_rack
    service = args.mode == "service"
    md = ["## Rolling %s: %d racks x %d nodes, max_unavailable %d, fake %s delay %s s per step "
          "(`python bench/bench_rollout.py --racks %d --per-rack %d --max-unavailable %d%s`)" % (
              "servicing" if service else "upgrade", args.racks, args.per_rack, m, "vendor" if service else "deploy",
              args.delay, args.racks, args.per_rack, m, " --mode service" if service else ""), "",
          "| run | time | notes |", "| --- | --- | --- |",
          "| (a) ironic_rollout, racks in order, sliding window | %.1f s | %d of %d upgraded, mean node %.2f s |" % (
              t_a, upgraded, total, mean),
          "| ... of which inside ironic_rollout (sum of its `elapsed` per rack) | %.1f s | the rest: ansible-playbook and module start-up |" % in_module,
          "| (c) the rolling_upgrade role (playbook as users run it) | %.1f s | plan, gates, async call + progress per rack |" % t_c,
          "| ideal: nodes / max_unavailable x mean node time | %.1f s | |" % ideal_issue,
          "| ideal: sliding-window schedule of the measured node times | %.1f s | |" % ideal_sched,
          "| (b) Ansible `serial: %d`, one %s per host | %.1f s | |" % (
              m, "ironic_rollout (servicing one node)" if service else "ironic_provision", t_b),
          "| batches of %d over (a)'s node times, no overhead | %.1f s | what `serial` costs by waiting alone |" % (m, batch_same),
          "", "| ratio | value | goal |", "| --- | --- | --- |",
          "| (a) / ideal (nodes / M x node time) | %.2fx | <= 1.15x |" % (t_a / ideal_issue),
          "| (a) / ideal (schedule) | %.2fx | |" % (t_a / ideal_sched),
          "| (c) / ideal (nodes / M x node time) | %.2fx | |" % (t_c / ideal_issue),
          "| (b) / (a) | %s | > 1x |" % common.ratio(t_b, t_a),
          "| (b) / (c) | %s | > 1x |" % common.ratio(t_b, t_c), ""]
    markdown = "\n".join(md)
    common.write_result("rollout-service" if service else "rollout", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
