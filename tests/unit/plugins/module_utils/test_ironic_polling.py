"""The pollers read what is in flight, not the site: the real adapter over a fake Bare Metal HTTP
API of 2,000 nodes that counts every request."""
import urllib.parse

from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import InspectionRunner, IronicAdapter
from tests.unit.fakes import FakeConn

SITE = 2000
PAGE = 1000


class Response:
    def __init__(self, status_code, body):
        self.status_code = status_code
        self._body = body
        self.headers = {}

    def json(self):
        return self._body


class FakeApi:
    """GET /nodes (fields, provision_state filter, limit/marker pages of 1,000) and GET /nodes/<id>;
    a node in "inspect wait" finishes (manageable, new inspection_finished_at) once it has been read
    in that state, as a ramdisk would answer between two polls."""

    def __init__(self, n=SITE):
        self.nodes = dict(("u%04d" % i, dict(uuid="u%04d" % i, name="n%04d" % i, provision_state="manageable",
                                             target_provision_state=None, maintenance=False, last_error=None,
                                             inspection_finished_at=None, extra={}))
                          for i in range(n))
        self.calls = []  # (kind, rows)

    def _view(self, node, fields):
        out = dict((f, node.get(f)) for f in fields)
        if node["provision_state"] == "inspect wait":
            node["_seen_waiting"] = True
        return out

    def get(self, url, params=None, microversion=None):
        path, dummy, query = url.partition("?")
        params = dict(params or {}, **dict(urllib.parse.parse_qsl(query)))
        fields = params["fields"].split(",")
        if path.startswith("/nodes/"):
            node = self.nodes.get(path.split("/")[2])
            self.calls.append(("get", 1))
            if node is None:
                return Response(404, {})
            return Response(200, self._view(node, fields))
        items = sorted(self.nodes.values(), key=lambda n: n["uuid"])
        if "provision_state" in params:
            items = [n for n in items if n["provision_state"] == params["provision_state"]]
        if "marker" in params:
            items = [n for n in items if n["uuid"] > params["marker"]]
        page = items[:PAGE]
        self.calls.append(("list-%s" % params.get("provision_state", "all"), len(page)))
        body = {"nodes": [self._view(n, fields) for n in page]}
        if len(items) > PAGE:
            body["next"] = "http://ironic/v1/nodes?%s" % urllib.parse.urlencode(dict(
                (k, v) for k, v in dict(params, marker=page[-1]["uuid"], limit=PAGE).items()))
        return Response(200, body)

    def put(self, url, json=None, microversion=None):
        node_id, action = url.split("/")[2], json["target"]
        self.calls.append(("put", 0))
        node = self.nodes[node_id]
        if action == "inspect":
            node.update(provision_state="inspect wait", _seen_waiting=False)
        elif action == "manage":
            node.update(provision_state="manageable")
        elif action == "provide":
            node.update(provision_state="cleaning")
        return Response(202, {})

    def tick(self):
        """What the server did between two polls."""
        for node in self.nodes.values():
            if node["provision_state"] == "inspect wait" and node.get("_seen_waiting"):
                node.update(provision_state="manageable", inspection_finished_at="2026-11-26T00:00:%s" % node["uuid"])
            elif node["provision_state"] == "cleaning":
                node.update(provision_state="available")


def adapter(api, **kw):
    a = IronicAdapter(FakeConn(api), sleep=lambda s: api.tick(), **kw)
    a._microversion = "1.81"  # no version discovery against the fake
    return a


def whole_site_lists(api):
    return sum(1 for kind, rows in api.calls if kind == "list-all" and rows == PAGE)


def test_read_nodes_lists_the_site_once_then_reads_only_the_nodes_in_flight():
    api = FakeApi()
    a = adapter(api)
    ids = ["u%04d" % i for i in range(16)]
    first = a.read_nodes(["provision_state"], ids)
    assert sorted(first) == ids and api.calls == [("list-all", 1000), ("list-all", 1000)]
    api.calls[:] = []
    api.nodes["u0003"]["provision_state"] = "inspect wait"
    again = a.read_nodes(["provision_state"], ids + ["gone"], moving_states=("inspect wait",))
    assert sorted(again) == ids and again["u0003"]["provision_state"] == "inspect wait"
    # one filtered list, then a GET for each other node (u0003 came in the list), the gone one included
    assert api.calls[0] == ("list-inspect wait", 1)
    assert sorted(api.calls[1:]) == [("get", 1)] * 16
    assert a.reads == 2 + 1 + 16


def test_read_nodes_lists_the_site_when_the_nodes_are_a_large_share_of_it():
    api = FakeApi(n=100)
    a = adapter(api)
    a.read_nodes(["provision_state"], ["u0001"])  # learns the site's size
    api.calls[:] = []
    # 16 GETs would cost the API more than one list of 100 nodes
    assert len(a.read_nodes(["provision_state"], ["u%04d" % i for i in range(16)])) == 16
    assert api.calls == [("list-all", 100)]


def test_inspection_of_a_few_nodes_in_a_large_site_does_not_list_the_site_each_round():
    api = FakeApi()
    a = adapter(api)
    items = [dict(uuid="u%04d" % i, name="n%04d" % i, state="manageable") for i in range(40)]
    done = InspectionRunner(a, concurrency=16, sleep=lambda s: api.tick()).run(items)
    assert sorted(r["result"] for r in done) == ["inspected"] * 40
    assert whole_site_lists(api) == 2  # the first round only (two pages)
    assert api.calls.count(("put", 0)) == 40
    listed = sum(rows for kind, rows in api.calls)
    assert listed < 2 * SITE + 40 * 6, api.calls  # a few reads per node beyond that one list


def test_wait_for_states_narrows_from_a_site_list_to_the_stragglers():
    api = FakeApi()
    a = adapter(api)
    ids = sorted(api.nodes)
    for node_id in ids:
        a.set_provision_state(node_id, "provide")
    slow = ids[:5]
    for node_id in slow:
        api.nodes[node_id]["provision_state"] = "verifying"  # not one tick() moves on
    rounds = []
    orig = api.tick

    def tick():
        rounds.append(len(api.calls))
        orig()
        if len(rounds) == 4:
            for node_id in slow:
                api.nodes[node_id]["provision_state"] = "available"
    api.tick = tick
    done = a.wait_for_states(ids, ["available"], poll=0.01, max_poll=0.01)
    assert done == dict((node_id, ("available", None)) for node_id in ids)
    assert whole_site_lists(api) == 4  # two rounds of two pages while all are pending
    assert api.calls.count(("put", 0)) == SITE  # one PUT per action, no read-back
    assert api.calls[-5:] == [("get", 1)] * 5  # then only the five stragglers, one GET each


def test_a_read_on_a_connection_the_server_dropped_is_retried():
    from keystoneauth1 import exceptions as ksa_exc
    api = FakeApi(n=3)
    real_get = api.get
    drops = [1]

    def get(url, params=None, microversion=None):
        if drops[0]:
            drops[0] -= 1
            raise ksa_exc.ConnectFailure("Remote end closed connection without response")
        return real_get(url, params=params, microversion=microversion)
    api.get = get
    a = adapter(api)
    assert a._get_node_raw("u0001", ["uuid", "provision_state"])["uuid"] == "u0001"
    drops[0] = 1
    assert len(a.list_raw("nodes", fields=["uuid"])) == 3


def test_nodes_in_transit_come_from_the_state_lists_and_the_rest_from_the_cheaper_read():
    api = FakeApi(n=500)
    a = adapter(api)
    ids = ["u%04d" % i for i in range(16)]
    a.read_nodes(["provision_state"], ids)
    for node_id in ids:
        api.nodes[node_id]["provision_state"] = "inspect wait"
    api.calls[:] = []
    assert len(a.read_nodes(["provision_state"], ids, moving_states=("inspecting", "inspect wait"))) == 16
    assert api.calls == [("list-inspecting", 0), ("list-inspect wait", 16)]
    # none in transit: 16 GETs would cost more than one list of 500 nodes
    for node_id in ids:
        api.nodes[node_id]["provision_state"] = "manageable"
    api.calls[:] = []
    assert len(a.read_nodes(["provision_state"], ids, moving_states=("inspecting", "inspect wait"))) == 16
    assert api.calls == [("list-inspecting", 0), ("list-inspect wait", 0), ("list-all", 500)]


# ------------------------------------------------------------------ one poller for the rack jobs
class ShareClock:
    """The share's wall clock, moved on by hand."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def share(tmp_path, clock, **kw):
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._poll_share import PollShare
    return PollShare.open(str(tmp_path / "poll"), clock=clock, **kw)


def rack_job(api, tmp_path, clock):
    api.get_endpoint = lambda: "http://ironic/v1"
    return adapter(api, poll_share=share(tmp_path, clock))


def test_fifty_rack_jobs_with_a_share_list_the_nodes_in_transit_once_per_round(tmp_path):
    api = FakeApi()
    clock = ShareClock()
    jobs = [rack_job(api, tmp_path, clock) for dummy in range(50)]
    racks = [["u%04d" % (r * 40 + i) for i in range(16)] for r in range(50)]
    for node_id in sum(racks, []):
        api.nodes[node_id]["provision_state"] = "inspect wait"
    for job, ids in zip(jobs, racks):
        job.list_nodes(["uuid", "provision_state"])  # each job's plan: the site, listed once for all
    assert whole_site_lists(api) == 2  # one list of two pages
    api.calls[:] = []
    for job, ids in zip(jobs, racks):
        got = job.read_nodes(["provision_state"], ids, moving_states=("inspecting", "inspect wait"))
        assert sorted(got) == ids and all(n["provision_state"] == "inspect wait" for n in got.values())
    # 800 nodes in "inspect wait" across the racks: one list of each state for all 50 jobs, no GET
    assert api.calls == [("list-inspecting", 0), ("list-inspect wait", 800)]
    assert sum(job.poll_share.fetched for job in jobs) == 3 and jobs[1].poll_share.shared == 3
    # the copy grows old: the next round lists again, once
    clock.t += 0.6
    api.calls[:] = []
    for job, ids in zip(jobs, racks):
        job.read_nodes(["provision_state"], ids, moving_states=("inspecting", "inspect wait"))
    assert api.calls == [("list-inspecting", 0), ("list-inspect wait", 800)]


def test_a_node_a_job_moved_after_the_shared_list_was_read_is_read_again_on_its_own(tmp_path):
    api = FakeApi(n=400)
    clock = ShareClock()
    first, second = rack_job(api, tmp_path, clock), rack_job(api, tmp_path, clock)
    ids = ["u%04d" % i for i in range(4)]
    for job in (first, second):
        job.read_nodes(["provision_state"], ids)  # learns the site's size (shared list)
    for node_id in ids:
        api.nodes[node_id]["provision_state"] = "inspect wait"
    first.read_nodes(["provision_state"], ids, moving_states=("inspect wait",))  # the shared list: 4 waiting
    clock.t += 0.1
    second.set_provision_state("u0001", "manage")  # manageable now; the shared copy still says waiting
    api.calls[:] = []
    got = second.read_nodes(["provision_state"], ids, moving_states=("inspect wait",))
    assert got["u0001"]["provision_state"] == "manageable"
    assert got["u0002"]["provision_state"] == "inspect wait"
    assert api.calls == [("get", 1)]  # the list came from the share; only the moved node was read


def test_parallel_jobs_wait_for_one_list_rather_than_each_making_their_own(tmp_path):
    import threading
    import time
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._poll_share import PollShare
    fetched = []

    def fetch():
        fetched.append(1)
        time.sleep(0.2)
        return ["the list"]
    shares = [PollShare.open(str(tmp_path / "poll")) for dummy in range(8)]
    got = []
    threads = [threading.Thread(target=lambda s=s: got.append(s.get(s.key("k"), fetch))) for s in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fetched) == 1 and [value for started, value in got] == [["the list"]] * 8


def test_a_broken_share_file_is_read_again_from_the_api(tmp_path):
    clock = ShareClock()
    s = share(tmp_path, clock)
    key = s.key("k")
    (tmp_path / "poll" / ("poll-%s.json" % key)).write_text("{not json")
    assert s.get(key, lambda: [1, 2]) == (1000.0, [1, 2])
    assert share(tmp_path, clock).get(key, lambda: [3]) == (1000.0, [1, 2])  # fresh: shared


def test_a_share_whose_directory_went_away_reads_on_its_own(tmp_path):
    import shutil
    clock = ShareClock()
    s = share(tmp_path, clock)
    shutil.rmtree(str(tmp_path / "poll"))
    assert s.get(s.key("k"), lambda: [1]) == (1000.0, [1]) and s.fetched == 1
