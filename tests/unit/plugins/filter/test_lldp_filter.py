import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.lldp import FilterModule, parse_lldp


def test_filter_registered_and_decodes():
    assert FilterModule().filters()["parse_lldp"] is parse_lldp
    assert parse_lldp([[1, "0470ea1a7328a0"], [2, "0545746865726e6574312f31"], [1, "zz"]]) == {
        "switch_chassis_id": "70:ea:1a:73:28:a0", "switch_port_id": "Ethernet1/1"}


def test_filter_rejects_non_list():
    with pytest.raises(AnsibleFilterError):
        parse_lldp("0102")
