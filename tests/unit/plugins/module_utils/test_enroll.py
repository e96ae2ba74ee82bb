from ansible_collections.spineleaf.baremetal.plugins.module_utils._enroll import (
    MASK, mask_driver_info, plan_delete, plan_node, secret_values, state_actions, validate)

OPTS = {"traits_mode": "add", "ports_mode": "exact", "update_password": "on_create"}


def current_node(**kw):
    d = {"uuid": "u1", "name": "n1", "driver": "ipmi", "provision_state": "manageable",
         "driver_info": {"ipmi_address": "10.0.0.1", "ipmi_password": "******"},
         "properties": {"cpu_arch": "x86_64", "memory_mb": 4096}, "extra": {}, "traits": ["CUSTOM_A"],
         "resource_class": "rc"}
    d.update(kw)
    return d


def spec(**kw):
    d = {"name": "n1", "driver": "ipmi", "driver_info": {"ipmi_address": "10.0.0.1", "ipmi_password": "pw"},
         "properties": {"cpu_arch": "x86_64"}, "traits": ["CUSTOM_A"], "ports": None, "port_groups": None}
    d.update(kw)
    return d


def test_unchanged_node_plans_no_write_and_masked_password_is_not_a_change():
    plan = plan_node(spec(), current_node(), [], [], OPTS)
    assert plan.action == "unchanged" and not plan.writes and plan.changes == []


def test_update_password_always_writes_secret():
    plan = plan_node(spec(), current_node(), [], [], dict(OPTS, update_password="always"))
    assert plan.changes == ["driver_info.ipmi_password"]
    assert plan.after["driver_info"]["ipmi_password"] == MASK


def test_properties_merge_key_by_key():
    plan = plan_node(spec(properties={"cpu_arch": "aarch64"}), current_node(), [], [], OPTS)
    assert plan.node_patch == [{"op": "add", "path": "/properties/cpu_arch", "value": "aarch64"},
                               {"op": "add", "path": "/extra/spineleaf", "value": {"enroll": {"property_keys": ["cpu_arch"]}}}]
    assert plan.after["properties"] == {"cpu_arch": "aarch64"}


def test_traits_modes():
    assert plan_node(spec(traits=["CUSTOM_B"]), current_node(), [], [], OPTS).traits == ["CUSTOM_A", "CUSTOM_B"]
    plan = plan_node(spec(traits=["CUSTOM_B"]), current_node(), [], [], dict(OPTS, traits_mode="exact"))
    assert plan.traits == ["CUSTOM_B"] and plan.changes == ["traits +CUSTOM_B -CUSTOM_A", "owner record"]


def test_ports_exact_add_update_remove():
    ports = [{"uuid": "p1", "address": "52:54:00:00:00:01", "pxe_enabled": True, "physical_network": "leaf1"},
             {"uuid": "p2", "address": "52:54:00:00:00:02", "pxe_enabled": False, "physical_network": "leaf1"}]
    want = [{"address": "52:54:00:00:00:01", "pxe_enabled": True, "physical_network": "leaf2"},
            {"address": "52:54:00:00:00:03", "pxe_enabled": False}]
    plan = plan_node(spec(ports=want), current_node(), ports, [], OPTS)
    assert plan.port_patch == [("p1", [{"op": "replace", "path": "/physical_network", "value": "leaf2"}], "52:54:00:00:00:01")]
    assert plan.port_create == [{"address": "52:54:00:00:00:03", "pxe_enabled": False}]
    assert plan.port_delete == ["p2"]
    assert plan_node(spec(ports=want), current_node(), ports, [], dict(OPTS, ports_mode="add")).port_delete == []


def test_create_plan_and_secret_helpers():
    plan = plan_node(spec(), None, [], [], OPTS)
    assert plan.action == "created" and plan.create_attrs["driver_info"]["ipmi_password"] == "pw"
    assert plan.after["driver_info"]["ipmi_password"] == MASK
    assert secret_values([spec(driver_info={"redfish_password": "x", "ssh_key_contents": "k", "user": "u"})]) == ["x", "k"]
    assert mask_driver_info({"a_secret": "s", "b": 1}) == {"a_secret": MASK, "b": 1}


def test_validate_against_ironic():
    nodes = [current_node(uuid="u9", name="other")]
    ports = [{"uuid": "p9", "address": "52:54:00:00:00:09", "node_uuid": "u9"}]
    errs = validate([spec(name="n2", ports=[{"address": "52:54:00:00:00:09"}])], nodes, ports, [])
    assert errs == ["node n2: port 52:54:00:00:00:09: MAC already belongs to node other in Ironic"]
    assert validate([spec(ports=[{"address": "52:54:00:00:00:09"}], name="other")], nodes, ports, []) == []


def test_absent_and_states():
    active = current_node(provision_state="active")
    assert "force" in validate([{"name": "n1"}], [active], [], [], state="absent")[0]
    assert validate([{"name": "n1"}], [active], [], [], state="absent", force=True) == []
    assert plan_delete({"name": "n1"}, active).force_maintenance
    assert plan_delete({"name": "n1"}, None).action == "unchanged"
    assert state_actions("enroll", "available") == ["manage", "provide"]
    assert state_actions("available", "manageable") == []
    assert state_actions("active", "available") == []


def test_created_node_then_second_plan_is_unchanged():
    """What creation writes is what the next run computes: no record key when there is nothing to
    record (it was written as null and removed by the second run), the record when there is."""
    for want in (spec(traits=None, properties=None), spec(), spec(traits=None, properties=None, extra={"k": 1})):
        plan = plan_node(want, None, [], [], dict(OPTS, site=None))
        created = dict(plan.create_attrs, uuid="u1", provision_state="enroll", traits=plan.traits or [])
        created.setdefault("extra", {})
        created.setdefault("properties", {})
        again = plan_node(want, created, [], [], dict(OPTS, site=None))
        assert again.action != "updated", (want, again.changes)
    assert "spineleaf" not in plan_node(spec(traits=None, properties=None), None, [], [], OPTS).create_attrs.get("extra", {})
