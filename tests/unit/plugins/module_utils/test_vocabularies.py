"""Single vocabularies of module_utils (#23): the error types, Ironic's provision-state sets and
the secret-key rule are each defined once, and the pure planners load without the module base
class (AnsibleModule, openstacksdk)."""
import os
import subprocess
import sys

from ansible_collections.spineleaf.baremetal.plugins.module_utils import (
    _base, _enroll, _errors, _inspect, _ironic, _neutron, _node_inventory, _owner, _provision, _routed_network,
    _secrets, _states, _tagging)

MODULE_UTILS = os.path.join(os.path.dirname(_errors.__file__))
ADAPTERS = ('_base', '_ironic', '_neutron', '_step_resource_module')  # adapters and module bases, not planners


def test_planners_do_not_load_the_module_base_class():
    planners = sorted(f[:-3] for f in os.listdir(MODULE_UTILS)
                      if f.startswith('_') and f.endswith('.py') and f[:-3] not in ADAPTERS and f != '__init__.py')
    assert '_routed_network' in planners and '_tagging' in planners
    code = ("import sys\n"
            "sys.path[:0] = %r\n" % [p for p in sys.path if p]
            + "".join("import ansible_collections.spineleaf.baremetal.plugins.module_utils.%s\n" % p for p in planners)
            + "loaded = [m for m in sys.modules if m.endswith('module_utils._base') or m == 'ansible.module_utils.basic'"
              " or m == 'openstack']\n"
              "assert not loaded, loaded\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_error_types_are_defined_once():
    assert _base.BaremetalError is _errors.BaremetalError and _base.PlanError is _errors.PlanError
    assert _neutron.NeutronError.__mro__[1] is _errors.BaremetalError
    assert _routed_network.PlanError is _tagging.PlanError is _errors.PlanError


def test_state_sets_are_defined_once():
    assert _inspect.INSPECTABLE is _states.INSPECTABLE and _ironic.NEEDS_MANAGE is _states.NEEDS_MANAGE
    assert _ironic.FAILED_STATES is _states.FAILED_STATES and _provision.FAILURE_STATES is _states.FAILURE_STATES
    assert _enroll.DELETABLE_STATES is _states.DELETABLE_STATES and _enroll.DEPLOYED_STATES is _states.DEPLOYED_STATES
    assert not hasattr(_owner, 'PRUNABLE_STATES')  # one name for one set
    assert _states.FAILED_STATES <= _states.STABLE_STATES and _states.SETTLED_FAILED <= _states.FAILED_STATES


def test_one_secret_key_rule():
    for key in ('password', 'ipmi_password', 'redfish_passwd', 'passphrase', 'api_token', 'client_secret',
                'application_credential_secret', 'ssh_key_contents', 'private_key', 'PrivateKey'):
        assert _secrets.is_secret_key(key), key
    for key in ('username', 'image_source', 'region_name', 'auth_url', 'deploy_kernel', 'ipmi_address'):
        assert not _secrets.is_secret_key(key), key
    assert _provision.is_secret_key is _secrets.is_secret_key and _provision.secret_values is _secrets.secret_values
    assert _enroll.secret_values([{'driver_info': {'redfish_password': 'x', 'api_token': 't', 'ipmi_username': 'u'}}]) \
        == ['x', 't']
    assert _base.cloud_secret_values({'auth': {'password': 'pw', 'username': 'u'}, 'token': 'tok'}) == ['pw', 'tok']
    # the inventory export drops the secrets and, beyond them, users, auth and config drives
    assert _node_inventory.STRIPPED_KEY_RE.pattern.startswith(_secrets.SECRET_KEY_PATTERN + '|')
    assert _node_inventory.strip_secrets({'ipmi_password': 'x', 'ipmi_username': 'u', 'ipmi_address': 'a'}) == \
        {'ipmi_address': 'a'}


def test_modules_reach_the_sdk_only_through_the_adapters():
    """Only _ironic / _neutron (and _base, which opens the connection) touch the SDK's proxies."""
    import re
    plugins = os.path.dirname(MODULE_UTILS)
    leaks = []
    for kind in ('modules', 'inventory', 'filter', 'action', 'module_utils'):
        folder = os.path.join(plugins, kind)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if not name.endswith('.py') or name in ('_ironic.py', '_neutron.py', '_base.py'):
                continue
            with open(os.path.join(folder, name)) as f:
                for number, line in enumerate(f, 1):
                    if re.search(r'\bconn\.(baremetal|network|compute|identity|session)\b', line.split('#')[0]):
                        leaks.append('%s/%s:%d' % (kind, name, number))
    assert leaks == []
