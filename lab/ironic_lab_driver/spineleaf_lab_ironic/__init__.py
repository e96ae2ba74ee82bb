"""The lab's deploy interface ``lab`` and hardware type ``lab-hardware`` (lab only).

Ironic's ``fake`` deploy interface sleeps and touches no network, so a lab deploy with it never
runs Ironic's network code. ``lab`` deploys as fake does (no disk is written: it sleeps
``[fake] deploy_delay`` in prepare and in the deploy step) but makes the network calls a real
``direct`` deploy makes, in the same order, through the node's own network interface and DHCP
provider:

- prepare (deploy and rebuild): ``unconfigure_tenant_networks``, ``add_provisioning_network``,
  then the DHCP boot options on the VIF ports, as the PXE boot interface's ``prepare_ramdisk``
  does (with ``[dhcp] dhcp_provider = neutron`` and no VIF this fails with Ironic's own
  "No VIFs found for node ..." exactly as in production);
- deploy step ``switch_to_tenant_network`` (priority 30, as in ``direct``):
  ``remove_provisioning_network``, ``configure_tenant_networks``;
- tear down: power off, ``unconfigure_tenant_networks``, ``remove_provisioning_network``;
- clean up: ``clean_dhcp``.

Deploy templates (#26): Ironic runs a deploy template's steps in every deployment whose instance
traits name it, whatever the deploy interface, if an interface of the node offers each step as a
*deploy* step. fake-hardware's BIOS and RAID interfaces offer their steps for cleaning only, so
``lab-hardware`` also has a ``lab`` BIOS interface (fake's, whose ``apply_configuration`` - it stores
the settings, ``GET /v1/nodes/{node}/bios`` shows them - is a deploy step too) and a ``lab`` RAID
interface (``apply_configuration`` as a deploy step, recording the configuration as the node's
``raid_config``). Both are off by default (priority 0), as in real drivers: only a template runs them.

Ironic accepts an interface for a node only if the node's hardware type lists its exact class,
so ``lab-hardware`` is ``fake-hardware`` with ``lab`` as its first (default) deploy, BIOS and RAID
interface.
"""
from ironic.common import dhcp_factory
from ironic.common import pxe_utils
from ironic.common import states
from ironic.conductor import task_manager
from ironic.conductor import utils as manager_utils
from ironic.conf import CONF
from ironic.drivers import base
from ironic.drivers import fake_hardware
from ironic.drivers.modules import agent_base
from ironic.drivers.modules import fake


def _dhcp_options(task):
    """The PXE boot options a real deploy sets on the VIF ports (IPv4 and IPv6, as pxe_base)."""
    opts = []
    for version in (4, 6):
        opts += pxe_utils.dhcp_options_for_instance(task, ipxe_enabled=False, ip_version=version)
    return opts


class LabDeploy(fake.FakeDeploy):
    """Fake deploy (no disk written, [fake]deploy_delay sleeps) with a direct deploy's network steps."""

    @task_manager.require_exclusive_lock
    def prepare(self, task):
        node = task.node
        if node.provision_state == states.DEPLOYING:
            task.driver.network.validate(task)
            if not node.disable_power_off:
                manager_utils.node_power_action(task, states.POWER_OFF)
            # Rebuild: the tenant network is still configured; unbind it first, as direct does.
            task.driver.network.unconfigure_tenant_networks(task)
            task.driver.network.add_provisioning_network(task)
            # What the PXE boot interface's prepare_ramdisk does: boot options on the VIF ports.
            dhcp_factory.DHCPFactory().update_dhcp(task, _dhcp_options(task))
        fake.sleep(CONF.fake.deploy_delay)

    @base.deploy_step(priority=100)
    def deploy(self, task):
        fake.sleep(CONF.fake.deploy_delay)

    @base.deploy_step(priority=30)
    @task_manager.require_exclusive_lock
    def switch_to_tenant_network(self, task):
        """Deploy step of a direct deploy: the node leaves the provisioning network for its VIFs'."""
        try:
            with manager_utils.power_state_for_network_configuration(task):
                task.driver.network.remove_provisioning_network(task)
                task.driver.network.configure_tenant_networks(task)
        except Exception as e:  # pylint: disable=broad-except
            msg = ('Error changing node %(node)s to tenant networks after deploy. %(cls)s: %(error)s'
                   % {'node': task.node.uuid, 'cls': e.__class__.__name__, 'error': e})
            agent_base.log_and_raise_deployment_error(task, msg, collect_logs=False, exc=e)

    @task_manager.require_exclusive_lock
    def tear_down(self, task):
        if not task.node.disable_power_off:
            manager_utils.node_power_action(task, states.POWER_OFF)
        with manager_utils.power_state_for_network_configuration(task):
            task.driver.network.unconfigure_tenant_networks(task)
            task.driver.network.remove_provisioning_network(task)
        fake.sleep(CONF.fake.deploy_delay)
        return states.DELETED

    def clean_up(self, task):
        dhcp_factory.DHCPFactory().clean_dhcp(task)
        fake.sleep(CONF.fake.deploy_delay)


_BIOS_ARGSINFO = {
    'settings': {'description': 'List of BIOS settings, each a dict with name and value', 'required': True}}


class LabBIOS(fake.FakeBIOS):
    """fake's BIOS interface whose apply_configuration (stores the settings) is also a deploy step."""

    @base.deploy_step(priority=0, argsinfo=_BIOS_ARGSINFO)
    @base.clean_step(priority=0, argsinfo=_BIOS_ARGSINFO)
    def apply_configuration(self, task, settings):
        return super().apply_configuration(task, settings)


class LabRAID(fake.FakeRAID):
    """fake's RAID interface with apply_configuration as a deploy step; the configuration applied
    becomes the node's raid_config (fake's does nothing)."""

    @base.deploy_step(priority=0, argsinfo=base.RAID_APPLY_CONFIGURATION_ARGSINFO)
    def apply_configuration(self, task, raid_config, create_root_volume=True, create_nonroot_volumes=True,
                            delete_existing=True):
        return super().apply_configuration(task, raid_config, create_root_volume=create_root_volume,
                                           create_nonroot_volumes=create_nonroot_volumes,
                                           delete_existing=delete_existing)

    def create_configuration(self, task, create_root_volume=True, create_nonroot_volumes=True,
                             delete_existing=True):
        node = task.node
        node.raid_config = {'logical_disks': list((node.target_raid_config or {}).get('logical_disks') or [])}
        node.save()


class LabHardware(fake_hardware.FakeHardware):
    """fake-hardware whose default deploy, BIOS and RAID interfaces are ``lab``."""

    @property
    def supported_deploy_interfaces(self):
        return [LabDeploy] + super().supported_deploy_interfaces

    @property
    def supported_bios_interfaces(self):
        return [LabBIOS] + super().supported_bios_interfaces

    @property
    def supported_raid_interfaces(self):
        return [LabRAID] + super().supported_raid_interfaces
