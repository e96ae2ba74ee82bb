"""What one polling round costs as the site grows: the old round (list every node of the site,
``fields=`` minimal, pages of 1,000) against the new one (``IronicAdapter.read_nodes``: the nodes
in flight only, one list per inspection state plus a GET per remaining node), both measured in
the same run on the same lab at each size, with 16 nodes in flight (ironic_inspect's default
concurrency) parked in ``inspect wait``, and the new round's worst case (16 nodes in no listed
state: a GET each).

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


def _request(url, method, path, body=None):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode() if body is not None else None,
                                 method=method, headers={"Content-Type": "application/json",
                                                         "X-OpenStack-Ironic-API-Version": "1.81"})

    def once():
        with urllib.request.urlopen(req, timeout=120) as resp:
            data = resp.read()
            return json.loads(data) if data else None
    return common.retry(once)


def create_nodes(url, start, stop, extra=None):
    """Nodes ``bp-<i>`` for i in [start, stop): raw POSTs, 4 at a time (set-up, not timed)."""
    def post(i):
        return _request(url, "POST", "/v1/nodes", {"name": "bp-%05d" % i, "driver": "fake-hardware",
                                                   "extra": extra or {}})["uuid"]
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(post, range(start, stop)))


def park_in_inspect_wait(url, ids):
    """manage, then inspect: the nodes (``extra.lab_silent``: the lab ramdisk leaves them alone)
    stay in ``inspect wait``, where ironic_inspect's nodes in flight spend their time."""
    for action, state in (("manage", "manageable"), ("inspect", "inspect wait")):
        for node_id in ids:
            _request(url, "PUT", "/v1/nodes/%s/states/provision" % node_id, {"target": action})
        while any(_request(url, "GET", "/v1/nodes/%s?fields=provision_state" % node_id)["provision_state"] != state
                  for node_id in ids):
            time.sleep(0.5)


def _timed(adapter, fn):
    reads = adapter.reads
    start = time.perf_counter()
    nodes = fn()
    return time.perf_counter() - start, adapter.reads - reads, nodes


def measure(conn, waiting, idle, rounds):
    """Median ms and calls per round of: the old round (whole-site list), the new round with the
    nodes in flight in ``inspect wait`` (``waiting``), and the new round's worst case, nodes in no
    listed state (``idle``: one GET each). Rounds alternate."""
    samples = dict(old=[], new=[], worst=[])
    adapter = IronicAdapter(conn)
    adapter.read_nodes(NODE_FIELDS, waiting)  # learns the site's size, as a poller's first round does
    for dummy in range(rounds):
        sample = _timed(adapter, lambda: dict((n["uuid"], n) for n in adapter.list_raw("nodes", fields=list(NODE_FIELDS))))
        assert all(i in sample[2] for i in waiting + idle)
        samples["old"].append(sample)
        for name, ids in (("new", waiting), ("worst", idle)):
            sample = _timed(adapter, lambda ids=ids: adapter.read_nodes(NODE_FIELDS, ids, MOVING))
            assert sorted(sample[2]) == sorted(ids)
            samples[name].append(sample)
    return dict((name, (1000 * statistics.median(s[0] for s in got), statistics.median(s[1] for s in got)))
                for name, got in samples.items())


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
        k = args.inflight
        waiting = create_nodes(url, 0, k, extra={"lab_silent": True})
        park_in_inspect_wait(url, waiting)
        ids = waiting + create_nodes(url, k, 2 * k)
        for n in sizes:
            ids += create_nodes(url, len(ids), n)
            load = os.getloadavg()[0]
            got = measure(conn, waiting, ids[k:2 * k], args.rounds)
            rows.append((n, got, load))
            print("bench poll: %d nodes: %s, load %.1f" % (n, got, load), file=sys.stderr, flush=True)
    title = "## One polling round, %d nodes in flight (`python bench/bench_poll.py --sizes %s`)" % (
        args.inflight, args.sizes)
    md = [title, "",
          "| site | whole-site list (before) | in-flight read, nodes in inspect wait (now) | before / now | "
          "worst case: no node in a listed state (one GET each) | 1-min load |",
          "| ---: | --- | --- | --- | --- | --- |"]
    for n, got, load in rows:
        md.append("| %d | %.0f ms, %d calls | %.0f ms, %d calls | %s | %.0f ms, %d calls | %.1f |" % (
            n, got["old"][0], got["old"][1], got["new"][0], got["new"][1], common.ratio(got["old"][0], got["new"][0]),
            got["worst"][0], got["worst"][1], load))
    if len(rows) > 1:
        first, last = rows[0][1], rows[-1][1]
        md += ["", "Round cost at %d vs %d nodes: before %s, now %s." % (
            rows[-1][0], rows[0][0], common.ratio(last["old"][0], first["old"][0]),
            common.ratio(last["new"][0], first["new"][0]))]
    markdown = "\n".join(md) + "\n"
    common.write_result("poll", markdown)
    return markdown


if __name__ == "__main__":
    main(sys.argv[1:])
