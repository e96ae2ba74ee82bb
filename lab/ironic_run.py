"""Start the lab's all-in-one Ironic with sqlite transactions that queue instead of failing.

oslo.db opens sqlite transactions with a deferred BEGIN; when two requests first read and then
write at the same time, sqlite refuses one with "database is locked" at once (no busy wait is
possible for that upgrade). Real deployments use MySQL/PostgreSQL and never see this. Making every
transaction BEGIN IMMEDIATE lets sqlite's busy timeout queue concurrent writers instead, so the lab
behaves like a real database under concurrent clients. Lab only: nothing here ships in modules.
"""
import functools
import sys

import sqlite_immediate  # lab/, beside this script  # pylint: disable=import-error

sqlite_immediate.install()


def _bmc_fault(get_power_state):
    """A BMC that does not answer, on demand: a node whose driver_info has ``lab_bmc_fault`` fails
    power-state reads (so ``manage`` fails its verify and leaves the node in enroll with last_error,
    as an unreachable BMC or wrong credentials do on real hardware). Fix driver_info to heal it."""
    def wrapped(self, task):
        fault = (task.node.driver_info or {}).get("lab_bmc_fault")
        if fault:
            from ironic.common import exception  # pylint: disable=import-outside-toplevel
            raise exception.IronicException("BMC did not answer (lab BMC fault: %s)" % fault)
        return get_power_state(self, task)
    return wrapped


def _install_bmc_fault():
    from ironic.drivers.modules import fake  # pylint: disable=import-outside-toplevel
    fake.FakePower.get_power_state = _bmc_fault(fake.FakePower.get_power_state)


def _service_fault(step):
    """A service step that fails on demand: a node whose driver_info has ``lab_service_fault`` fails
    the fake vendor's ``log_passthrough`` service step, so servicing ends in ``service failed`` (with
    Ironic's maintenance and fault ``service failure``), as a firmware update a BMC refuses does.
    The step keeps its delay ([fake]vendor_delay, LAB_VENDOR_DELAY). Remove the key to heal it."""
    @functools.wraps(step)  # keeps the step's markers (_is_service_step, ...): Ironic finds steps by them
    def wrapped(self, task, **kwargs):
        fault = (task.node.driver_info or {}).get("lab_service_fault")
        if fault:
            from ironic.common import exception  # pylint: disable=import-outside-toplevel
            from ironic.drivers.modules import fake  # pylint: disable=import-outside-toplevel
            fake.sleep(fake.CONF.fake.vendor_delay)
            raise exception.IronicException("service step failed (lab service fault: %s)" % fault)
        return step(self, task, **kwargs)
    return wrapped


def _install_service_fault():
    from ironic.drivers.modules import fake  # pylint: disable=import-outside-toplevel
    fake.FakeVendorB.log_passthrough = _service_fault(fake.FakeVendorB.log_passthrough)


# ------------------------------------------------------------------ BIOS and firmware (cleaning)
# fake-hardware's BIOS interface stores the settings apply_configuration gets (GET /v1/nodes/<n>/bios
# shows them) but replaces the whole set, and its firmware interface stores nothing. The lab makes
# both behave like a BMC for manual cleaning campaigns and the drift report: factory settings and
# versions appear at the first cache (manage), apply_configuration changes only the settings named,
# firmware update records the new version of each component, and driver_info ``lab_clean_fault``
# fails both steps on request (the node goes to "clean failed" with that message).
LAB_FACTORY_BIOS = {"BootMode": "Uefi", "HyperThreading": "Enabled", "ProcVirtualization": "Enabled",
                    "SriovGlobalEnable": "Disabled"}
LAB_FACTORY_FIRMWARE = {"bios": "1.0.0", "bmc": "1.0.0"}


def _clean_fault(task, what):
    fault = (task.node.driver_info or {}).get("lab_clean_fault")
    if fault:
        from ironic.common import exception  # pylint: disable=import-outside-toplevel
        raise exception.IronicException("%s failed (lab clean fault: %s)" % (what, fault))


def _bios_settings(task):
    from ironic import objects  # pylint: disable=import-outside-toplevel
    return dict((s.name, s.value) for s in objects.BIOSSettingList.get_by_node_id(task.context, task.node.id))


def _bios_store(task, settings):
    """Write ``settings`` (name -> value) over the node's stored ones, keeping the others."""
    from ironic import objects  # pylint: disable=import-outside-toplevel
    current = _bios_settings(task)
    create = [dict(name=k, value=v) for k, v in settings.items() if k not in current]
    update = [dict(name=k, value=v) for k, v in settings.items() if k in current and current[k] != v]
    if create:
        objects.BIOSSettingList.create(task.context, task.node.id, create)
    if update:
        objects.BIOSSettingList.save(task.context, task.node.id, update)


def _lab_apply_configuration(self, task, settings):
    from ironic.drivers.modules import fake  # pylint: disable=import-outside-toplevel
    fake.sleep(fake.CONF.fake.bios_delay)
    _clean_fault(task, "BIOS apply_configuration")
    _bios_store(task, dict((s["name"], s["value"]) for s in settings))


def _lab_cache_bios_settings(self, task):
    if not _bios_settings(task):
        _bios_store(task, LAB_FACTORY_BIOS)


def _firmware_store(task, versions):
    from ironic import objects  # pylint: disable=import-outside-toplevel
    current = dict((c.component, c) for c in objects.FirmwareComponentList.get_by_node_id(task.context, task.node.id))
    for component, version in versions.items():
        if component not in current:
            objects.FirmwareComponent(task.context, node_id=task.node.id, component=component,
                                      current_version=version).create()
        elif current[component].current_version != version:
            current[component].last_version_flashed = version
            current[component].current_version = version
            current[component].save()


def _version_of(url):
    """The version a lab firmware file carries in its name: ``.../bmc-2.1.0.bin`` -> ``2.1.0`` (a real
    BMC reports the version after the flash; the lab has no image to read it from)."""
    import re  # pylint: disable=import-outside-toplevel
    name = str(url or "").rsplit("/", 1)[-1]
    found = re.search(r"\d+(?:\.\d+)+", name)
    return found.group(0) if found else (name or "unknown")


def _lab_firmware_update(self, task, settings):
    """Each item ``{component, url}`` (as Redfish takes them): the new version is read from the URL's
    file name (``bmc-2.1.0.bin`` -> ``2.1.0``)."""
    from ironic.drivers.modules import fake  # pylint: disable=import-outside-toplevel
    fake.sleep(fake.CONF.fake.firmware_delay)
    _clean_fault(task, "firmware update")
    versions = {}
    for item in settings:
        versions[item["component"]] = _version_of(item.get("url"))
    _firmware_store(task, versions)


def _lab_cache_firmware_components(self, task):
    from ironic import objects  # pylint: disable=import-outside-toplevel
    if not objects.FirmwareComponentList.get_by_node_id(task.context, task.node.id):
        _firmware_store(task, LAB_FACTORY_FIRMWARE)


def _install_bios_firmware():
    from ironic.drivers.modules import fake  # pylint: disable=import-outside-toplevel
    # the originals' step decorations (clean / service step, priority, argsinfo) kept
    for cls, name, fn in ((fake.FakeBIOS, "apply_configuration", _lab_apply_configuration),
                          (fake.FakeFirmware, "update", _lab_firmware_update)):
        fn.__dict__.update(getattr(cls, name).__dict__)  # _is_clean_step, priority, argsinfo...
        fn.__name__ = name  # the step's name
        setattr(cls, name, fn)
    fake.FakeBIOS.cache_bios_settings = _lab_cache_bios_settings
    fake.FakeFirmware.cache_firmware_components = _lab_cache_firmware_components


if __name__ == "__main__":
    from ironic.command.singleprocess import main
    _install_bmc_fault()  # after ironic.command, which picks the service backend first
    _install_service_fault()  # servicing rollouts (#26)
    _install_bios_firmware()
    sys.exit(main())
