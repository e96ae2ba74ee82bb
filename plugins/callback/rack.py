# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
name: rack
type: stdout
short_description: Output for sites of thousands of nodes - per rack, and one line per failed node
version_added: 0.1.0
description:
  - "ansible-core's C(default) output, quieter per host: the collection's roles make one bulk call
    per rack (run once) and then one small result task per host. At verbosity 0 this callback
    shows the run-once tasks as C(default) does (the rack progress lines, the per-rack reports and
    the site summary), one line per failed host with its reason
    (C(FAILED [r01-n03] Result of this node: failed: node r01-n03: ...)), and the recap; nothing for
    a host whose task was ok, changed or skipped."
  - A task banner is printed only above a line that is shown.
  - With C(-v) or more, the output is C(default)'s.
  - Only what is printed changes; the events (ansible-runner, AWX) stay complete.
  - "Enable it in C(ansible.cfg): C(stdout_callback = spineleaf.baremetal.rack) (or
    C(ANSIBLE_STDOUT_CALLBACK=spineleaf.baremetal.rack))."
extends_documentation_fragment:
  - default_callback
  - result_format_callback
requirements:
  - set as stdout in configuration
author:
  - Spineleaf Baremetal Team (@spineleaf)
'''

from ansible import constants as C
from ansible.playbook.task_include import TaskInclude
from ansible.plugins.callback.default import CallbackModule as DefaultCallback


class CallbackModule(DefaultCallback):
    """ansible-core's default callback; at verbosity 0 per-host results are quiet except failures."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'spineleaf.baremetal.rack'

    def _quiet(self, task):
        """Per-host results of a task are hidden at verbosity 0 (run-once tasks speak for the rack)."""
        # run_once may be a template (the roles' host result tasks: once and skipped when site.yml
        # reports each node at its end): only a literal true is a run-once task here.
        return self._display.verbosity < 1 and task.run_once is not True and not isinstance(task, TaskInclude)

    def _task_start(self, task, prefix=None):
        # The banner waits for the first line shown under it (the default prints it at once
        # when ok and skipped hosts are displayed).
        if prefix is not None:
            self._task_type_cache[task._uuid] = prefix
        self._last_task_name = task.get_name().strip()

    @staticmethod
    def _reason(result):
        res = result.result
        msg = res.get('msg')
        if not msg and isinstance(res.get('results'), list):  # a loop: the failed items' messages
            msg = '; '.join(str(r.get('msg')) for r in res['results'] if isinstance(r, dict) and r.get('failed') and r.get('msg'))
        return ' '.join(str(msg or 'failed').split())

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not self._quiet(result.task):
            return super().v2_runner_on_failed(result, ignore_errors)
        # (no _handle_warnings_and_exception: its error block would repeat the line below in 6)
        line = 'FAILED [%s] %s: %s' % (self.host_label(result), self._last_task_name or result.task.get_name(),
                                       self._reason(result))
        if ignore_errors:
            line += ' (ignored)'
        self._display.display(line, color=C.COLOR_SKIP if ignore_errors else C.COLOR_ERROR,
                              stderr=self.get_option('display_failed_stderr'))
        return None

    def v2_runner_on_ok(self, result):
        if not self._quiet(result.task):
            return super().v2_runner_on_ok(result)
        self._handle_warnings_and_exception(result)
        return None

    def v2_runner_on_skipped(self, result):
        if not self._quiet(result.task):
            return super().v2_runner_on_skipped(result)
        return None

    def v2_runner_item_on_ok(self, result):
        if not self._quiet(result.task):
            return super().v2_runner_item_on_ok(result)
        return None

    def v2_runner_item_on_skipped(self, result):
        if not self._quiet(result.task):
            return super().v2_runner_item_on_skipped(result)
        return None

    def v2_runner_item_on_failed(self, result):
        if not self._quiet(result.task):
            return super().v2_runner_item_on_failed(result)
        return None  # the task's failure line carries the failed items' messages
