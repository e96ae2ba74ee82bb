"""Huge and empty lists through the planners' validation (the module calls the same function before
any write): 10,000 nodes with one bad MAC are refused in well under the module's time budget, with
the node and field named."""
import time

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _enroll


def _specs(n):
    return [{"name": "h-%05d" % i, "driver": "fake-hardware",
             "ports": [{"address": "52:54:%02x:%02x:%02x:01" % (i >> 16, (i >> 8) & 255, i & 255)}]}
            for i in range(n)]


def test_ten_thousand_nodes_one_bad_mac():
    specs = _specs(10000)
    specs[9876]["ports"][0]["address"] = "52:54:00:zz:00:00"
    start = time.monotonic()
    errors = _enroll.validate(specs, [], [], [])
    assert time.monotonic() - start < 5
    assert errors == ["node h-09876: ports[0]: address '52:54:00:zz:00:00' is not a MAC address (aa:bb:cc:dd:ee:ff)"]


def test_ten_thousand_nodes_one_duplicate_mac():
    specs = _specs(10000)
    specs[9999]["ports"][0]["address"] = specs[3]["ports"][0]["address"]
    errors = _enroll.validate(specs, [], [], [])
    assert len(errors) == 1 and "node h-09999" in errors[0] and "also listed for node h-00003" in errors[0]


def test_empty_list_is_valid_and_plans_nothing():
    assert _enroll.validate([], [], [], []) == []
