# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import base64
import json
import os
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ..module_utils._rack_progress import progress_line, read_progress

display = Display()


class ActionModule(ActionBase):
    """Wait for per-rack asynchronous jobs, printing ``rack r01: 12/40 upgraded, 1 failed, 4 in
    progress`` for each unfinished rack every ``interval`` seconds (read from the progress file
    the module writes), and return each job's result. Used by the introspect, deploy and rolling_upgrade roles;
    the documentation is in ``plugins/modules/rack_progress_wait.py``."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('jobs', 'progress_dir', 'verb', 'interval', 'poll', 'timeout'))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _valid, args = self.validate_argument_spec(argument_spec=dict(
            jobs=dict(type='list', elements='dict', required=True),
            progress_dir=dict(type='path'),
            verb=dict(type='str', default='done'),
            interval=dict(type='float', default=30.0),
            poll=dict(type='float', default=0.5),
            timeout=dict(type='float', default=86400.0),
        ))
        jobs = [self._job(j, args['progress_dir']) for j in args['jobs'] if j.get('ansible_job_id')]
        result.update(changed=False, results=self._wait(jobs, args, task_vars))
        return result

    def _wait(self, jobs, args, task_vars):
        """Each job's result once all finished (in the jobs' order, with ``rack`` and ``ansible_job_id``),
        a progress line per unfinished rack every ``interval`` seconds; fails after ``timeout``."""
        local = self._connection.transport in ('local', 'ansible.builtin.local', 'ansible.legacy.local')
        async_dir = self._remote_expand_user(self.get_shell_option('async_dir', default='~/.ansible_async'))
        done = {}
        start = time.monotonic()
        next_line = start + args['interval']
        while len(done) < len(jobs):
            for i, job in enumerate(jobs):
                if i not in done:
                    status = self._status(job, async_dir, local, task_vars)
                    if status.get('finished'):
                        done[i] = status
                        # its last counts once, marked done: every rack's outcome shows in the output,
                        # also when it finished before the first interval
                        counts = self._progress(job.get('progress_file'), local, task_vars)
                        if counts:
                            counts.setdefault('rack', job.get('rack', '-'))
                            display.display(progress_line(counts, args['verb']) + ' (done)')
            now = time.monotonic()
            if len(done) < len(jobs) and now >= next_line:
                for i, job in enumerate(jobs):
                    if i not in done:
                        counts = self._progress(job.get('progress_file'), local, task_vars) or {}
                        counts.setdefault('rack', job.get('rack', '-'))
                        display.display(progress_line(counts, args['verb']))
                next_line = now + args['interval']
            if now - start > args['timeout']:
                raise AnsibleActionFail('racks %s: still running after %ss' % (
                    ', '.join(str(jobs[i].get('rack')) for i in range(len(jobs)) if i not in done), args['timeout']))
            if len(done) < len(jobs):
                time.sleep(args['poll'])
        return [dict(done[i], rack=job.get('rack'), ansible_job_id=job['ansible_job_id']) for i, job in enumerate(jobs)]

    @staticmethod
    def _job(raw, progress_dir):
        item = raw.get(raw.get('ansible_loop_var') or 'item')
        rack = raw.get('rack') or (item if isinstance(item, str) else '-')
        path = raw.get('progress_file') or (os.path.join(progress_dir, '%s.json' % rack) if progress_dir else None)
        # results_file: where async_wrapper writes the job's result. It expands the async dir with the
        # module's $HOME, which need not be the home the passwd entry gives (what expanding '~' here
        # would give): HOME=/other ansible-playbook, an execution environment's /runner.
        return dict(ansible_job_id=raw['ansible_job_id'], rack=rack, progress_file=path,
                    results_file=raw.get('results_file'))

    def _status(self, job, async_dir, local, task_vars):
        """The job's result once finished (``finished: true``), else ``{finished: false}``. A local
        job file is read directly (no process per poll); a remote one through async_status."""
        jid = job['ansible_job_id']
        if job.get('results_file'):
            async_dir = os.path.dirname(job['results_file'])
        if not local:
            return self._execute_module(module_name='ansible.legacy.async_status', task_vars=task_vars,
                                        module_args=dict(jid=jid, _async_dir=async_dir))
        path = os.path.join(async_dir, jid)
        try:
            with open(path) as handle:
                data = json.loads(handle.read())
        except (OSError, ValueError):
            return dict(finished=False)  # not written yet, or being written
        if 'started' in data:  # async_wrapper's "running" marker, or its own failure report
            return data if data.get('finished') else dict(finished=False)
        data['finished'] = True
        return data

    def _progress(self, path, local, task_vars):
        if not path:
            return None
        if local:
            return read_progress(path)
        got = self._execute_module(module_name='ansible.legacy.slurp', task_vars=task_vars, module_args=dict(src=path))
        try:
            return json.loads(base64.b64decode(got.get('content', '')))
        except (TypeError, ValueError):
            return None
