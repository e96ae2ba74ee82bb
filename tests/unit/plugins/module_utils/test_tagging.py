"""Pure rule planning for ironic_traits: validation, documents, selection, trait ownership."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils import _tagging as t
from ansible_collections.spineleaf.baremetal.plugins.module_utils._traits import trait_error, trait_name


def node(name='n1', traits=(), extra=None, properties=None, resource_class=None, **fields):
    data = dict(uuid='uuid-' + name, name=name, traits=list(traits), extra=dict(extra or {}),
                properties=dict(properties or {}), resource_class=resource_class, driver='fake-hardware',
                provision_state='manageable')
    data.update(fields)
    return data


def inventory(memory_mb=65536, arch='x86_64', speeds=(25000, 25000)):
    return {'inventory': {'memory': {'physical_mb': memory_mb}, 'cpu': {'architecture': arch},
                          'interfaces': [{'name': 'eth%d' % i, 'speed_mbps': s} for i, s in enumerate(speeds)]},
            'plugin_data': {'parsed_lldp': {}}}


def rules(*raw):
    compiled, errors = t.compile_rules(list(raw))
    assert errors == []
    return compiled


def plan(n, rule_list, assignment=None, mode='add', inspection=None, facts=None, ports=None):
    doc = t.node_document(n, ports, inspection, facts)
    return t.plan_node(n, doc, rule_list, assignment, mode)


SITE_RULES = [
    {'name': 'big-mem', 'when': 'inventory.memory.physical_mb >= `131072`', 'traits_add': ['CUSTOM_MEM_128G']},
    {'name': 'arm', 'when': "inventory.cpu.architecture == 'aarch64'", 'traits_add': ['CUSTOM_CPU_ARM64'],
     'properties': {'cpu_arch': 'aarch64'}},
    {'name': 'fast-nic', 'when': 'max(inventory.interfaces[].speed_mbps) >= `100000`',
     'traits_add': ['CUSTOM_NIC_100G']},
]


# ---------------------------------------------------------------- validation
def test_valid_rules_compile():
    compiled, errors = t.compile_rules(SITE_RULES)
    assert errors == []
    assert [r.name for r in compiled] == ['big-mem', 'arm', 'fast-nic']


def test_bad_jmespath_names_the_rule():
    _rules, errors = t.compile_rules([{'name': 'broken', 'when': 'inventory.memory.physical_mb >=', 'traits_add': []}])
    assert len(errors) == 1
    assert "rule 'broken'" in errors[0] and 'invalid JMESPath' in errors[0]


def test_unknown_function_is_caught_before_evaluation():
    _rules, errors = t.compile_rules([{'name': 'typo', 'when': 'lenght(ports) > `1`'}])
    assert errors and "rule 'typo'" in errors[0] and 'unknown function lenght()' in errors[0]


@pytest.mark.parametrize('trait', ['CUSTOM_lower', 'custom_x', 'CUSTOM_', 'CUSTOM_A-B', 'X' * 10, '',
                                   'CUSTOM_' + 'A' * 249])
def test_bad_trait_names_name_the_rule(trait):
    _rules, errors = t.compile_rules([{'name': 'r1', 'traits_add': [trait]}])
    assert errors and "rule 'r1', traits_add" in errors[0]


def test_standard_trait_names_are_accepted():
    _rules, errors = t.compile_rules([{'name': 'r', 'traits_add': ['HW_CPU_X86_AVX2', 'STORAGE_DISK_SSD', 'CUSTOM_' + 'A' * 248]}])
    assert errors == []


def test_rule_errors_all_listed():
    _rules, errors = t.compile_rules([
        {'name': 'a', 'when': '[?', 'traits_add': ['CUSTOM_OK']},
        {'name': 'b', 'traits_add': ['nope'], 'traits_remove': []},
        {'name': 'a', 'traits_add': ['CUSTOM_X'], 'traits_remove': ['CUSTOM_X']},
        {'traits_add': ['CUSTOM_Y'], 'colour': 'red'},
        {'name': 'own', 'extra': {'spineleaf_traits': []}},
        {'name': 'own2', 'extra': {t.OWNER_KEY: []}},
    ])
    text = '\n'.join(errors)
    assert "rule 'a', when: invalid JMESPath" in text
    assert "rule 'b', traits_add" in text
    assert "rule 'a': duplicate rule name" in text
    assert 'CUSTOM_X both added and removed' in text
    assert 'rules[3]: every rule needs a name' in text and 'unknown key(s) colour' in text
    assert "'spineleaf_traits' is reserved" in text and "'spineleaf' is reserved" in text


def test_assign_validation():
    assign, errors = t.compile_assign({'n1': {'traits': ['CUSTOM_RACK_R01']}, 'n2': ['CUSTOM_ROLE_COMPUTE'],
                                       'n3': {'traits': ['bad trait']}, 'n4': {'colour': 1}})
    assert assign['n1'].traits_add == ['CUSTOM_RACK_R01']
    assert assign['n2'].traits_add == ['CUSTOM_ROLE_COMPUTE']
    assert any('assign[n3], traits' in e for e in errors)
    assert any('assign[n4]: unknown key(s) colour' in e for e in errors)


def test_rack_and_role_traits_come_from_trait_name():
    assert trait_name('r01', 'CUSTOM_RACK_') == 'CUSTOM_RACK_R01'
    assert trait_name('compute-gpu', 'CUSTOM_ROLE_') == 'CUSTOM_ROLE_COMPUTE_GPU'
    assert trait_error(trait_name('rack 7/a', 'CUSTOM_RACK_')) is None


# ---------------------------------------------------------------- what rules read
def test_referenced_fields_decide_what_to_fetch():
    compiled = rules(*SITE_RULES)
    fields = t.referenced_fields([r.expr for r in compiled])
    assert fields & t.INSPECTION_KEYS
    assert not fields & t.PORT_KEYS
    only_props = rules({'name': 'p', 'when': 'properties.memory_mb > `1`'})
    assert not t.referenced_fields([r.expr for r in only_props]) & (t.INSPECTION_KEYS | t.PORT_KEYS)
    port_rule = rules({'name': 'p', 'when': "length(ports[?physical_network == 'leaf1']) > `0`"})
    assert t.referenced_fields([r.expr for r in port_rule]) & t.PORT_KEYS


def test_jmespath_truthiness():
    assert t.is_true(0) and t.is_true('x') and t.is_true([0])
    for value in (None, False, '', [], {}):
        assert not t.is_true(value)


# ---------------------------------------------------------------- planning
def test_rules_over_inspection_data():
    compiled = rules(*SITE_RULES)
    big = plan(node('big'), compiled, inspection=inventory(262144, 'aarch64', (100000, 25000)), mode='exact')
    small = plan(node('small'), compiled, inspection=inventory(65536, 'x86_64', (25000, 25000)))
    assert big.matched == ['big-mem', 'arm', 'fast-nic']
    assert big.traits_after == ['CUSTOM_CPU_ARM64', 'CUSTOM_MEM_128G', 'CUSTOM_NIC_100G']
    assert big.patch() == [
        {'op': 'add', 'path': '/properties/cpu_arch', 'value': 'aarch64'},
        {'op': 'add', 'path': '/extra/spineleaf',
         'value': {'tag': {'traits': ['CUSTOM_CPU_ARM64', 'CUSTOM_MEM_128G', 'CUSTOM_NIC_100G'],
                           'property_keys': ['cpu_arch']}}}]
    assert small.matched == [] and not small.changed


def test_uninspected_node_does_not_match_comparisons():
    compiled = rules(SITE_RULES[0], SITE_RULES[1])
    assert plan(node(), compiled).matched == []


def test_evaluation_error_names_rule_and_node():
    compiled = rules(SITE_RULES[2])
    with pytest.raises(t.PlanError, match="rule 'fast-nic' on node lonely"):
        plan(node('lonely'), compiled)  # max() of null: not inspected


def test_facts_and_assignment():
    compiled = rules({'name': 'gpu', 'when': "facts.node_role == 'compute'", 'resource_class': 'bm-compute',
                      'extra': {'tier': 'compute'}})
    assign, _errors = t.compile_assign({'n1': {'traits': ['CUSTOM_RACK_R01'], 'resource_class': 'bm-special'}})
    p = plan(node('n1', extra={'tier': 'old', 'keep': 1}), compiled, assign['n1'], facts={'node_role': 'compute'})
    assert p.traits_after == ['CUSTOM_RACK_R01']
    assert p.resource_class_after == 'bm-special'  # assignment wins over rules
    ops = p.patch()
    assert {'op': 'add', 'path': '/extra/tier', 'value': 'compute'} in ops
    assert {'op': 'add', 'path': '/resource_class', 'value': 'bm-special'} in ops
    assert not any(op['path'] == '/extra/keep' for op in ops)
    before, after = p.diff()
    assert before['extra'] == {'tier': 'old'} and after['extra']['tier'] == 'compute'


def test_later_rules_win_and_null_removes_a_key():
    compiled = rules({'name': 'a', 'traits_add': ['CUSTOM_A'], 'extra': {'x': 1, 'y': 2}},
                     {'name': 'b', 'traits_remove': ['CUSTOM_A'], 'extra': {'x': None}})
    p = plan(node(extra={'x': 0}), compiled)
    assert p.traits_after == []
    assert {'op': 'remove', 'path': '/extra/x'} in p.patch()
    assert {'op': 'add', 'path': '/extra/y', 'value': 2} in p.patch()


def test_json_pointer_escaping():
    compiled = rules({'name': 'a', 'extra': {'a/b~c': 1}})
    assert plan(node(), compiled).patch()[0] == {'op': 'add', 'path': '/extra/a~1b~0c', 'value': 1}


def record(traits=(), extra_keys=(), property_keys=(), **other):
    """An owner record with a tag section (and others given as section=dict)."""
    fields = (('traits', traits), ('extra_keys', extra_keys), ('property_keys', property_keys))
    rec = {'tag': dict((k, sorted(v)) for k, v in fields if v)}
    rec.update(other)
    return dict((k, v) for k, v in rec.items() if v)


def test_add_mode_keeps_everything_and_records_what_it_adds():
    compiled = rules({'name': 'a', 'traits_add': ['CUSTOM_A']})
    p = plan(node(traits=['CUSTOM_FOREIGN']), compiled)
    assert p.traits_after == ['CUSTOM_A', 'CUSTOM_FOREIGN']
    # recorded in add mode too: enrollment's exact mode must know tagging's traits to keep them
    assert p.owned_after == ['CUSTOM_A']
    assert p.patch() == [{'op': 'add', 'path': '/extra/spineleaf', 'value': record(['CUSTOM_A'])}]
    owned = plan(node(traits=['CUSTOM_B'], extra={t.OWNER_KEY: record(['CUSTOM_B'])}), compiled)
    assert owned.traits_after == ['CUSTOM_A', 'CUSTOM_B'] and owned.owned_after == ['CUSTOM_A', 'CUSTOM_B']


def test_exact_mode_records_what_it_adds():
    compiled = rules({'name': 'a', 'traits_add': ['CUSTOM_A']})
    p = plan(node(traits=['CUSTOM_FOREIGN']), compiled, mode='exact')
    assert p.traits_after == ['CUSTOM_A', 'CUSTOM_FOREIGN']
    assert p.owned_after == ['CUSTOM_A']
    assert p.patch() == [{'op': 'add', 'path': '/extra/spineleaf', 'value': record(['CUSTOM_A'])}]


def test_exact_mode_removes_only_owned_traits():
    n = node(traits=['CUSTOM_A', 'CUSTOM_B', 'CUSTOM_FOREIGN', 'HW_CPU_X86_AVX2'],
             extra={t.OWNER_KEY: record(['CUSTOM_A', 'CUSTOM_B'])})
    compiled = rules({'name': 'a', 'traits_add': ['CUSTOM_A']})
    p = plan(n, compiled, mode='exact')
    assert p.traits_after == ['CUSTOM_A', 'CUSTOM_FOREIGN', 'HW_CPU_X86_AVX2']
    assert p.traits_removed == ['CUSTOM_B']
    assert p.owned_after == ['CUSTOM_A']
    # add mode leaves CUSTOM_B and keeps owning it, so a later exact run can remove it
    q = plan(n, compiled, mode='add')
    assert not q.changed and q.owned_after == ['CUSTOM_A', 'CUSTOM_B']


def test_exact_mode_removes_keys_it_set_and_keeps_others():
    n = node(extra={'tier': 'gpu', 'keep': 1, t.OWNER_KEY: record(extra_keys=['tier'])},
             properties={'cpu_arch': 'x86_64'})
    p = plan(n, rules({'name': 'a', 'properties': {'cpu_arch': 'x86_64'}}), mode='exact')
    # tier was tagging's and no rule wants it; cpu_arch already held that value: not claimed
    assert p.patch() == [{'op': 'remove', 'path': '/extra/tier'}, {'op': 'remove', 'path': '/extra/spineleaf'}]
    assert plan(n, [], mode='add').patch() == []


def test_a_foreign_trait_is_never_claimed():
    n = node(traits=['CUSTOM_SHARED'])
    compiled = rules({'name': 'a', 'traits_add': ['CUSTOM_SHARED']})
    p = plan(n, compiled, mode='exact')
    assert not p.changed and p.owned_after == []
    # the rule stops wanting it: exact mode still leaves it, as somebody else set it
    assert plan(n, [], mode='exact').traits_after == ['CUSTOM_SHARED']


def test_a_trait_enrollment_claimed_is_claimed_and_then_removed_by_exact():
    n = node(traits=['CUSTOM_ROLE_COMPUTE'], extra={t.OWNER_KEY: {'enroll': {'traits': ['CUSTOM_ROLE_COMPUTE']}}})
    assign, _errors = t.compile_assign({'n1': ['CUSTOM_ROLE_COMPUTE']})
    p = plan(n, [], assign['n1'], mode='exact')
    assert p.owned_after == ['CUSTOM_ROLE_COMPUTE'] and p.traits_after == ['CUSTOM_ROLE_COMPUTE']
    claimed = node(traits=['CUSTOM_ROLE_COMPUTE'], extra={t.OWNER_KEY: {'tag': {'traits': ['CUSTOM_ROLE_COMPUTE']}}})
    assert plan(claimed, [], mode='exact').traits_after == []


def test_traits_remove_removes_even_foreign_traits():
    compiled = rules({'name': 'clean', 'traits_remove': ['CUSTOM_OLD']})
    assert plan(node(traits=['CUSTOM_OLD', 'CUSTOM_KEEP']), compiled).traits_after == ['CUSTOM_KEEP']


def test_stale_ownership_record_is_cleaned_up():
    n = node(traits=['CUSTOM_A'], extra={t.OWNER_KEY: record(['CUSTOM_A', 'CUSTOM_GONE'])})
    p = plan(n, rules({'name': 'a', 'traits_add': ['CUSTOM_A']}), mode='exact')
    assert p.traits_after == ['CUSTOM_A'] and p.owned_after == ['CUSTOM_A']
    assert p.patch() == [{'op': 'add', 'path': '/extra/spineleaf', 'value': record(['CUSTOM_A'])}]
    dropped = plan(node(traits=['CUSTOM_A'], extra={t.OWNER_KEY: record(['CUSTOM_A'])}), [], mode='exact')
    assert dropped.traits_after == [] and dropped.patch() == [{'op': 'remove', 'path': '/extra/spineleaf'}]


def test_the_older_record_is_read_and_migrated():
    n = node(traits=['CUSTOM_A', 'CUSTOM_B'], extra={'spineleaf_traits': ['CUSTOM_A', 'CUSTOM_B']})
    p = plan(n, rules({'name': 'a', 'traits_add': ['CUSTOM_A']}), mode='exact')
    assert p.traits_after == ['CUSTOM_A'] and p.traits_removed == ['CUSTOM_B']
    assert p.patch() == [{'op': 'add', 'path': '/extra/spineleaf', 'value': record(['CUSTOM_A'])},
                         {'op': 'remove', 'path': '/extra/spineleaf_traits'}]


def test_second_plan_over_the_result_is_a_no_op():
    compiled = rules(*SITE_RULES)
    for mode in ('add', 'exact'):
        n = node('big', traits=['CUSTOM_FOREIGN'])
        first = plan(n, compiled, mode=mode, inspection=inventory(262144, 'aarch64', (100000,)))
        stored = [op['value'] for op in first.patch() if op['path'] == '/extra/spineleaf'][0]
        applied = node('big', traits=first.traits_after, extra={t.OWNER_KEY: stored},
                       properties={'cpu_arch': 'aarch64'})
        second = plan(applied, compiled, mode=mode, inspection=inventory(262144, 'aarch64', (100000,)))
        assert not second.changed and second.patch() == []


def test_too_many_traits():
    compiled = rules({'name': 'many', 'traits_add': ['CUSTOM_T%d' % i for i in range(51)]})
    with pytest.raises(t.PlanError, match='at most 50'):
        plan(node(), compiled)


# ---------------------------------------------------------------- selection
def test_selector_as_list_filter_and_as_predicate():
    docs = [t.node_document(node(n, provision_state=s)) for n, s in
            (('r01-n01', 'manageable'), ('r01-n02', 'available'), ('r02-n01', 'manageable'))]
    expr, over_list = t.compile_selector("[?starts_with(name, 'r01-')]")
    assert over_list and t.select_nodes(expr, over_list, docs) == ['uuid-r01-n01', 'uuid-r01-n02']
    expr, over_list = t.compile_selector("[?starts_with(name, 'r01-')].name")
    assert t.select_nodes(expr, over_list, docs) == ['uuid-r01-n01', 'uuid-r01-n02']
    expr, over_list = t.compile_selector("provision_state == 'manageable'")
    assert not over_list and t.select_nodes(expr, over_list, docs) == ['uuid-r01-n01', 'uuid-r02-n01']
    with pytest.raises(t.PlanError, match='selector'):
        t.compile_selector('[?name ==')


def test_target_selection():
    nodes = [node('r01-n01'), node('r01-n02'), node('r02-n01')]

    def uuids(found):
        return [n['uuid'] for n in found]
    assert uuids(t.candidate_nodes(nodes, ['uuid-r02-n01'])) == ['uuid-r02-n01']
    assert uuids(t.candidate_nodes(nodes, None, rules=True)) == uuids(nodes)
    assert uuids(t.candidate_nodes(nodes, None, rules=False, assigned={'uuid-r01-n02': 'rule'})) == ['uuid-r01-n02']
    expr, over_list = t.compile_selector("[?starts_with(name, 'r01-')]")
    candidates = t.candidate_nodes(nodes, None, expr, rules=False)
    assert candidates == nodes
    docs = dict((n['uuid'], t.node_document(n)) for n in nodes)
    assert uuids(t.select_targets(candidates, docs, expr, over_list)) == ['uuid-r01-n01', 'uuid-r01-n02']
    assert t.select_targets(candidates, docs) == nodes


@pytest.mark.parametrize("value,shown", [(["baremetal.gpu", "x"], "['baremetal.gpu', 'x'] (list)"),
                                         (7, "7 (int)"), ({"a": 1}, "{'a': 1} (dict)")])
def test_resource_class_must_be_one_string(value, shown):
    """#14: a list was written as its text; now it is an error naming the rule and what was given."""
    errors = t.compile_rules([{"name": "gpu", "when": "`true`", "resource_class": value}])[1]
    assert errors == ["rule 'gpu': resource_class must be one string, got %s" % shown]
    errors = t.compile_assign({"n1": {"resource_class": value}})[1]
    assert len(errors) == 1 and "resource_class must be one string, got %s" % shown in errors[0]
