"""What one polling round costs as the site grows: the old round (list every node of the site,
``fields=`` minimal, pages of 1,000) against the new one (``IronicAdapter.read_nodes``: the nodes
in flight only, one list per inspection state plus a GET per remaining node), both measured in
the same run on the same lab at each size, with 16 nodes in flight (ironic_inspect's default
concurrency).

    python bench/bench_poll.py [--sizes 100,500,2000] [--rounds 10] [--inflight 16]

The site grows in place (nodes created by raw POSTs, not timed). Reported per size: median ms per
round and API calls per round of each, and the ratio.
"""
import argparse
import json
import os
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common  # noqa: E402 pylint: disable=wrong-import-position

sys.path.insert(0, os.path.join(common.REPO, ".collections"))
from ansible_collections.spineleaf.baremetal.plugins.module_utils._inspect import NODE_FIELDS  # noqa: E402
from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import IronicAdapter  # noqa: E402

MOVING = ("inspecting", "inspect wait")


def create_nodes(url, start, stop):
    """Nodes ``bp-<i>`` for i in [start, stop): raw POSTs, 4 at a time (set-up, not timed)."""
    def post(i):
        body = json.dumps({"name": "bp-%05d" % i, "driver": "fake-hardware"}).encode()
        req = urllib.request.Request(url + "/v1/nodes", data=body, method="POST", headers={
            "Content-Type": "application/json", "X-OpenStack-Ironic-API-Version": "1.81"})

        def once():
            with urllib.request.urlopen(req, timeout=120) as resp:
                return json.loads(resp.read())["uuid"]
        return common.retry(once)
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(post, range(start, stop)))


def measure(conn, ids, rounds):
    """(old ms, old calls, new ms, new calls) per round, medians, rounds alternating."""
    old_t, new_t, old_c, new_c = [], [], [], []
    adapter = IronicAdapter(conn)
    adapter.read_nodes(NODE_FIELDS, ids)  # learns the site's size, as a poller's first round does
    for _ in range(rounds):
        reads = adapter.reads
        start = time.perf_counter()
        nodes = dict((n["uuid"], n) for n in adapter.list_raw("nodes", fields=list(NODE_FIELDS)))
        old_t.append(time.perf_counter() - start)
        old_c.append(adapter.reads - reads)
        assert all(i in nodes for i in ids)
        reads = adapter.reads
        start = time.perf_counter()
        nodes = adapter.read_nodes(NODE_FIELDS, ids, MOVING)
        new_t.append(time.perf_counter() - start)
        new_c.append(adapter.reads - reads)
        assert sorted(nodes) == sorted(ids)
    return (1000 * statistics.median(old_t), statistics.median(old_c),
            1000 * statistics.median(new_t), statistics.median(new_c))


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default=os.environ.get("BENCH_POLL_SIZES", "100,500,2000"))
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--inflight", type=int, default=16)
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    rows = []
    with common.fresh_lab() as lab:
        conn = lab.connect()
        url = "http://127.0.0.1:%d" % common.BENCH_IRONIC_PORT
        ids = []
        for n in sizes:
            ids += create_nodes(url, len(ids), n)
            load = os.getloadavg()[0]
            old_ms, old_calls, new_ms, new_calls = measure(conn, ids[:args.inflight], args.rounds)
            rows.append((n, old_ms, old_calls, new_ms, new_calls, load))
            print("bench poll: %d nodes: whole-site round %.0f ms (%d calls), in-flight round %.0f ms (%d calls), "
                  "load %.1f" % (n, old_ms, old_calls, new_ms, new_calls, load), file=sys.stderr, flush=True)
    title = "## One polling round, %d nodes in flight (`python bench/bench_poll.py --sizes %s`)" % (
        args.inflight, args.sizes)
    md = [title, "",
          "| site | whole-site list (before) | in-flight read (now) | before / now | 1-min load |",
          "| ---: | --- | --- | --- | --- |"]
    for n, old_ms, old_calls, new_ms, new_calls, load in rows:
        md.append("| %d | %.0f ms, %d calls | %.0f ms, %d calls | %s | %.1f |" % (
            n, old_ms, old_calls, new_ms, new_calls, common.ratio(old_ms, new_ms), load))
    if len(rows) > 1:
        md += ["", "Round cost at %d vs %d nodes: before %s, now %s." % (
            rows[-1][0], rows[0][0], common.ratio(rows[-1][1], rows[0][1]), common.ratio(rows[-1][3], rows[0][3]))]
    markdown = "\n".join(md) + "\n"
    common.write_result("poll", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
