

def test_node_entry_finds_the_node_or_fails_it_with_its_racks_message():
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._outcome import node_entry
    results = [{"rack": "r01", "nodes": [{"name": "a", "action": "upgraded", "failed": False}]},
               {"rack": "r02", "msg": "async task did not complete within the requested time"}]
    assert node_entry(results, "a") == {"name": "a", "action": "upgraded", "failed": False}
    got = node_entry(results, "b", "rack r02: no result from the rollout", rack="r02", rack_key="rack")
    assert got["failed"] and got["action"] == "failed"
    assert got["msg"] == "rack r02: no result from the rollout (async task did not complete within the requested time)"
    nested = [{"rolling_upgrade_rack": {"key": "r03"}, "msg": "boom"}]
    assert node_entry(nested, "c", "x", rack="r03", rack_key="rolling_upgrade_rack.key")["msg"] == "x (boom)"
    assert node_entry({"nodes": []}, "d")["msg"] == "no result"
