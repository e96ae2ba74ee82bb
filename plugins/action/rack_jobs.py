# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
import shutil
import tempfile

from ansible.errors import AnsibleActionFail

from .rack_progress_wait import ActionModule as RackProgressWait

# The modules a rack job may run: the per-rack bulk modules that write a progress file.
RACK_MODULES = frozenset(('ironic_provision', 'ironic_inspect', 'ironic_rollout', 'ironic_clean'))


class ActionModule(RackProgressWait):
    """The rack-job pattern in one task: a scratch directory for the progress files, one background
    call of ``module`` per rack (async, the one time limit of a rack job), a progress line per rack
    every ``interval`` seconds, every rack's result, and the scratch directory removed. In check
    mode each rack's call runs in the foreground (nothing to wait for). The documentation is in
    ``plugins/modules/rack_jobs.py``."""

    _VALID_ARGS = frozenset(('module', 'args', 'racks', 'progress_option', 'verb', 'interval', 'poll', 'timeout'))

    def run(self, tmp=None, task_vars=None):
        result = super(RackProgressWait, self).run(tmp, task_vars)  # ActionBase.run: the wait's own run is not wanted
        _valid, args = self.validate_argument_spec(argument_spec=dict(
            module=dict(type='str', required=True),
            args=dict(type='dict', default={}),
            racks=dict(type='dict', required=True),
            progress_option=dict(type='str', default='progress_file'),
            verb=dict(type='str', default='done'),
            interval=dict(type='float', default=30.0),
            poll=dict(type='float', default=0.5),
            timeout=dict(type='int', required=True),
        ))
        module = args['module']
        if module.rsplit('.', 1)[-1] not in RACK_MODULES:
            raise AnsibleActionFail('rack_jobs: module %s is not a rack module (one of %s)'
                                    % (module, ', '.join(sorted(RACK_MODULES))))
        if args['timeout'] < 1:
            raise AnsibleActionFail('rack_jobs: timeout must be at least 1 second, got %s' % args['timeout'])
        bad = sorted(str(r) for r, v in args['racks'].items() if not isinstance(v, dict))
        if bad:
            raise AnsibleActionFail('rack_jobs: racks %s: each rack takes a dict of its own module options' % ', '.join(bad))
        if not args['racks']:
            result.update(changed=False, results=[])
            return result
        local = self._connection.transport in ('local', 'ansible.builtin.local', 'ansible.legacy.local')
        scratch = self._scratch(local, task_vars)
        try:
            if self._task.check_mode:
                results = [dict(self._call(module, args, rack, scratch, task_vars), rack=rack) for rack in args['racks']]
            else:
                jobs = [self._start(module, args, rack, scratch, task_vars) for rack in args['racks']]
                started = [job for job in jobs if job.get('ansible_job_id')]
                waited = dict((job['rack'], r) for job, r in zip(started, self._wait(
                    started, dict(args, timeout=args['timeout'] + 120), task_vars)))  # each job ends itself first (async)
                results = [waited.get(job['rack'], job) for job in jobs]
        finally:
            self._remove(scratch, local, task_vars)
        result.update(changed=False, results=results)
        return result

    def _module_args(self, args, rack, scratch):
        module_args = dict(args['args'])
        module_args.update(args['racks'][rack])
        if args['progress_option'] and scratch:
            module_args[args['progress_option']] = os.path.join(scratch, '%s.json' % rack)
        if scratch:
            # the racks' jobs poll Ironic as one: lists of the nodes in transit shared in the scratch dir
            module_args.setdefault('shared_poll_dir', os.path.join(scratch, 'poll'))
        return module_args

    def _call(self, module, args, rack, scratch, task_vars):
        return self._execute_module(module_name=module, module_args=self._module_args(args, rack, scratch), task_vars=task_vars)

    def _start(self, module, args, rack, scratch, task_vars):
        """One rack's module call in the background (async_wrapper, as ``async: N, poll: 0`` starts
        it); a job that did not start is its rack's result as it is."""
        saved = self._task.async_val
        self._task.async_val = args['timeout']
        try:
            started = self._execute_module(module_name=module, module_args=self._module_args(args, rack, scratch),
                                           task_vars=task_vars, wrap_async=True)
        finally:
            self._task.async_val = saved
        if not started.get('ansible_job_id') or started.get('failed'):
            started.pop('ansible_job_id', None)
            return dict(started, rack=rack, failed=True, msg='rack %s: the job did not start: %s'
                        % (rack, started.get('msg') or 'no job id'))
        return dict(ansible_job_id=started['ansible_job_id'], results_file=started.get('results_file'), rack=rack,
                    progress_file=os.path.join(scratch, '%s.json' % rack) if scratch else None)

    def _scratch(self, local, task_vars):
        if local:
            return tempfile.mkdtemp(prefix='spineleaf-rack-jobs-')
        made = self._outside_check_mode('ansible.legacy.tempfile', dict(state='directory', prefix='spineleaf-rack-jobs-'),
                                        task_vars)
        if made.get('failed') or not made.get('path'):
            raise AnsibleActionFail('rack_jobs: cannot make a directory for the progress files: %s' % made.get('msg'))
        return made['path']

    def _remove(self, scratch, local, task_vars):
        if local:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            self._outside_check_mode('ansible.legacy.file', dict(path=scratch, state='absent'), task_vars)

    def _outside_check_mode(self, module, module_args, task_vars):
        """The scratch directory on a remote control node is made and removed also in check mode
        (a check run's plan needs it, as ``check_mode: false`` on a task would)."""
        saved = self._task.check_mode
        self._task.check_mode = False
        try:
            return self._execute_module(module_name=module, module_args=module_args, task_vars=task_vars)
        finally:
            self._task.check_mode = saved
