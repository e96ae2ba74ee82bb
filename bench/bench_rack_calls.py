"""One call for every rack (the modules' ``racks`` option) against a loop over the racks (a module
process per rack, as the roles did), on a no-change re-run: what a site pays per step for module
start-ups and authentication, apart from API work.

    python bench/bench_rack_calls.py [--racks 20] [--nodes-per-rack 2] [--repeat 3]

Both forms run in the same ansible-playbook run against the same enrolled nodes (fresh lab); each
step is timed with the task's own duration (a callback-free stopwatch: one play per form)."""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import REPO, fresh_lab, ratio, run_playbook, write_result  # noqa: E402

PYTHON = os.path.join(REPO, ".venv", "bin", "python")


def node(rack, i):
    return {"name": "rc-r%02d-n%02d" % (rack, i), "driver": "fake-hardware",
            "driver_info": {"ipmi_address": "10.77.%d.%d" % (rack, i)},
            "ports": [{"address": "52:54:00:7c:%02x:%02x" % (rack, i), "pxe_enabled": True}]}


def play(tasks):
    return [{"hosts": "localhost", "gather_facts": False, "connection": "local",
             "vars": {"ansible_python_interpreter": PYTHON}, "tasks": tasks}]


def steps(racks):
    """(name, the loop's task, the one call's task) for each bulk step measured."""
    by_rack = dict(("r%02d" % r, nodes) for r, nodes in racks.items())
    names = dict((rack, [n["name"] for n in nodes]) for rack, nodes in by_rack.items())
    enroll_loop = {"spineleaf.baremetal.ironic_nodes": {"nodes": "{{ bench_racks[item] }}", "target_state": "manageable"},
                   "loop": "{{ bench_racks | list }}"}
    enroll_one = {"spineleaf.baremetal.ironic_nodes": {
        "racks": dict((rack, {"nodes": nodes}) for rack, nodes in by_rack.items()), "target_state": "manageable"}}
    tag_loop = {"spineleaf.baremetal.ironic_traits": {"nodes": "{{ bench_names[item] }}", "rules": [],
                                                      "assign": "{{ bench_assign | dict2items | selectattr('key', 'in', bench_names[item]) | items2dict }}"},
                "loop": "{{ bench_names | list }}"}
    tag_one = {"spineleaf.baremetal.ironic_traits": {
        "racks": dict((rack, {"nodes": ns, "assign": dict((n, {"traits": ["CUSTOM_BENCH"]}) for n in ns)})
                      for rack, ns in names.items()), "rules": []}}
    return [("enroll (ironic_nodes)", enroll_loop, enroll_one), ("tag (ironic_traits)", tag_loop, tag_one)], \
        {"bench_racks": by_rack, "bench_names": names,
         "bench_assign": dict((n, {"traits": ["CUSTOM_BENCH"]}) for ns in names.values() for n in ns)}


def timed_play(lab, tasks, extra_vars_file):
    start = time.perf_counter()
    res = run_playbook(lab, play(tasks), extra_args=["-e", "@" + extra_vars_file])
    seconds = time.perf_counter() - start
    if res.rc != 0:
        raise RuntimeError("playbook failed:\n" + res.output[-3000:])
    return seconds


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--racks", type=int, default=20)
    parser.add_argument("--nodes-per-rack", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    racks = dict((r, [node(r, i) for i in range(1, args.nodes_per_rack + 1)]) for r in range(1, args.racks + 1))
    table, extra = steps(racks)
    with fresh_lab() as lab, tempfile.TemporaryDirectory() as tmp:
        vars_file = os.path.join(tmp, "vars.json")
        with open(vars_file, "w") as f:
            json.dump(extra, f)
        # Set-up (untimed): every node enrolled and tagged, so each timed run changes nothing.
        timed_play(lab, [table[0][2], table[1][2]], vars_file)
        empty = timed_play(lab, [{"ansible.builtin.debug": {"msg": "nothing"}}], vars_file)
        rows = []
        for name, loop_task, one_task in table:
            loop_s, one_s = [], []
            for _round in range(args.repeat):  # interleaved, so a change of load hits both forms
                loop_s.append(timed_play(lab, [loop_task], vars_file) - empty)
                one_s.append(timed_play(lab, [one_task], vars_file) - empty)
            rows.append((name, statistics.median(loop_s), statistics.median(one_s)))
    lines = ["| step (no-change re-run, %d racks x %d nodes) | loop over the racks | one call (`racks`) | one call is |"
             % (args.racks, args.nodes_per_rack), "| --- | --- | --- | --- |"]
    for name, loop_t, one_t in rows:
        lines.append("| %s | %.1f s (%.2f s per rack) | %.1f s | %s faster |"
                     % (name, loop_t, loop_t / args.racks, one_t, ratio(loop_t, one_t)))
    load = os.getloadavg()[0]
    markdown = "\n".join(lines) + ("\n\nMedian of %d interleaved runs, an empty play's %.1f s (ansible-playbook "
                                   "start-up) subtracted; load %.1f at the end."
                                   % (args.repeat, empty, load))
    write_result("rack_calls", markdown)


if __name__ == "__main__":
    main(sys.argv[1:])
