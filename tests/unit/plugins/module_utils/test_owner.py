"""The owner record shared by enrollment and tagging (_owner), and the two planners over it:
role / rack changes converge in one enroll + tag pass and the next pass writes nothing, in every
combination of enroll traits_mode and tag mode."""
import copy

import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _enroll, _owner, _tagging

OPTS = {"traits_mode": "add", "ports_mode": "exact", "update_password": "on_create", "site": "lab"}


# ---------------------------------------------------------------- a tiny Ironic stand-in for pure planning
def apply_ops(node, ops):
    """Apply the planners' JSON-patch ops (add / replace / remove of /field or /field/key)."""
    for op in ops:
        parts = [p.replace('~1', '/').replace('~0', '~') for p in op['path'].split('/')[1:]]
        target = node
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        if op['op'] == 'remove':
            del target[parts[-1]]
        else:
            target[parts[-1]] = copy.deepcopy(op['value'])


def enroll(node, spec, mode):
    """One enrollment pass on node (None: create). Returns (node, write count)."""
    plan = _enroll.plan_node(spec, node, [], [], dict(OPTS, traits_mode=mode))
    writes = 0
    if plan.create_attrs:
        node = dict(uuid='u-' + spec['name'], provision_state='enroll', traits=[], properties={}, extra={})
        node.update(copy.deepcopy(plan.create_attrs))
        writes += 1
    if plan.node_patch:
        apply_ops(node, plan.node_patch)
        writes += 1
    if plan.traits is not None:
        node['traits'] = list(plan.traits)
        writes += 1
    return node, writes


def tag(node, assign, rules, mode):
    compiled, errors = _tagging.compile_rules(rules)
    assert not errors
    assignment, errors = _tagging.compile_assign({node['name']: assign})
    assert not errors
    plan = _tagging.plan_node(node, _tagging.node_document(node), compiled, assignment[node['name']], mode)
    writes = 0
    if plan.traits_changed:
        node['traits'] = list(plan.traits_after)
        writes += 1
    if plan.patch():
        apply_ops(node, plan.patch())
        writes += 1
    return node, writes


def site_spec(role, rack='r01', extra=None, traits=()):
    return {"name": "n1", "driver": "fake-hardware", "driver_info": {}, "traits":
            sorted(set(['CUSTOM_RACK_' + rack.upper(), 'CUSTOM_ROLE_' + role.upper()] + list(traits))),
            "extra": dict(extra or {}, rack=rack, role=role), "properties": {}, "ports": None, "port_groups": None}


def site_pass(node, role, enroll_mode, tag_mode, rack='r01', extra=None, rule_traits=('CUSTOM_TRUTH',)):
    node, w1 = enroll(node, site_spec(role, rack, extra), enroll_mode)
    assign = {'traits': ['CUSTOM_RACK_' + rack.upper(), 'CUSTOM_ROLE_' + role.upper()]}
    rules = [{'name': 'all', 'traits_add': list(rule_traits)}] if rule_traits else []
    node, w2 = tag(node, assign, rules, tag_mode)
    return node, w1 + w2


MODES = [(e, t) for e in ('add', 'exact') for t in ('add', 'exact')]


@pytest.mark.parametrize('enroll_mode, tag_mode', MODES)
def test_role_and_rack_change_converge_in_one_pass_then_no_writes(enroll_mode, tag_mode):
    node, writes = site_pass(None, 'compute', enroll_mode, tag_mode)
    node, writes = site_pass(node, 'compute', enroll_mode, tag_mode)
    assert writes == 0, node
    node['traits'].append('CUSTOM_OTHER_TOOL')  # somebody else's trait
    node, writes = site_pass(node, 'storage', enroll_mode, tag_mode, rack='r02')
    want = {'CUSTOM_RACK_R02', 'CUSTOM_ROLE_STORAGE', 'CUSTOM_TRUTH'}
    if enroll_mode == 'add':
        want.add('CUSTOM_OTHER_TOOL')  # exact enrollment removes traits no step of the collection claims
    assert set(node['traits']) == want, node
    assert node['extra']['role'] == 'storage' and node['extra']['rack'] == 'r02'
    node, writes = site_pass(node, 'storage', enroll_mode, tag_mode, rack='r02')
    assert writes == 0, node
    assert set(node['traits']) == want


@pytest.mark.parametrize('enroll_mode, tag_mode', MODES)
def test_a_key_deleted_from_the_inventory_extra_is_removed(enroll_mode, tag_mode):
    node, _w = site_pass(None, 'compute', enroll_mode, tag_mode, extra={'owner_team': 'a', 'asset': 7})
    node['extra']['foreign'] = 1
    node, _w = site_pass(node, 'compute', enroll_mode, tag_mode, extra={'asset': 7})
    assert 'owner_team' not in node['extra'] and node['extra']['asset'] == 7 and node['extra']['foreign'] == 1
    node, writes = site_pass(node, 'compute', enroll_mode, tag_mode, extra={'asset': 7})
    assert writes == 0


def test_a_rule_trait_no_longer_matching_is_removed_by_tag_exact_and_kept_by_tag_add():
    for tag_mode, kept in (('exact', False), ('add', True)):
        node, _w = site_pass(None, 'compute', 'add', tag_mode)
        node, _w = site_pass(node, 'compute', 'add', tag_mode, rule_traits=())
        assert ('CUSTOM_TRUTH' in node['traits']) is kept
        node, writes = site_pass(node, 'compute', 'add', tag_mode, rule_traits=())
        assert writes == 0


def test_enroll_exact_keeps_tagging_traits_and_removes_unclaimed_ones():
    node = {"uuid": "u1", "name": "n1", "driver": "fake-hardware", "provision_state": "manageable",
            "traits": ["CUSTOM_RACK_R01", "CUSTOM_GPU", "CUSTOM_STRAY"], "properties": {}, "driver_info": {},
            "extra": {_owner.OWNER_KEY: {"tag": {"traits": ["CUSTOM_GPU"]}, "enroll": {"traits": ["CUSTOM_RACK_R01"]}}}}
    plan = _enroll.plan_node({"name": "n1", "traits": ["CUSTOM_RACK_R01"]}, node, [], [], dict(OPTS, traits_mode="exact"))
    assert plan.traits == ["CUSTOM_GPU", "CUSTOM_RACK_R01"]
    add = _enroll.plan_node({"name": "n1", "traits": ["CUSTOM_RACK_R01"]}, node, [], [], OPTS)
    assert add.traits is None  # nothing to remove in add mode; only the site joins the record
    assert add.node_patch[-1]["value"]["site"] == "lab"


def test_enrollment_reads_what_older_releases_set():
    """No record yet: the rack / role traits and keys derived from extra.rack / extra.role are
    enrollment's, and tagging's old spineleaf_traits list is tagging's; one write migrates both."""
    node = {"uuid": "u1", "name": "n1", "driver": "fake-hardware", "provision_state": "manageable",
            "traits": ["CUSTOM_RACK_R01", "CUSTOM_ROLE_COMPUTE", "CUSTOM_TRUTH", "CUSTOM_MINE"],
            "properties": {}, "driver_info": {},
            "extra": {"rack": "r01", "role": "compute", "spineleaf_traits": ["CUSTOM_TRUTH"]}}
    plan = _enroll.plan_node(site_spec('storage'), node, [], [], OPTS)
    assert plan.traits == ["CUSTOM_MINE", "CUSTOM_RACK_R01", "CUSTOM_ROLE_STORAGE", "CUSTOM_TRUTH"]
    assert {"op": "remove", "path": "/extra/spineleaf_traits"} in plan.node_patch
    stored = [op["value"] for op in plan.node_patch if op["path"] == "/extra/spineleaf"][0]
    assert stored == {"site": "lab", "enroll": {"traits": ["CUSTOM_RACK_R01", "CUSTOM_ROLE_STORAGE"],
                                                "extra_keys": ["rack", "role"]},
                      "tag": {"traits": ["CUSTOM_TRUTH"]}}


def test_foreign_values_already_there_are_not_claimed():
    node = {"uuid": "u1", "name": "n1", "traits": ["CUSTOM_X"], "extra": {"k": 1}, "properties": {}}
    after, claims = _owner.plan_traits(node["traits"], ["CUSTOM_X"], _owner.read_record(node), "enroll", "owned")
    assert after == ["CUSTOM_X"] and claims == []
    changes, keys = _owner.plan_keys(node["extra"], {"k": 1}, _owner.read_record(node), "enroll", "extra_keys")
    assert changes == {} and keys == []
    changes, keys = _owner.plan_keys(node["extra"], {"k": 2}, _owner.read_record(node), "enroll", "extra_keys")
    assert changes == {"k": 2} and keys == ["k"]


def test_reserved_extra_keys_are_refused_before_any_write():
    errors = _enroll.validate([{"name": "n1", "driver": "fake-hardware", "extra": {"spineleaf": {}}}], [], [], [])
    assert errors == ["node n1: extra.spineleaf is reserved for the owner record of this collection"]


def test_stored_form_is_stable_and_empty_record_is_removed():
    rec = _owner.with_section(_owner.read_record({}), "tag", traits=["B", "A", "A"])
    assert _owner.stored_form(rec) == {"tag": {"traits": ["A", "B"]}}
    node = {"extra": {_owner.OWNER_KEY: {"tag": {"traits": ["A", "B"]}}}}
    assert _owner.record_ops(node, rec) == []
    assert _owner.record_ops(node, _owner.read_record({})) == [{"op": "remove", "path": "/extra/spineleaf"}]


# ---------------------------------------------------------------- orphans
def owned(name, site, state="manageable"):
    return {"uuid": "u-" + name, "name": name, "provision_state": state,
            "extra": {_owner.OWNER_KEY: {"site": site}} if site else {}}


def test_orphans_are_this_sites_nodes_missing_from_the_inventory():
    nodes = [owned("a", "lab"), owned("gone", "lab"), owned("other", "dc2"), owned("nobody", None),
             owned("gone-active", "lab", "active")]
    assert [n["name"] for n in _owner.find_orphans(nodes, "lab", ["a"])] == ["gone", "gone-active"]
    assert _owner.find_orphans(nodes, None, ["a"]) == []


@pytest.mark.parametrize("state, force, action", [
    ("manageable", False, "deleted"), ("available", False, "deleted"), ("inspect failed", False, "deleted"),
    ("active", False, "refused"), ("deploying", False, "refused"), ("inspecting", False, "refused"),
    ("clean wait", False, "refused"), ("active", True, "deleted")])
def test_prune_decision(state, force, action):
    got, why = _owner.prune_decision({"provision_state": state}, force)
    assert got == action
    assert (why is not None) == (action == "refused")
    if why:
        assert state in why and "force" in why
