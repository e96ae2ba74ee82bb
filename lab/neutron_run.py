"""Start a lab Neutron process (the RPC server or ironic-neutron-agent) with the lab's patches.

    python -m neutron_run rpc-server --config-file ...   (neutron-rpc-server)
    python -m neutron_run agent --config-file ...        (ironic-neutron-agent)

Patches (lab only; the API gets the same ones from lab/neutron_wsgi.py):

- oslo.messaging on kombu's virtual ``filesystem`` transport fails with ``AttributeError:
  'Channel' object has no attribute 'events'``; kombu's filesystem Channel gets the attribute.
  kombu writes a message file in place, and a consumer may read it half-written: the lab's
  channel writes each message under a temporary name and renames it.
  The filesystem transport is the message broker of the lab: RabbitMQ and Redis are not on the
  package index, and the agent's state reports need a broker the RPC server consumes.
- sqlite transactions start with BEGIN IMMEDIATE so that the busy timeout queues concurrent
  writers (lab/ironic_run.py explains it); without it the RPC server's state report worker hits
  "database is locked" many times a minute.
- The fake switches of networking-generic-switch (``device_type = netmiko_fake``) log their
  commands without saying which switch they are; every call is also appended, with the switch's
  name, to the file LAB_SWITCH_LOG names (one JSON object a line) for ``labctl.py switch``.
"""
import collections
import json
import os
import sys
import threading
import time
import uuid


def patch_kombu():
    from kombu.transport import filesystem  # pylint: disable=import-outside-toplevel
    if not hasattr(filesystem.Channel, "events"):
        filesystem.Channel.events = collections.defaultdict(set)
    if getattr(filesystem.Channel._put, "lab_atomic", False):  # pylint: disable=protected-access
        return

    def put_atomically(self, queue, payload, **kwargs):  # pylint: disable=unused-argument
        """A message file appears whole or not at all: written under a name no queue reads, then
        renamed. kombu writes the final name in place under a lock its reader never takes, so a
        consumer could read half a message (JSONDecodeError), and oslo.messaging then gave up
        on the connection for good ("Unable to connect to AMQP server ... after inf tries")."""
        from kombu.utils.json import dumps  # pylint: disable=import-outside-toplevel
        name = "%d_%s.%s.msg" % (int(round(time.monotonic() * 1000)), uuid.uuid4(), queue)
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, ".partial-%s" % uuid.uuid4().hex)
        try:
            with open(partial, "wb") as f:
                f.write(dumps(payload).encode())
            os.rename(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError("Cannot add file %r to directory" % final) from exc
    put_atomically.lab_atomic = True
    filesystem.Channel._put = put_atomically  # pylint: disable=protected-access


def begin_immediate():
    """The lab's BEGIN IMMEDIATE hook (shared with Ironic's process)."""
    import sqlite_immediate  # pylint: disable=import-outside-toplevel,import-error
    sqlite_immediate.install()


# Device calls recorded, with the argument that holds the port and the VLAN.
_OPS = {
    "add_network": ("add_network", None, "segmentation_id"),
    "del_network": ("del_network", None, "segmentation_id"),
    "plug_port_to_network": ("plug", "port", "segmentation_id"),
    "delete_port": ("unplug", "port", "segmentation_id"),
    "plug_bond_to_network": ("plug_bond", "bond", "segmentation_id"),
    "unplug_bond_from_network": ("unplug_bond", "bond", "segmentation_id"),
    "add_subports_on_trunk": ("add_subports", "port_id", None),
    "del_subports_on_trunk": ("del_subports", "port_id", None),
}


def record_switches(path=None):
    """Append each call to a fake switch to ``path`` (default: $LAB_SWITCH_LOG; nothing if unset)."""
    path = path or os.environ.get("LAB_SWITCH_LOG")
    if not path:
        return
    import inspect  # pylint: disable=import-outside-toplevel
    from networking_generic_switch.devices.netmiko_devices import fake  # pylint: disable=import-outside-toplevel
    local = threading.local()

    def wrap(name, op, port_arg, vlan_arg):
        method = getattr(fake.Fake, name)
        signature = inspect.signature(method)

        def wrapped(self, *args, **kwargs):
            outer = not getattr(local, "depth", 0)
            local.depth = getattr(local, "depth", 0) + 1
            error = None
            try:
                return method(self, *args, **kwargs)
            except Exception as exc:
                error = "%s: %s" % (exc.__class__.__name__, exc)
                raise
            finally:
                local.depth -= 1
                if outer:
                    bound = signature.bind_partial(self, *args, **kwargs).arguments
                    entry = {"time": time.time(), "switch": self.device_name, "op": op, "ok": error is None}
                    if port_arg:
                        entry["port"] = bound.get(port_arg)
                    if vlan_arg:
                        entry["vlan"] = bound.get(vlan_arg)
                    trunk = bound.get("trunk_details") or {}
                    if trunk or name.endswith("subports_on_trunk"):
                        subports = trunk.get("sub_ports") if trunk else bound.get("subports")
                        entry["tagged"] = [s.get("segmentation_id") for s in subports or []]
                    if error:
                        entry["error"] = error
                    line = json.dumps(entry, default=str) + "\n"
                    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                    try:
                        os.write(fd, line.encode())
                    finally:
                        os.close(fd)
        wrapped.__name__ = name
        return wrapped

    for name, (op, port_arg, vlan_arg) in _OPS.items():
        if hasattr(fake.Fake, name):
            setattr(fake.Fake, name, wrap(name, op, port_arg, vlan_arg))


def keep_reporting():
    """ironic-neutron-agent's report loop (a looping call) ends for good on the first exception - an
    RPC timeout when the lab's one-machine broker answers late - and every node enrolled afterwards
    then stays without its segment host mapping. The lab keeps the loop alive: a failed round is
    logged and the next round (report_interval later) reports again."""
    import logging  # pylint: disable=import-outside-toplevel
    from networking_baremetal.agent import ironic_neutron_agent as agent  # pylint: disable=import-outside-toplevel
    original = agent.BaremetalNeutronAgent._report_state  # pylint: disable=protected-access

    def guarded(self, *args, **kwargs):
        try:
            return original(self, *args, **kwargs)
        except Exception:  # pylint: disable=broad-except
            logging.getLogger(__name__).exception("lab: a state report round failed; the next round reports again")
            return None
    guarded.__name__ = original.__name__
    agent.BaremetalNeutronAgent._report_state = guarded  # pylint: disable=protected-access


def main(argv):
    what, args = argv[1], argv[2:]
    if what == "rpc-server":
        from neutron.cmd.server import main_rpc as entry  # pylint: disable=import-outside-toplevel
    elif what == "agent":
        from networking_baremetal.agent.ironic_neutron_agent import main as entry  # pylint: disable=import-outside-toplevel
    else:
        sys.exit("usage: neutron_run.py rpc-server|agent ARGS")
    patch_kombu()
    begin_immediate()
    if what == "rpc-server":
        record_switches()
    else:
        keep_reporting()
    sys.argv = [what] + args
    return entry()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
