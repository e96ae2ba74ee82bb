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


if __name__ == "__main__":
    from ironic.command.singleprocess import main
    _install_bmc_fault()  # after ironic.command, which picks the service backend first
    _install_service_fault()  # servicing rollouts (#26)
    sys.exit(main())
