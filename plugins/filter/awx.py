# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for configuring AWX / AAP (playbooks/awx_configure.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ..module_utils import _awx_workflow


def awx_rollout_workflow(racks, job_template, organization, approval=False, approval_timeout=0,
                         stop_job_template=None, extra_data=None):
    try:
        return _awx_workflow.workflow_nodes(list(racks or []), job_template, organization, approval=bool(approval),
                                            approval_timeout=approval_timeout, stop_job_template=stop_job_template or None,
                                            extra_data=extra_data)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('awx_rollout_workflow: %s' % exc)


def awx_survey_spec(questions, name, description=''):
    try:
        return _awx_workflow.survey_spec(list(questions or []), name, description)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('awx_survey_spec: %s' % exc)


class FilterModule:
    def filters(self):
        return {'awx_rollout_workflow': awx_rollout_workflow, 'awx_survey_spec': awx_survey_spec}
