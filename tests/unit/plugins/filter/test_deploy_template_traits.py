"""Role profiles (#26): which deploy templates and runbooks serve a node's role, as node traits
(node_traits) and as instance traits at deploy (deploy_template_traits)."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.site import deploy_template_traits, node_traits
from ansible_collections.spineleaf.baremetal.plugins.module_utils._site import node_spec, role_templates

TEMPLATES = [{'name': 'CUSTOM_ROLE_STORAGE', 'steps': []},
             {'name': 'CUSTOM_BIOS_PERF', 'roles': ['storage', 'compute'], 'steps': []},
             {'name': 'CUSTOM_GPU', 'roles': ['gpu'], 'steps': []}]
RUNBOOKS = [{'name': 'CUSTOM_FW_2025', 'roles': ['compute'], 'steps': []}]


def _hv(role, **more):
    return dict(inventory_hostname='r01-n01', rack='r01', node_role=role, deploy_templates=TEMPLATES,
                runbooks=RUNBOOKS, **more)


def test_role_templates_by_roles_and_by_role_trait():
    assert role_templates(TEMPLATES, 'storage') == ['CUSTOM_BIOS_PERF', 'CUSTOM_ROLE_STORAGE']
    assert role_templates(TEMPLATES, 'compute') == ['CUSTOM_BIOS_PERF']
    assert role_templates(TEMPLATES, 'controller') == []
    assert role_templates(TEMPLATES, None) == [] and role_templates(None, 'storage') == []


def test_deploy_template_traits_filter():
    assert deploy_template_traits(_hv('storage')) == ['CUSTOM_BIOS_PERF', 'CUSTOM_ROLE_STORAGE']
    assert deploy_template_traits(_hv('storage'), [TEMPLATES[2]]) == []
    assert deploy_template_traits(dict(node_role='storage')) == []  # a site without templates
    with pytest.raises(AnsibleFilterError, match='deploy_templates must be a list'):
        deploy_template_traits(_hv('storage', ), {'name': 'x'})
    with pytest.raises(AnsibleFilterError, match='expected one node'):
        deploy_template_traits(['r01-n01'])


def test_node_traits_carry_the_role_templates_and_runbooks():
    assert node_traits(_hv('compute')) == ['CUSTOM_RACK_R01', 'CUSTOM_ROLE_COMPUTE', 'CUSTOM_BIOS_PERF', 'CUSTOM_FW_2025']
    assert node_traits(_hv('storage')) == ['CUSTOM_RACK_R01', 'CUSTOM_ROLE_STORAGE', 'CUSTOM_BIOS_PERF']
    assert node_traits(_hv('compute'), role=False) == ['CUSTOM_RACK_R01']
    # without site templates: as before
    assert node_traits(dict(rack='r01', node_role='compute')) == ['CUSTOM_RACK_R01', 'CUSTOM_ROLE_COMPUTE']
    # enrollment gives the same traits
    spec = node_spec(dict(_hv('compute'), bmc_driver='fake-hardware', nics=[]))
    assert 'CUSTOM_FW_2025' in spec['traits'] and 'CUSTOM_BIOS_PERF' in spec['traits']
