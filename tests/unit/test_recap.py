"""tests/recap.py, the tests' one PLAY RECAP reader, over the default callback's own output."""
import pytest

from tests.recap import changed_hosts, failed_hosts, recap

RECAP_LINES = [  # as printed, each line padded with three spaces
    "long-host-name-r03-n04     : ok=1    changed=1    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0",
    "r01-n01                    : ok=12   changed=0    unreachable=0    failed=0    skipped=3    rescued=1    ignored=2",
    "r01-n02                    : ok=1    changed=0    unreachable=1    failed=1    skipped=0    rescued=0    ignored=0",
]
OUTPUT = ("PLAY [all] *********************************************************************\n\n"
          "TASK [ansible.builtin.fail] ****************************************************\n"
          'fatal: [r01-n02]: FAILED! => {"changed": false, "msg": "ok=9 changed=9 in a message is not a recap"}\n\n'
          "PLAY RECAP *********************************************************************\n"
          + "".join(line + "   \n" for line in RECAP_LINES) + "\n")


def test_recap_counts_per_host():
    counts = recap(OUTPUT)
    assert sorted(counts) == ["long-host-name-r03-n04", "r01-n01", "r01-n02"]
    assert counts["r01-n01"] == dict(ok=12, changed=0, unreachable=0, failed=0, skipped=3, rescued=1, ignored=2)
    assert counts["r01-n02"]["failed"] == 1 and counts["r01-n02"]["unreachable"] == 1
    assert changed_hosts(OUTPUT) == ["long-host-name-r03-n04"] and failed_hosts(OUTPUT) == ["r01-n02"]


def test_only_the_last_recap_counts_and_no_recap_is_empty():
    first = OUTPUT.replace("changed=1 ", "changed=7 ")
    assert recap(first + "\n" + OUTPUT)["long-host-name-r03-n04"]["changed"] == 1
    assert recap("r01-n01 : ok=1 changed=1 unreachable=0 failed=0\n") == {}
    # an older ansible-core without skipped/rescued/ignored
    assert recap("PLAY RECAP ***\nh1 : ok=1 changed=2 unreachable=0 failed=0\n")["h1"]["changed"] == 2
    # "nothing changed" is never concluded from an output without a recap
    with pytest.raises(AssertionError, match="no PLAY RECAP"):
        changed_hosts("ERROR! the playbook could not be read")
