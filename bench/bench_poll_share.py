"""Many rack jobs polling one Ironic: what their polls cost the API, and what the API then answers
everyone else (the ramdisks' callbacks, the operator). The 2,000-node site run (#25) stalled in
inspection: 50 rack jobs each listed the ~800 nodes in ``inspect wait`` ten times a second.

    python bench/bench_poll_share.py [--site 2000] [--jobs 50] [--inflight 16] [--seconds 30]

A site of ``--site`` nodes (raw POSTs, not timed), ``--jobs`` x ``--inflight`` of them parked in
``inspect wait`` (the lab ramdisk leaves them alone). Then, for each way of polling, ``--jobs``
processes (as rack_jobs' async jobs are) each poll their own ``--inflight`` nodes for
``--seconds`` with ``IronicAdapter.read_nodes`` as the inspection window does, while this process
times a GET of one other node every 0.25 s (what a callback waits for an API worker). The ways:

- ``before``: each job lists on its own, every 0.1 s (the inspection window until this round);
- ``back-off``: each job on its own, 0.1 s growing to 1 s while nothing finishes;
- ``share``: one share for the jobs (``shared_poll_dir``, as rack_jobs sets it), every 0.1 s;
- ``now``: the share and the back-off (the defaults of ironic_inspect under rack_jobs).

Reported per way: API reads per second by the jobs, nodes listed per second, the probe's median and
90th percentile, and the 1-minute load; ratios of ``before`` to ``now``.
"""
import argparse
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 pylint: disable=wrong-import-position
from bench_poll import MOVING, create_nodes, park_in_inspect_wait  # noqa: E402 pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(common.REPO, ".collections"))
from ansible_collections.spineleaf.baremetal.plugins.module_utils._inspect import NODE_FIELDS  # noqa: E402
from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import IronicAdapter  # noqa: E402
from ansible_collections.spineleaf.baremetal.plugins.module_utils._poll_share import PollShare  # noqa: E402
from ansible_collections.spineleaf.baremetal.plugins.module_utils._window import poll  # noqa: E402
from lab.harness import _connect  # noqa: E402 pylint: disable=wrong-import-position

WAYS = (("before", False, 1.0), ("back-off", False, 10.0), ("share", True, 1.0), ("now", True, 10.0))
POLL = 0.1


def _job(clouds_yaml, ids, share_dir, growth, go, stop_at, out):
    """One rack job: its nodes in flight, polled as the inspection window polls them."""
    adapter = IronicAdapter(_connect(clouds_yaml), poll_share=PollShare.open(share_dir) if share_dir else None)
    adapter.read_nodes(NODE_FIELDS, ids)  # the first round learns the site's size (not counted)
    reads, listed = adapter.reads, [0]
    go.wait()

    def settle(nodes):
        assert len(nodes) == len(ids), "a node in flight is missing"
        return time.time() >= stop_at.value
    real_list = adapter.list_raw

    def counted_list(collection, fields=None, **params):
        items = real_list(collection, fields=fields, **params)
        listed[0] += len(items)
        return items
    adapter.list_raw = counted_list
    poll(lambda: adapter.read_nodes(NODE_FIELDS, ids, MOVING), settle, POLL, max_interval=POLL * growth)
    out.put(dict(reads=adapter.reads - reads, listed=listed[0]))


def _probe(url, node_id):
    start = time.perf_counter()
    req = urllib.request.Request(url + "/v1/nodes/%s?fields=uuid,provision_state" % node_id,
                                 headers={"X-OpenStack-Ironic-API-Version": "1.81"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        resp.read()
    return time.perf_counter() - start


def run_way(lab, url, racks, other, seconds, shared, growth):
    ctx = multiprocessing.get_context("fork")
    go, out = ctx.Event(), ctx.Queue()
    stop_at = ctx.Value("d", 0.0)
    share_dir = tempfile.mkdtemp(prefix="bench-poll-share-") if shared else None
    procs = [ctx.Process(target=_job, args=(lab.clouds_yaml, ids, share_dir and os.path.join(share_dir, "poll"),
                                            growth, go, stop_at, out)) for ids in racks]
    for p in procs:
        p.start()
    time.sleep(2 + 0.2 * len(procs))  # every job connected and did its first round
    stop_at.value = time.time() + seconds
    go.set()
    probes = []
    while time.time() < stop_at.value:
        probes.append(_probe(url, other))
        time.sleep(0.25)
    load = os.getloadavg()[0]
    results = [out.get(timeout=600) for dummy in procs]
    for p in procs:
        p.join()
    if share_dir:
        shutil.rmtree(share_dir, ignore_errors=True)
    probes.sort()
    return dict(reads=sum(r["reads"] for r in results) / seconds, listed=sum(r["listed"] for r in results) / seconds,
                p50=1000 * statistics.median(probes), p90=1000 * probes[int(0.9 * (len(probes) - 1))], load=load,
                probes=len(probes))


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--inflight", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    parked = args.jobs * args.inflight
    if parked >= args.site:
        parser.error("--jobs x --inflight (%d) must be fewer than --site (%d)" % (parked, args.site))
    rows = []
    with common.fresh_lab() as lab:
        url = "http://127.0.0.1:%d" % common.BENCH_IRONIC_PORT
        waiting = create_nodes(url, 0, parked, extra={"lab_silent": True})
        park_in_inspect_wait(url, waiting)
        others = create_nodes(url, parked, args.site)
        racks = [waiting[i * args.inflight:(i + 1) * args.inflight] for i in range(args.jobs)]
        for name, shared, growth in WAYS:
            got = run_way(lab, url, racks, others[0], args.seconds, shared, growth)
            rows.append((name, got))
            print("bench poll share: %s: %s" % (name, got), file=sys.stderr, flush=True)
    title = ("## %d rack jobs polling one Ironic, %d nodes each in `inspect wait`, %d-node site "
             "(`python bench/bench_poll_share.py --site %d --jobs %d --inflight %d --seconds %g`)" % (
                 args.jobs, args.inflight, args.site, args.site, args.jobs, args.inflight, args.seconds))
    md = [title, "",
          "| way of polling | API reads/s by the jobs | nodes listed/s | a GET of another node: median | 90th pct | 1-min load |",
          "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, got in rows:
        md.append("| %s | %.1f | %.0f | %.0f ms | %.0f ms | %.1f |" % (
            name, got["reads"], got["listed"], got["p50"], got["p90"], got["load"]))
    before, now = rows[0][1], rows[-1][1]
    md += ["", "before / now: API reads %s, nodes listed %s, the other GET's median %s, its 90th percentile %s." % (
        common.ratio(before["reads"], now["reads"]), common.ratio(before["listed"], now["listed"]),
        common.ratio(before["p50"], now["p50"]), common.ratio(before["p90"], now["p90"]))]
    markdown = "\n".join(md) + "\n"
    common.write_result("poll_share", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
