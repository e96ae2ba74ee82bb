# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""The servicing step of a rolling upgrade: Ironic servicing (API 1.87) of active nodes, with
service steps or a runbook (API 1.92), instead of a rebuild.

What one node goes through, written once here (the window that schedules it is the rollout's):

- start: record ``started`` in ``extra.spineleaf_rollout`` (with the node's
  ``provision_updated_at`` as read, so a resume can tell whether the service call went through),
  then ``PUT /states/provision {target: service, service_steps | runbook}``; a node left in
  Ironic's maintenance by this rollout's earlier failure leaves it first (Ironic refuses to
  service a node in maintenance);
- in flight: ``servicing`` / ``service wait`` / ``service hold`` (target ``active``);
- done: ``active`` with no target (recorded ``done``);
- failed: ``service failed`` (Ironic also sets maintenance and the fault ``service failure``
  when a step failed), or still servicing after the per-node timeout.

No I/O here but through the adapter given to ``ServiceRollout``."""

from __future__ import annotations

import hashlib
import json

from . import _rollout as ro
from ._window import Step

# API microversions: servicing with service steps, and runbooks.
SERVICE_MICROVERSION = '1.87'
RUNBOOK_MICROVERSION = '1.92'
IN_FLIGHT = ('servicing', 'service wait', 'service hold')
FAILED = 'service failed'
STEP_KEYS = ('interface', 'step', 'args', 'order')
# The servicing step's table (the one window, _window): done back in active with no target;
# failed in service failed (Ironic sets maintenance and the fault) or error. The verb is sent by
# ServiceRollout._start (adapter.service), so the step itself sends none.
SERVICE = Step(None, done=('active',), failed=(FAILED, 'error'), moving=IN_FLIGHT, what='servicing',
               failed_msg='node %(name)s: servicing went to %(state)s: %(error)s', no_error='-')


def normalise_steps(steps):
    """Service steps as the API takes them: a list of ``{interface, step, args}``. Raises
    ValueError naming the bad step and the fix."""
    if not isinstance(steps, (list, tuple)) or not steps:
        raise ValueError('service_steps must be a non-empty list of {interface, step, args}, got %r' % (steps,))
    out = []
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            raise ValueError('service_steps[%d] must be a dict {interface, step, args}, got %r' % (i, step))
        missing = [k for k in ('interface', 'step') if not step.get(k)]
        unknown = sorted(set(step) - set(STEP_KEYS))
        if missing or unknown:
            raise ValueError('service_steps[%d] (%s): %s' % (i, step.get('step') or '?', '; '.join(
                (['missing %s' % ', '.join(missing)] if missing else [])
                + (['unknown key(s) %s (a step has interface, step, args)' % ', '.join(unknown)] if unknown else []))))
        args = step.get('args') or {}
        if not isinstance(args, dict):
            raise ValueError('service_steps[%d] (%s): args must be a dict, got %r' % (i, step['step'], args))
        out.append(dict(interface=str(step['interface']), step=str(step['step']), args=args))
    return out


def describe(steps=None, runbook=None):
    """What a servicing runs, in a few words: ``runbook fw-2025`` or ``vendor.log_passthrough, deploy.wait``."""
    if runbook:
        return 'runbook %s' % runbook
    return ', '.join('%s.%s' % (s['interface'], s['step']) for s in steps or [])


def service_key(steps=None, runbook=None):
    """What the progress record says was run: the runbook's name, or ``steps:<hash>`` of the steps
    (a node is finished when its record says ``done`` for the same key)."""
    if runbook:
        return 'runbook:%s' % runbook
    text = json.dumps(steps or [], sort_keys=True, separators=(',', ':'))
    return 'steps:%s' % hashlib.sha256(text.encode()).hexdigest()[:12]


def default_rollout_id(steps=None, runbook=None):
    """The rollout id when none is given: ``service-<runbook>`` or ``service-<hash of the steps>``."""
    return 'service-%s' % (runbook if runbook else service_key(steps)[len('steps:'):])


def recovery_hint(name):
    """What the operator can do with a node left in ``service failed`` (Ironic refuses both while
    the node is in maintenance)."""
    return ('left in service failed and maintenance; to put it back in service without the steps: '
            '`baremetal node maintenance unset %s && baremetal node abort %s`; to try again: fix the '
            'cause and re-run the rollout with the same rollout id (it lifts the maintenance and services '
            'the node again)' % (name, name))


def classify(node, rollout_id, key):
    """What a servicing rollout does with one node: ``(op, msg)`` (ops as ``_rollout.classify``):
    ``done`` / ``repair`` (recorded done for ``key``), ``finish`` (serviced before an
    interruption, not yet recorded), ``upgrade`` (service it; also resuming one caught in flight
    or failed earlier in this rollout) or ``fail`` (the built-in pre-gate)."""
    name = node.get('name') or node['uuid']
    record = (node.get('extra') or {}).get(ro.RECORD_KEY) or {}
    mine = record if record.get('id') == rollout_id and record.get('service') == key else {}
    ours = ro._ours(node, rollout_id)  # pylint: disable=protected-access
    state, target = node.get('provision_state'), node.get('target_provision_state')
    if mine.get('state') == 'done' and state == 'active' and not target:
        return ('repair', 'finished earlier; clearing the maintenance this rollout left') if ours else \
            ('done', 'finished earlier in this rollout')
    if mine.get('state') in ('started', 'failed') and (state in IN_FLIGHT or state == FAILED):
        # Ironic's own maintenance after a failed step (fault: service failure) is lifted too
        if state == FAILED and node.get('maintenance') and not ours and node.get('fault') != 'service failure':
            return 'fail', 'node %s: pre-gate: service failed and in maintenance not set by this rollout (%s)' % (
                name, node.get('maintenance_reason') or 'no reason given')
        return 'upgrade', 'resuming (%s, %s earlier in this rollout)' % (state, mine['state'])
    refusal = ro._builtin_gate(node, name, ours)  # pylint: disable=protected-access
    if refusal:
        return 'fail', refusal
    if state != 'active' or target:
        return 'fail', 'node %s: pre-gate: not active (%s%s)' % (name, state, ' -> %s' % target if target else '')
    if mine.get('state') == 'started' and mine.get('before') and node.get('provision_updated_at') != mine['before']:
        return 'finish', 'serviced before an interruption; recording it'
    if mine.get('state') in ('started', 'failed'):
        return 'upgrade', 'resuming (%s earlier in this rollout)' % mine['state']
    return 'upgrade', None


class ServiceRollout(ro.RackRollout):
    """``RackRollout`` (the window, the budget, the records) whose step is Ironic servicing with
    ``steps`` or ``runbook`` instead of a rebuild. A node stays ``active`` (out of service only while
    Ironic services it); a node that fails is left in ``service failed`` and maintenance with the
    rollout's reason, and its result says how to recover it."""

    step = SERVICE
    done_verb = 'serviced'  # in the message of a node whose done record could not be written
    POLL_FIELDS = ('uuid', 'name', 'provision_state', 'target_provision_state', 'last_error',
                   'provision_updated_at', 'maintenance')

    def __init__(self, adapter, rollout_id, steps=None, runbook=None, **kwargs):
        super(ServiceRollout, self).__init__(adapter, rollout_id, {}, **kwargs)
        self.steps = steps
        self.runbook = runbook
        self.key = service_key(steps, runbook)

    def _record(self, state, **more):
        rec = dict(id=self.rollout_id, state=state, at=self.now(), service=self.key)
        rec.update(more)
        return {'op': 'add', 'path': '/extra/%s' % ro.RECORD_KEY, 'value': rec}

    def fail(self, rec, msg, last_error=None):
        if rec.get('serviced'):  # the node went to service failed: say how to recover it
            msg = '%s; %s' % (msg, recovery_hint(rec['name']))
        super(ServiceRollout, self).fail(rec, msg, last_error)

    def _start(self, rec):
        rec['started'] = self.clock()
        uuid, node = rec['uuid'], rec['node']
        try:
            if node.get('provision_state') in IN_FLIGHT:  # caught in flight by an interruption: wait for it
                rec['serviced'] = True
                return True
            self.adapter.patch_node(uuid, [self._record('started', before=node.get('provision_updated_at'))])
            if node.get('maintenance'):  # this rollout's, after an earlier failure (classify refused others')
                self.adapter.set_maintenance(uuid, False)
            self.adapter.service(uuid, service_steps=self.steps, runbook=self.runbook)
            rec['serviced'] = True
            return True
        except Exception as exc:
            self.fail(rec, 'node %s: could not start servicing (%s): %s' % (
                rec['name'], describe(self.steps, self.runbook), getattr(exc, 'details', None) or exc))
            return False

    def read(self, ids):
        """The nodes being serviced (cheap reads of the servicing states)."""
        return self.adapter.read_nodes(self.POLL_FIELDS, list(ids), moving_states=IN_FLIGHT)


def rollout_what(image=None, upgrade_tasks='', service_steps=None, runbook='', rollout_id='', tasks_exist=True):
    """What a rolling upgrade rolls, decided once (the rolling_upgrade role's plan, through the
    ``rollout_what`` filter): exactly one of a new ``image`` (a URL or ``{source, checksum}``), the
    user's ``upgrade_tasks`` (a task file; ``tasks_exist``: whether the control node can read it),
    Ironic ``service_steps`` or a ``runbook``.

    Returns ``{mode, image, service_steps, runbook, what, service_what, rollout_id, error}``:
    ``mode`` is ``image``, ``tasks`` or ``service``; ``what`` the plan's words (``to <url>``,
    ``running <file>``, ``servicing with <steps>``); ``rollout_id`` the given one, else the task
    file's or image's base name, ``service-<runbook>`` or ``service-<hash of the steps>``;
    ``error`` None, or the message that names the variables to fix."""
    image = {'source': image} if isinstance(image, str) else dict(image or {})
    image = image if str(image.get('source') or '').strip() else {}
    if image:
        image['source'] = str(image['source']).strip()
    upgrade_tasks, runbook = str(upgrade_tasks or '').strip(), str(runbook or '').strip()
    steps, steps_error = service_steps or [], None
    if steps:
        try:
            steps = normalise_steps(steps)
        except ValueError as exc:
            steps_error = ('rollout_service_steps must be a list of Ironic service steps {interface, step, args}, e.g. '
                           '[{interface: vendor, step: log_passthrough, args: {}}]; %s' % exc)
    given = ([name for name, value in (('rollout_image', image), ('rollout_upgrade_tasks', upgrade_tasks),
                                       ('rollout_service_steps', service_steps), ('rollout_runbook', runbook)) if value])
    mode = 'tasks' if upgrade_tasks else 'service' if (steps or runbook) else 'image'
    error = None
    if len(given) > 1:
        error = ('set exactly one of rollout_image, rollout_upgrade_tasks, rollout_service_steps and rollout_runbook; '
                 'got %s' % ' and '.join(given))
    elif steps_error and not runbook:
        error = steps_error
    elif mode == 'tasks' and not tasks_exist:
        error = 'rollout_upgrade_tasks %s: no such file (give a path the control node can read)' % upgrade_tasks
    elif not given:
        error = ('no image: set rollout_image (a URL or {source, checksum}), rollout_upgrade_tasks (a task file), '
                 'rollout_service_steps (Ironic service steps) or rollout_runbook (an Ironic runbook)')
    service_steps = [] if steps_error else list(steps)
    service_what = describe(service_steps, runbook) if mode == 'service' else ''
    what = ('running %s' % upgrade_tasks if mode == 'tasks' else 'servicing with %s' % service_what if mode == 'service'
            else 'to %s' % image.get('source'))
    if not rollout_id:
        rollout_id = (upgrade_tasks.rstrip('/').rsplit('/', 1)[-1] if mode == 'tasks'
                      else default_rollout_id(service_steps, runbook) if mode == 'service'
                      else str(image.get('source') or '').rstrip('/').rsplit('/', 1)[-1])
    return dict(mode=mode, image=image, service_steps=service_steps, runbook=runbook, what=what,
                service_what=service_what, rollout_id=str(rollout_id), error=error)
