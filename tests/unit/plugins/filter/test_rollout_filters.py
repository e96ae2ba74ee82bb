"""The rollout filters wrap _rollout and raise AnsibleFilterError with the bad value named."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.rollout import FilterModule

F = FilterModule().filters()


def test_failure_budget_filter():
    assert F["failure_budget"]("10%", 40) == 4
    with pytest.raises(AnsibleFilterError, match="ten"):
        F["failure_budget"]("ten", 40)


def test_rack_budget_filter():
    assert F["rack_budget"](3, 40, 2, "r02")["msg"] == "rack r02 stopped: 3 of 40 nodes failed (budget 2)"


def test_rollout_racks_filter():
    assert F["rollout_racks"](["r03", "r01", "r02"], [], {"r01": 1, "r02": 2, "r03": 3}, "r03,r01") == ["r01", "r03"]
    with pytest.raises(AnsibleFilterError, match="r09"):
        F["rollout_racks"](["r01"], None, None, "r09")
