# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# This module_utils is PRIVATE to the spineleaf.baremetal collection. It may change
# without notice; do not import it from other collections.
"""One base class for every module of the collection.

It owns the shared authentication options (the ones openstack.cloud users know),
opens one openstacksdk connection, and turns SDK / HTTP errors into ``fail_json``
with a message that names the object and the likely fix.
"""

from __future__ import annotations

import ipaddress
import os
import time
import traceback
from urllib.parse import urlsplit

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

# The error types live in _errors (planners import them without AnsibleModule or the SDK); they
# are importable from here too, as modules always did.
from ._errors import (  # pylint: disable=unused-import
    BaremetalError, PlanError)
from ._rack_progress import progress_writer
from ._secrets import secret_values

try:
    import openstack
    from openstack import exceptions as sdk_exc
    HAS_SDK = True
    SDK_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test sanity
    openstack = None
    sdk_exc = None
    HAS_SDK = False
    SDK_IMPORT_ERROR = traceback.format_exc()

try:
    from keystoneauth1 import exceptions as ksa_exc
except ImportError:  # pragma: no cover
    ksa_exc = None


AUTH_ARGUMENT_SPEC = dict(
    cloud=dict(type='raw'),
    auth=dict(type='dict', no_log=True),
    auth_type=dict(type='str'),
    region_name=dict(type='str'),
    interface=dict(type='str', default='public', choices=['admin', 'internal', 'public'],
                   aliases=['endpoint_type']),
    validate_certs=dict(type='bool', aliases=['verify']),
    ca_cert=dict(type='path', aliases=['cacert']),
    client_cert=dict(type='path', aliases=['cert']),
    client_key=dict(type='path', no_log=False, aliases=['key']),
    api_timeout=dict(type='int'),
)


# Every request has a deadline: a hung API must fail the task, never hang it. The api_timeout
# option, or api_timeout in clouds.yaml / OS_API_TIMEOUT, overrides it.
DEFAULT_API_TIMEOUT = 60


def connect(kwargs):
    """openstack.connect(**kwargs) with DEFAULT_API_TIMEOUT where neither the options nor the
    cloud's own configuration set one. (Passing api_timeout to connect() would override a
    clouds.yaml value, so the default goes in only after the configuration was read, before the
    first request creates the session.)"""
    conn = openstack.connect(**kwargs)
    config = getattr(conn.config, 'config', None)
    if isinstance(config, dict) and config.get('api_timeout') is None:
        config['api_timeout'] = DEFAULT_API_TIMEOUT
    return conn


def is_loopback_host(host):
    """True for localhost and loopback addresses (where plain http:// is harmless)."""
    if not host or host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_endpoints(config):
    """The ``http://`` URLs to non-loopback hosts in an SDK cloud config dict (``auth.auth_url``,
    ``*_endpoint_override``): credentials and node secrets would cross the network in clear."""
    urls = []
    auth = config.get('auth') if isinstance(config.get('auth'), dict) else {}
    candidates = [auth.get('auth_url')] + [v for k, v in sorted(config.items()) if k.endswith('endpoint_override')]
    for url in candidates:
        if isinstance(url, str) and url.lower().startswith('http://') and not is_loopback_host(urlsplit(url).hostname):
            urls.append(url)
    return urls


def cloud_secret_values(cloud):
    """Every credential in a ``cloud`` connection dict (``auth.password``, ``auth.token``,
    ``application_credential_secret``... at any depth; the keys _secrets calls secret), so the
    module can hide them from every output: ``cloud`` is ``raw``, and AnsibleModule would print a
    dict given there as it is."""
    return secret_values(cloud)


def cloud_label(cloud):
    """How a message names the cloud a module talks to: ``cloud 'prod-east'`` (the option, else
    ``OS_CLOUD``), or where the connection comes from when no cloud name is given."""
    if isinstance(cloud, str) and cloud:
        return "cloud '%s'" % cloud
    if isinstance(cloud, dict):
        return "the cloud given as a dict (auth_url %s)" % ((cloud.get('auth') or {}).get('auth_url') or 'not set')
    if os.environ.get('OS_CLOUD'):
        return "cloud '%s' (OS_CLOUD)" % os.environ['OS_CLOUD']
    return 'the cloud of the OS_* environment (no cloud name given: set cloud or OS_CLOUD)'


def clouds_yaml_hint(exc):
    """For a clouds.yaml lookup that failed: which file was read and which clouds it defines
    (empty for any other error)."""
    if sdk_exc is None or not isinstance(exc, sdk_exc.ConfigException):
        return ''
    try:
        from openstack import config as sdk_config
        loader = sdk_config.OpenStackConfig()
        names = sorted(n for n in loader.cloud_config.get('clouds', {}) if n != 'defaults')
        where = loader.config_filename
    except Exception:  # the hint must never hide the error itself
        return ''
    if not where:
        return ('; no clouds.yaml found (OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml, '
                '/etc/openstack/clouds.yaml)')
    return '; %s defines %s' % (where, ', '.join(repr(n) for n in names) if names else 'no cloud')


def describe_sdk_error(exc, what=None):
    """Return an operator-facing message for an openstacksdk / keystoneauth exception.

    ``what`` names the object being worked on (e.g. ``node r01-n01``).
    """
    prefix = '%s: ' % what if what else ''
    status = getattr(exc, 'status_code', None)
    detail = getattr(exc, 'details', None) or str(exc)
    if status in (401, 403):
        hint = 'check the credentials in clouds.yaml / auth and the role of the user'
    elif status == 404:
        hint = 'it does not exist (or the endpoint is wrong)'
    elif status == 406:
        hint = 'the API does not support the microversion needed; upgrade the service'
    elif status == 409:
        hint = 'conflict with the current state (locked, in use, or a duplicate)'
    elif status is not None and status >= 500:
        hint = 'the service failed; see its logs'
    elif ksa_exc is not None and isinstance(exc, (ksa_exc.ConnectFailure, ksa_exc.ConnectTimeout,
                                                  ksa_exc.DiscoveryFailure)):
        hint = 'cannot reach the API endpoint: is the service up and the endpoint right?'
    elif ksa_exc is not None and isinstance(exc, ksa_exc.EndpointNotFound):
        hint = 'no such service in the catalog: check region_name / interface or the endpoint override'
    elif sdk_exc is not None and isinstance(exc, sdk_exc.ConfigException):
        hint = 'check the cloud name, clouds.yaml (OS_CLIENT_CONFIG_FILE) or OS_CLOUD'
    else:
        hint = None
    msg = '%s%s' % (prefix, detail)
    if status is not None:
        msg += ' (HTTP %s)' % status
    if hint:
        msg += ': %s' % hint
    return msg


def status_code(exc):
    """HTTP status of an SDK / keystoneauth exception, or None."""
    return getattr(exc, 'status_code', None)


def is_transient_db_error(exc):
    """A 500 from a database lock / deadlock (sqlite "database is locked", MySQL "Deadlock found"):
    rolled back server-side, so the same call succeeds when tried again."""
    if status_code(exc) != 500:
        return False
    text = str(getattr(exc, 'details', '') or exc).lower()
    return 'database is locked' in text or 'deadlock' in text


def is_retryable(exc):
    """The one retry policy of the adapters: 409 NodeLocked (another conductor or client holds
    the node) and 503 are transient; every other error is final. Writes that may also meet a
    single-writer database add ``is_transient_db_error``."""
    code = status_code(exc)
    if code == 503:
        return True
    if code == 409:
        text = str(getattr(exc, 'details', '') or exc).lower()
        return 'locked' in text or 'nodelocked' in text
    return False


def call_with_retry(attempt, retries, backoff, max_backoff, retryable=is_retryable, sleep=time.sleep,
                    on_retry=None):
    """Call ``attempt()`` until it returns, retrying errors ``retryable`` accepts up to ``retries``
    times with exponential backoff (``backoff`` doubling up to ``max_backoff`` seconds).

    ``on_retry(exc)`` runs before each wait (an adapter narrows its concurrency there). The last
    error, or the first one that is not retryable, is raised.
    """
    delay = backoff
    tries = 0
    while True:
        try:
            return attempt()
        except Exception as exc:
            tries += 1
            if tries > retries or not retryable(exc):
                raise
            if on_retry is not None:
                on_retry(exc)
            sleep(delay)
            delay = min(delay * 2, max_backoff)


# The one per-node result contract of the bulk modules: every entry of a module's ``nodes`` has
# these keys (module-specific keys come after).
NODE_RESULT_KEYS = ('name', 'uuid', 'action', 'changed', 'failed', 'msg')


def node_entry(entry, changing=(), failing=('failed',)):
    """Fill the contract keys of one node entry in place and return it: ``changed`` when its
    ``action`` is in ``changing`` (an entry's own ``changed`` wins when it has one), ``failed``
    when its ``action`` is in ``failing``; ``name`` / ``uuid`` / ``msg`` default to None."""
    for key in ('name', 'uuid', 'msg'):
        entry.setdefault(key, None)
    entry.setdefault('action', 'unchanged')
    entry['changed'] = bool(entry['changed']) if 'changed' in entry else entry['action'] in changing
    entry['failed'] = entry['action'] in failing
    return entry


def nodes_failure_message(what, nodes):
    """``"<what>: 2 of 40 nodes failed (r01-n03, r01-n07): <reason>; <reason>"`` for the failed
    entries of ``nodes``, or None when none failed."""
    failed = [e for e in nodes if e.get('failed')]
    if not failed:
        return None
    return '%s: %d of %d nodes failed (%s): %s' % (
        what, len(failed), len(nodes), ', '.join(str(e['name']) for e in failed),
        '; '.join(str(e.get('msg') or e['name']) for e in failed))


# The checks of a module's options that AnsibleModule and ArgumentSpecValidator share.
_SPEC_CHECKS = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')


class _RackDone(BaseException):  # like SystemExit: no "except Exception" of a module swallows it
    """A rack's run reported (``exit_json`` / ``fail_json`` while the racks of one call run)."""

    def __init__(self, result):
        super().__init__('rack done')
        self.result = result


def _raw_params():
    """The module's arguments as given (before validation); {} when there are none to read."""
    try:
        return basic._load_params() or {}  # pylint: disable=protected-access
    except Exception:  # pylint: disable=broad-except
        return {}


class BaremetalModule:
    """Base class: subclasses set ``argument_spec`` (and optionally ``module_kwargs``)
    and implement ``run()``; they report with ``exit_json`` / ``fail_json``.

    ``rack_calls = True``: the module also takes ``racks`` (doc fragment
    ``spineleaf.baremetal.rack_calls``), ``{rack: options}``: one call runs the module once per rack,
    rack after rack in this one process (one start-up, one connection), each rack's options over
    the call's own; every rack's options are validated before the first rack runs, and the result
    is ``results``, one entry per rack as a loop over the racks would register, each with ``rack``."""

    argument_spec = {}
    module_kwargs = {}
    needs_sdk = True
    rack_calls = False

    def __init__(self):
        spec = dict(AUTH_ARGUMENT_SPEC)
        spec.update(self.argument_spec)
        kwargs = dict(supports_check_mode=True)
        kwargs.update(self.module_kwargs)
        self._racks = None
        if self.rack_calls:
            spec['racks'] = dict(type='dict')
            raw = _raw_params()
            if raw.get('racks') is not None:
                # Each rack's options are checked whole (required ones included) before any rack runs;
                # the call's own options are every rack's defaults, so none is required of them.
                self._racks = (dict(spec), dict((k, v) for k, v in kwargs.items() if k in _SPEC_CHECKS), raw)
                spec = dict((k, dict(v, required=False)) for k, v in spec.items())
                kwargs = dict((k, v) for k, v in kwargs.items() if k not in _SPEC_CHECKS or k == 'mutually_exclusive')
        self.ansible = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.ansible.params
        self._capture = False
        for value in cloud_secret_values(self.params.get('cloud')):
            self.ansible.no_log_values.add(value)
        self.check_mode = self.ansible.check_mode
        self.diff_mode = self.ansible._diff
        self._conn = None

    # ------------------------------------------------------------ connection
    def connection_kwargs(self):
        p = self.params
        kwargs = {}
        cloud = p.get('cloud')
        if isinstance(cloud, dict):
            kwargs.update(cloud)
        elif cloud:
            kwargs['cloud'] = cloud
        for opt, key in (('auth', 'auth'), ('auth_type', 'auth_type'),
                         ('region_name', 'region_name'), ('interface', 'interface'),
                         ('validate_certs', 'verify'), ('ca_cert', 'cacert'),
                         ('client_cert', 'cert'), ('client_key', 'key'),
                         ('api_timeout', 'api_timeout')):
            if p.get(opt) is not None:
                kwargs[key] = p[opt]
        # Our adapters retry 409 NodeLocked / 503 themselves with a short backoff; the
        # SDK's own retry loop (5 x 2 s) would hide real conflicts and slow everything.
        kwargs.setdefault('baremetal_status_code_retries', 0)
        kwargs.setdefault('app_name', 'spineleaf.baremetal')
        return kwargs

    def open_conn(self):
        """The connection, opened once; raises BaremetalError naming the cloud (and, for a cloud
        name that clouds.yaml lacks, the file read and the clouds it defines) when it cannot be
        opened."""
        if self._conn is None:
            try:
                self._conn = connect(self.connection_kwargs())
            except Exception as exc:  # SDK config errors come in several types
                raise BaremetalError('cannot open an OpenStack connection to %s: %s%s' % (
                    cloud_label(self.params.get('cloud')), describe_sdk_error(exc), clouds_yaml_hint(exc)))
            for url in plain_http_endpoints(getattr(self._conn.config, 'config', None) or {}):
                self.warn('endpoint %s is plain http:// on a non-loopback host: tokens and BMC credentials '
                          'cross the network unencrypted; use https://' % url)
        return self._conn

    @property
    def conn(self):
        try:
            return self.open_conn()
        except BaremetalError as exc:
            self.fail_json(msg=str(exc))

    # ------------------------------------------------------------ reporting
    def fail_json(self, **kwargs):
        if self._capture:
            raise _RackDone(dict(kwargs, failed=True))
        self.ansible.fail_json(**kwargs)

    def exit_json(self, **kwargs):
        if self._capture:
            raise _RackDone(dict(kwargs, failed=False))
        self.ansible.exit_json(**kwargs)

    def warn(self, msg):
        self.ansible.warn(msg)

    def write_progress(self, path, counts):
        """Keep ``counts`` in the file ``path`` while a long call runs (``_rack_progress.progress_writer``,
        the one progress contract: atomic rewrite, only when they change), for a play that started
        the module with ``async`` to show progress. No path: nothing to do; a file that cannot be
        written only warns."""
        if not path:
            return
        if getattr(self, '_progress_path', None) != path:
            self._progress_path, self._progress_write = path, progress_writer(path, warn=self.warn)
        self._progress_write(counts)

    def report_nodes(self, nodes, what, changing=(), failing=('failed',), summary_keys=(), tracker=None,
                     changed=None, fail_msg=None, **out):
        """The one reporter of the bulk modules: fill each node entry's contract keys
        (``node_entry``), count ``summary`` per action (``summary_keys`` start at 0), take
        ``diff`` from ``tracker`` (a DifferenceTracker) in diff mode, then ``exit_json`` - or
        ``fail_json`` with ``fail_msg`` or the failed nodes and their reasons, keeping every node's
        result (partial results on failure); ``fail_msg=False``: the module does not fail for its
        failed nodes (they failed a check, not a call). ``changed`` defaults to the tracker's, else
        to any node changed."""
        for entry in nodes:
            node_entry(entry, changing, failing)
        summary = dict.fromkeys(summary_keys, 0)
        for entry in nodes:
            summary[entry['action']] = summary.get(entry['action'], 0) + 1
        if changed is None:
            changed = tracker.changed if tracker is not None else any(e['changed'] for e in nodes)
        result = dict(out, changed=bool(changed), nodes=nodes, summary=summary)
        if self.diff_mode and tracker is not None:
            result['diff'] = tracker.diff()
        msg = nodes_failure_message(what, nodes) if fail_msg is None else fail_msg
        if msg:
            self.fail_json(msg=msg, **result)
        self.exit_json(**result)

    # ------------------------------------------------------------ entry point
    def run(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self):
        if self.needs_sdk and not HAS_SDK:
            self.fail_json(msg=missing_required_lib('openstacksdk'), exception=SDK_IMPORT_ERROR)
        if self._racks is not None:
            self._run_racks()
        self._run_guarded()

    def _rack_params(self):
        """Every rack's validated options, ``{rack: params}``, or the call fails naming each rack and
        option that is wrong, before any rack runs."""
        spec, checks, raw = self._racks
        racks = self.params['racks']
        defaults = dict((k, v) for k, v in raw.items() if k != 'racks' and not k.startswith('_ansible'))
        validator = ArgumentSpecValidator(spec, **checks)
        out, errors = {}, []
        for rack, options in racks.items():
            if not isinstance(options, dict):
                errors.append('rack %s: its options must be a dict, got %s' % (rack, type(options).__name__))
                continue
            if 'racks' in options:
                errors.append('rack %s: racks cannot be nested' % rack)
                continue
            res = validator.validate(dict(defaults, **options))
            self.ansible.no_log_values.update(res._no_log_values)  # pylint: disable=protected-access
            if res.error_messages:
                errors.append('rack %s: %s' % (rack, '; '.join(res.error_messages)))
            else:
                out[str(rack)] = dict(res.validated_parameters, racks=None)
        if errors:
            self.ansible.fail_json(msg='racks: %s (no rack was run)' % ' | '.join(errors))
        return out

    def _run_racks(self):
        """Run the module once per rack in this process and report every rack's result."""
        results = []
        for rack, params in self._rack_params().items():
            self.params = params
            self._capture = True
            try:
                self._run_guarded()
                result = dict(failed=True, msg='rack %s: the module reported nothing' % rack)
            except _RackDone as done:
                result = done.result
            finally:
                self._capture = False
            results.append(dict(result, rack=rack))
        out = dict(changed=any(r.get('changed') for r in results), results=results)
        diffs = [r.pop('diff') for r in results if r.get('diff')]
        if diffs:
            out['diff'] = diffs
        failed = [r for r in results if r.get('failed')]
        if failed:
            self.ansible.fail_json(msg='; '.join('rack %s: %s' % (r['rack'], r.get('msg') or 'failed') for r in failed), **out)
        self.ansible.exit_json(**out)

    def _run_guarded(self):
        try:
            self.run()
        except BaremetalError as exc:
            self.fail_json(msg=str(exc))
        except Exception as exc:
            known = (sdk_exc is not None and isinstance(exc, sdk_exc.SDKException)) or \
                (ksa_exc is not None and isinstance(exc, ksa_exc.ClientException))
            if not known:
                raise
            self.fail_json(msg=describe_sdk_error(exc), exception=traceback.format_exc())


def open_connection(**params):
    """Open an openstacksdk connection for a non-module plugin (e.g. an inventory plugin).

    ``params`` are the auth options of AUTH_ARGUMENT_SPEC (``cloud``, ``auth``, ``region_name``,
    ``interface``, ``validate_certs``, ...); unset ones fall back to clouds.yaml / ``OS_*`` as in
    modules. Raises BaremetalError with an operator-facing message when it cannot connect.
    """
    if not HAS_SDK:
        raise BaremetalError('the openstacksdk Python library is required (pip install openstacksdk)')
    # The same option -> SDK keyword mapping as modules use, without an AnsibleModule.
    holder = type('Params', (), {'params': params})()
    try:
        return connect(BaremetalModule.connection_kwargs(holder))
    except Exception as exc:  # SDK config errors come in several types
        raise BaremetalError('cannot open an OpenStack connection: %s' % describe_sdk_error(exc))
