# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-rack rollout workflow for AWX / AAP as awx.awx.workflow_job_template ``workflow_nodes``.

Pure: racks in, node list out (no AWX API). One job node per rack, limited to its rack group, chained
on success in rollout order; optional approval nodes between racks; every rack node's failure (and a
denied or timed-out approval) leads to one node that reports and stops the rollout.
"""

from __future__ import annotations

import re

_RACK_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]*$')

STOP_NODE = 'rollout_stopped'


def rack_node_id(rack):
    """Workflow node identifier (also the inventory group and limit) of a rack: ``rack_<id>``."""
    return 'rack_%s' % rack


def approval_node_id(rack):
    """Identifier of the approval node that gates ``rack``."""
    return 'approve_rack_%s' % rack


def _template(name, organization, kind='job_template'):
    return {'name': name, 'type': kind, 'organization': {'name': organization}}


def workflow_nodes(racks, job_template, organization, approval=False, approval_timeout=0,
                   stop_job_template=None, extra_data=None):
    """awx.awx.workflow_job_template ``workflow_nodes`` for a rack-by-rack rollout.

    ``racks`` are in rollout order (see ``_rollout.rack_order``). Each rack node runs
    ``job_template`` with ``limit: rack_<id>`` and ``extra_data`` plus ``rollout_racks: <id>``.
    With ``approval``, an approval node (``approval_timeout`` seconds, 0 = none) sits between two
    racks. With ``stop_job_template``, a rack failure or a denied approval runs that template once
    (``rollout_stopped``); it sees the earlier racks' ``set_stats`` artifacts. Raises ValueError
    for an empty, duplicate or malformed rack list.
    """
    racks = [str(r) for r in racks or []]
    if not racks:
        raise ValueError('no racks to roll out')
    bad = [r for r in racks if not _RACK_ID.match(r)]
    if bad:
        raise ValueError('rack id(s) %s are not usable as group names (letters, digits, _ and -)' % ', '.join(bad))
    dupes = sorted(set(r for r in racks if racks.count(r) > 1))
    if dupes:
        raise ValueError('rack(s) %s listed twice' % ', '.join(dupes))
    if not job_template or not organization:
        raise ValueError('job_template and organization are required')

    failure = [{'identifier': STOP_NODE}] if stop_job_template else []
    nodes = []
    for i, rack in enumerate(racks):
        nxt = racks[i + 1] if i + 1 < len(racks) else None
        success = []
        if nxt is not None:
            success = [{'identifier': approval_node_id(nxt) if approval else rack_node_id(nxt)}]
        data = dict(extra_data or {})
        data['rollout_racks'] = rack
        nodes.append({
            'identifier': rack_node_id(rack),
            'unified_job_template': _template(job_template, organization),
            'limit': rack_node_id(rack),
            'extra_data': data,
            'related': {'success_nodes': success, 'failure_nodes': list(failure), 'always_nodes': []},
        })
        if approval and nxt is not None:
            gate = _template('Approve rack %s' % nxt, organization, 'workflow_approval')
            gate['description'] = 'Rack %s finished; approve to roll out rack %s' % (rack, nxt)
            gate['timeout'] = int(approval_timeout or 0)
            nodes.append({
                'identifier': approval_node_id(nxt),
                'unified_job_template': gate,
                'related': {'success_nodes': [{'identifier': rack_node_id(nxt)}],
                            'failure_nodes': list(failure), 'always_nodes': []},
            })
    if stop_job_template:
        nodes.append({
            'identifier': STOP_NODE,
            'unified_job_template': _template(stop_job_template, organization),
            # Any one failing parent runs it: never wait for the racks that did not run.
            'all_parents_must_converge': False,
            'related': {'success_nodes': [], 'failure_nodes': [], 'always_nodes': []},
        })
    return nodes


# Survey questions as AWX's API takes them (awx/api/views JobTemplateSurveySpec) and as AWX turns
# the answers into extra vars: text-like answers are strings, integer answers ints, float answers
# numbers, a multiple choice one of its choices (a string), a multiselect a list of its choices.
SURVEY_TYPES = {
    'text': (str,), 'textarea': (str,), 'password': (str,), 'multiplechoice': (str,),
    'multiselect': (list, str), 'integer': (int,), 'float': (float, int),
}


def _choices(question):
    choices = question.get('choices')
    if isinstance(choices, str):
        choices = [c for c in choices.splitlines() if c.strip()]
    return choices


def survey_spec(questions, name, description=''):
    """A ``survey_spec`` for awx.awx.job_template / workflow_job_template from a list of questions.

    Checks each question the way AWX's API does (type, ``question_name`` / ``variable`` /
    ``required``, a default of the question's type and among its choices, integer ``min`` / ``max``,
    no variable asked twice) and raises ValueError naming the question. A required question whose
    default is empty or None loses its default: AWX would otherwise pass the empty default as the
    answer of a launch that gave none (and it would override the site's own value); without a
    default, AWX refuses such a launch and asks for the answer.
    """
    spec, seen = [], set()
    for idx, question in enumerate(questions or []):
        if not isinstance(question, dict):
            raise ValueError('survey %r question %d is not a dict' % (name, idx))
        label = '%r question %d (%s)' % (name, idx, question.get('variable', '?'))
        q = dict(question)
        for key in ('type', 'question_name', 'variable'):
            if not isinstance(q.get(key), str) or not q[key]:
                raise ValueError('survey %s: %s must be a non-empty string' % (label, key))
        if not isinstance(q.get('required'), bool):
            raise ValueError('survey %s: required must be true or false' % label)
        qtype = q['type']
        if qtype not in SURVEY_TYPES:
            raise ValueError('survey %s: type %r is not one of %s' % (label, qtype, ', '.join(sorted(SURVEY_TYPES))))
        if q['variable'] in seen:
            raise ValueError('survey %s: variable asked twice' % label)
        seen.add(q['variable'])
        for key in ('min', 'max'):
            if key in q and q[key] is not None and (isinstance(q[key], bool) or not isinstance(q[key], int)):
                raise ValueError('survey %s: %s must be an integer, got %r' % (label, key, q[key]))
        default = q.get('default')
        if default is None or (default in ('', []) and q['required']):
            q.pop('default', None)
            default = None
        if default is not None and default != '':
            if isinstance(default, bool) or not isinstance(default, SURVEY_TYPES[qtype]):
                raise ValueError('survey %s: default %r is not of type %s' % (label, default, qtype))
        if qtype in ('multiplechoice', 'multiselect'):
            choices = _choices(q)
            if not choices or not isinstance(choices, list):
                raise ValueError('survey %s: a %s question needs choices' % (label, qtype))
            q['choices'] = [str(c) for c in choices]
            if default not in (None, ''):
                wanted = default.splitlines() if isinstance(default, str) else list(default)
                if qtype == 'multiplechoice' and len(wanted) > 1:
                    raise ValueError('survey %s: a multiple choice has one default, got %r' % (label, default))
                unknown = [w for w in wanted if w not in q['choices']]
                if unknown:
                    raise ValueError('survey %s: default %s not among the choices %s'
                                     % (label, ', '.join(map(str, unknown)), ', '.join(q['choices'])))
        spec.append(q)
    return {'name': name, 'description': description or '', 'spec': spec}
