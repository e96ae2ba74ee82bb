"""Task timing for benchmarks (bench/bench_site.py): per task, its wall time (task start to the
next task's start: the linear strategy runs one task at a time over all hosts), its action and
how many hosts ran / skipped it. Written as JSON to $SITE_TIMING_FILE at the end of the run.

Enabled by bench_site.py with ANSIBLE_CALLBACKS_ENABLED=site_timing and
ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins (it is not part of the collection)."""
import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: site_timing
type: aggregate
short_description: per-task wall time to a JSON file (benchmarks only)
description: [Per task, wall time, action and host counts, written to $SITE_TIMING_FILE.]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "site_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.tasks = []
        self.current = None
        self.play = None
        self.start = time.perf_counter()

    def _close(self):
        if self.current is not None:
            self.current["seconds"] = time.perf_counter() - self.current.pop("_t0")
            self.tasks.append(self.current)
            self.current = None
            self._write(partial=True)  # a run stopped half-way still tells where its time went

    def _write(self, partial=False):
        path = os.environ.get("SITE_TIMING_FILE")
        if path:
            with open(path + ".tmp", "w") as f:
                json.dump({"wall": time.perf_counter() - self.start, "partial": partial, "tasks": self.tasks}, f)
            os.replace(path + ".tmp", path)

    def v2_playbook_on_play_start(self, play):
        self._close()
        self.play = play.get_name()

    def _task(self, task, handler=False):
        self._close()
        self.current = {"play": self.play, "name": task.get_name(), "action": task.action,
                        "path": task.get_path() or "", "handler": handler,
                        "run_once": bool(task.run_once), "hosts": 0, "skipped": 0, "changed": 0, "failed": 0,
                        "_t0": time.perf_counter()}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task(task, handler=True)

    def _count(self, result, key=None):
        if self.current is None:
            return
        self.current["hosts"] += 1
        if key:
            self.current[key] += 1
        if key is None and result._result.get("changed"):
            self.current["changed"] += 1

    def v2_runner_on_ok(self, result):
        self._count(result)
        bulk = ("rack_jobs", "rack_progress_wait", "ironic_rollout", "ironic_provision")
        if self.current is not None and self.current["action"].endswith(bulk):
            # the bulk calls' own time: each rack job's `elapsed` and its nodes' durations
            res = result._result
            racks = res.get("results") if isinstance(res.get("results"), list) else [res]
            self.current.setdefault("racks", []).extend(
                {"rack": r.get("rack"), "elapsed": r.get("elapsed"),
                 "durations": [n.get("duration") for n in r.get("nodes") or [] if isinstance(n, dict)]}
                for r in racks if isinstance(r, dict))

    def v2_runner_on_skipped(self, result):
        self._count(result, "skipped")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._count(result, "failed")

    def v2_playbook_on_stats(self, stats):
        self._close()
        self._write()
