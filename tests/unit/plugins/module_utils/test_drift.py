"""Settings drift (pure): requests, findings, the steps that correct them, the report section."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._drift import (
    check_request, drift_section, drift_steps, node_drift, node_requests, reported_bios, reported_firmware)

FW = {"bmc": {"version": "2.1.0", "url": "http://fw/bmc-2.1.0.bin"}, "bios": {"version": "1.5"}}


def test_request_values_are_text_as_ironic_keeps_them():
    bios, fw = check_request("n1", {"HyperThreading": False, "Cores": 8}, {"bmc": "2.1.0"})
    assert bios == {"HyperThreading": "Disabled", "Cores": "8"}
    assert fw == {"bmc": {"version": "2.1.0", "url": None}}


@pytest.mark.parametrize("bios, fw, text", [
    ([1], None, "bios_settings must be a dict"),
    ({"A": [1]}, None, "bios_settings.A must be a single value"),
    (None, {"bmc": {"url": "x"}}, "firmware.bmc needs a version"),
    (None, ["bmc"], "firmware must be a dict"),
])
def test_bad_requests_name_node_and_field(bios, fw, text):
    with pytest.raises(ValueError, match="node n1: %s" % text):
        check_request("n1", bios, fw)


def test_node_requests_merge_site_defaults_under_the_nodes_own():
    reqs = node_requests(["a", {"name": "b", "bios_settings": {"HT": "On"}, "clean_steps": [{"interface": "raid", "step": "x"}]}],
                         {"HT": "Off", "VT": "On"}, None, [{"interface": "deploy", "step": "erase"}])
    assert reqs[0]["bios"] == {"HT": "Off", "VT": "On"} and reqs[0]["requested"]
    assert reqs[1]["bios"] == {"HT": "On", "VT": "On"}
    assert [s["step"] for s in reqs[1]["clean_steps"]] == ["erase", "x"]
    with pytest.raises(ValueError, match="node a is listed twice"):
        node_requests(["a", "a"])
    assert node_requests(["c"])[0]["requested"] is False


def test_findings_bios_then_firmware_and_unreported_kinds():
    findings = node_drift("n1", {"HT": "Off", "VT": "On"}, FW, {"HT": "On", "VT": "On", "Other": "x"},
                          {"bmc": "1.0.0", "bios": "1.5"})
    assert [f["msg"] for f in findings] == ["BIOS HT is On, requested Off", "firmware bmc is 1.0.0, requested 2.1.0"]
    assert node_drift("n1", {"HT": "Off"}, {}, {}, None)[0]["msg"] == "BIOS HT is not reported, requested Off"
    nothing = node_drift("n1", {"HT": "Off"}, FW, None, None)
    assert [f["name"] for f in nothing] == ["*", "*"] and "no BIOS interface" in nothing[0]["msg"]
    assert node_drift("n1", {"HT": "Off"}, FW, {"HT": "Off"}, {"bmc": "2.1.0", "bios": "1.5"}) == []


def test_steps_carry_exactly_the_drift():
    findings = node_drift("n1", {"HT": "Off"}, FW, {"HT": "On"}, {"bmc": "1.0", "bios": "1.0"})
    steps, problems = drift_steps(findings, FW)
    assert steps == [{"interface": "bios", "step": "apply_configuration", "args": {"settings": [{"name": "HT", "value": "Off"}]}},
                     {"interface": "firmware", "step": "update",
                      "args": {"settings": [{"component": "bmc", "url": "http://fw/bmc-2.1.0.bin"}]}}]
    assert problems == ["firmware bios is 1.0, requested 1.5, and firmware.bios has no url to update from"]
    assert drift_steps([], FW) == ([], [])


def test_reported_lists_and_the_report_section():
    assert reported_bios([{"name": "HT", "value": "On"}]) == {"HT": "On"}
    assert reported_firmware([{"component": "bmc", "current_version": "1.0"}]) == {"bmc": "1.0"}
    drift = node_drift("n1", {"HT": "<Off>"}, {}, {"HT": "On"}, None)
    html = drift_section([{"nodes": [{"name": "n1", "rack": "r01", "drift": drift}, {"name": "n2", "drift": []}]}])
    assert "1 of 2 nodes checked drift" in html and "&lt;Off&gt;" in html and 'data-node="n1"' in html
    assert drift_section([]) == ""
