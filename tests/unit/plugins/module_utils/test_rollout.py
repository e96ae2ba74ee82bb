"""Failure budget, rack order and selection, sliding window vs batches."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _rollout as ro


@pytest.mark.parametrize("budget,total,want", [
    (2, 40, 2), ("2", 40, 2), ("10%", 40, 4), ("10%", 15, 1), ("0%", 40, 0), ("100%", 7, 7),
    (None, 40, ro.DEFAULT_FAILURE_BUDGET), (" 25 % ", 4, 1), (3.0, 10, 3)])
def test_failure_budget(budget, total, want):
    assert ro.failure_budget(budget, total) == want


@pytest.mark.parametrize("budget", [-1, "-1", "ten", "150%", True, 1.5, [1]])
def test_failure_budget_rejects(budget):
    with pytest.raises(ValueError):
        ro.failure_budget(budget, 10)


def test_rack_budget_message():
    verdict = ro.rack_budget("r02", 3, 40, 2)
    assert verdict["stopped"] and verdict["msg"] == "rack r02 stopped: 3 of 40 nodes failed (budget 2)"
    assert not ro.rack_budget("r02", 4, 40, "10%")["stopped"]
    assert ro.rack_budget("r01", 1, 4, 0)["stopped"]


def test_rack_order_and_selection():
    assert ro.rack_order(["r03", "r01", "r02"], index={"r01": 1, "r02": 2, "r03": 3}) == ["r01", "r02", "r03"]
    assert ro.rack_order(["r03", "r01", "r02"], order=["r02", "r09"], index={"r01": 1, "r03": 3}) == ["r02", "r01", "r03"]
    assert ro.select_racks(["r01", "r02", "r03"], "r03, r02") == ["r02", "r03"]
    assert ro.select_racks(["r01"], None) == ["r01"]
    with pytest.raises(ValueError, match="r07"):
        ro.select_racks(["r01"], ["r07"])
    assert ro.rack_waves(["a", "b", "c"], 2) == [["a", "b"], ["c"]]


def test_window_beats_batches_when_durations_vary():
    durations = [1, 5, 1, 1, 5, 1, 1, 1]
    window, starts = ro.window_schedule(durations, 2)
    assert window == 8 and starts[:3] == [0, 0, 1]
    assert ro.batch_schedule(durations, 2) == 5 + 1 + 5 + 1
    assert ro.window_schedule([], 3)[0] == 0.0
