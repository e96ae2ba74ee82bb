"""Enrollment concurrency on both lab profiles: N nodes x 2 ports to `available` with
ironic_nodes at `concurrency` 1, 8 and 16, against a saturating raw openstacksdk client (many
threads, the minimal calls) measured in the same run on the same lab.

    python bench/bench_concurrency.py [--nodes 200] [--profiles default,production] [--sdk-threads 16]

The default profile is one sqlite-backed Ironic process (writes serialise); the production
profile is PostgreSQL + 2 API workers + 2 conductors (group-a, group-b; nodes alternate). Each
measurement gets a fresh lab, so every run starts from empty databases.
"""
import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 pylint: disable=wrong-import-position
import measure  # noqa: E402 pylint: disable=wrong-import-position

LEVELS = (1, 8, 16)


def node_specs(n, profile):
    specs = []
    for i in range(n):
        spec = {"name": "cc-%04d" % i, "driver": "fake-hardware",
                "driver_info": {"ipmi_address": "10.%d.%d.%d" % (i // 65536, (i // 256) % 256, i % 256)},
                "ports": [{"address": "52:54:0%d:%02x:%02x:%02x" % (p + 3, i // 65536, (i // 256) % 256, i % 256),
                           "pxe_enabled": p == 0} for p in range(2)]}
        if profile == "production":
            spec["conductor_group"] = "group-a" if i % 2 == 0 else "group-b"
        specs.append(spec)
    return specs


def run_module(lab, specs, concurrency):
    task = {"spineleaf.baremetal.ironic_nodes": {"nodes": "{{ bench_nodes }}", "target_state": "available",
                                                 "concurrency": concurrency}, "register": "r_enroll"}
    seconds, results, rss = measure.run_plays(lab, [measure.localhost_play([task])], {"bench_nodes": specs})
    summary = results["r_enroll"]["summary"]
    if summary["created"] != len(specs) or summary.get("failed"):
        raise RuntimeError("ironic_nodes: %s" % summary)
    return seconds


def _retry(fn, *args, **kwargs):
    """What a careful raw client does: retry 409 NodeLocked, 503 and sqlite's 500 "database is locked"."""
    for attempt in range(40):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            if getattr(exc, "status_code", None) not in (409, 500, 503) or attempt == 39:
                raise
            time.sleep(min(1.0, 0.05 * (attempt + 1)))
    return None


def run_sdk(lab, specs, threads, poll=0.2):
    """The floor: per node create, 2 ports, manage, wait, provide, wait; ``threads`` nodes at once."""
    conn = lab.connect()
    bm = conn.baremetal

    def wait(node_id, state):
        while True:
            node = _retry(bm.get_node, node_id, fields=["provision_state", "target_provision_state"])
            if node.provision_state == state and not node.target_provision_state:
                return
            time.sleep(poll)

    def enroll(spec):
        attrs = dict((k, spec[k]) for k in ("name", "driver", "driver_info", "conductor_group") if k in spec)
        node = _retry(bm.create_node, **attrs)
        for port in spec["ports"]:
            _retry(bm.create_port, node_id=node.id, address=port["address"], is_pxe_enabled=port["pxe_enabled"])
        _retry(bm.set_node_provision_state, node.id, "manage")
        wait(node.id, "manageable")
        _retry(bm.set_node_provision_state, node.id, "provide")
        wait(node.id, "available")

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(enroll, specs))
    return time.perf_counter() - start


def measure_profile(profile, n, sdk_threads):
    specs = node_specs(n, profile)
    times = {}
    for level in LEVELS:
        with measure.profile_lab(profile) as lab:
            times[level] = run_module(lab, specs, level)
        print("bench concurrency: %s concurrency %d: %.1f s" % (profile, level, times[level]), file=sys.stderr, flush=True)
    with measure.profile_lab(profile) as lab:
        times["sdk"] = run_sdk(lab, specs, sdk_threads)
    print("bench concurrency: %s raw SDK x%d: %.1f s" % (profile, sdk_threads, times["sdk"]), file=sys.stderr, flush=True)
    return times


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=int(os.environ.get("BENCH_CONCURRENCY_NODES", "200")))
    parser.add_argument("--profiles", default="default,production")
    parser.add_argument("--sdk-threads", type=int, default=16)
    args = parser.parse_args(argv)
    n = args.nodes
    md = ["## Enrollment concurrency: %d nodes x 2 ports to available (`python bench/bench_concurrency.py --nodes %d`)"
          % (n, n), "",
          "ironic_nodes wall time (a whole ansible-playbook run) per `concurrency`, and a raw openstacksdk client "
          "with %d threads and the minimal calls on the same lab profile." % args.sdk_threads, "",
          "| profile | c=1 | c=8 | c=16 | raw SDK x%d | speed-up c=8 / c=16 vs c=1 | best module time / raw SDK |"
          % args.sdk_threads,
          "| --- | --- | --- | --- | --- | --- | --- |"]
    for profile in args.profiles.split(","):
        t = measure_profile(profile, n, args.sdk_threads)
        best = min(t[level] for level in LEVELS)
        md.append("| %s | %.1f s | %.1f s | %.1f s | %.1f s | %s / %s | %.2fx |" % (
            profile, t[1], t[8], t[16], t["sdk"], common.ratio(t[1], t[8]), common.ratio(t[1], t[16]),
            best / t["sdk"]))
    md += ["", "Goals: production c=8 >= 1.6x faster than c=1; best module time within 1.1x of the raw SDK "
           "client on each profile.", ""]
    markdown = "\n".join(md)
    common.write_result("concurrency", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
