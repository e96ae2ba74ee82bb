# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""One poller for many jobs: lists of nodes shared through files by the parallel jobs that poll one
Ironic (the rack jobs of one ``rack_jobs`` task, option ``shared_poll_dir``).

Without it each rack job lists Ironic's nodes in transit on its own: at 50 racks in inspection the
list ``?provision_state=inspect wait`` holds about 800 nodes and 50 jobs asked for it ten times a
second each, which kept Ironic's API busy with lists and starved the ramdisks' callbacks (2,000-node
run of #25). With a share, the first job whose copy is too old lists (under a lock: one list at a
time) and writes the result; the others read the file. A list is fresh for twice as long as it took
to read, at least ``min_age`` seconds: under load, less often.

A caller learns when the list it gets was started (``get`` returns it): a node the caller itself
moved after that (a provision verb) is read again on its own, so a shared list never shows a job
its own node as it was before its verb (``IronicReads.read_nodes``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time

try:
    import fcntl
except ImportError:  # not POSIX: no share (each job lists on its own, as without the option)
    fcntl = None

# The option every rack module takes (rack_jobs sets it to its scratch directory); documented in
# the doc fragment spineleaf.baremetal.shared_poll.
SHARED_POLL_SPEC = dict(shared_poll_dir=dict(type='path'))


class PollShare:
    """Shared, time-limited copies of lists in ``directory``; see the module's docstring."""

    def __init__(self, directory, min_age=0.5, max_age=5.0, clock=time.time):
        self.directory = directory
        self.min_age = min_age
        self.max_age = max_age
        self.clock = clock
        self.fetched = 0   # lists this process read from the API
        self.shared = 0    # lists it took from the share
        self._memo = {}    # path -> (stat signature, entry): an unchanged file is not parsed again

    @classmethod
    def open(cls, directory, **kwargs):
        """A share in ``directory`` (created if missing), or None when there is none to have."""
        if not directory or fcntl is None:
            return None
        os.makedirs(directory, exist_ok=True)
        return cls(directory, **kwargs)

    def key(self, *parts):
        return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]

    def get(self, key, fetch):
        """``(started, value)``: the shared value of ``key`` while it is fresh, else ``fetch()`` (under
        the key's lock, so parallel jobs wait for one read rather than each making their own) written
        for the others. ``started``: the time (``clock``) the read of the value began."""
        path = os.path.join(self.directory, 'poll-%s.json' % key)
        entry = self._fresh(path)
        if entry is not None:
            self.shared += 1
            return entry['started'], entry['value']
        try:
            lock = open(path + '.lock', 'a')
        except OSError:  # the share is gone (its task ended, the disk is full): read on one's own
            return self._fetch(fetch, None)
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                entry = self._fresh(path)  # another job read it while this one waited
                if entry is not None:
                    self.shared += 1
                    return entry['started'], entry['value']
                return self._fetch(fetch, path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _fetch(self, fetch, path):
        started = self.clock()
        value = fetch()
        self.fetched += 1
        if path is not None:
            try:
                self._store(path, dict(started=started, took=self.clock() - started, value=value))
            except OSError:  # not shared this time; the caller has its list
                pass
        return started, value

    def _fresh(self, path):
        entry = self._load(path)
        if entry is None:
            return None
        age = self.clock() - entry['started']
        if 0 <= age <= min(self.max_age, max(self.min_age, 2 * entry.get('took', 0))):
            return entry
        return None

    def _load(self, path):
        try:
            st = os.stat(path)
        except OSError:
            return None
        signature = (st.st_mtime_ns, st.st_size, st.st_ino)
        memo = self._memo.get(path)
        if memo is not None and memo[0] == signature:
            return memo[1]
        try:
            with open(path) as f:
                entry = json.load(f)
        except (OSError, ValueError):  # a file from an interrupted run: read again
            return None
        self._memo[path] = (signature, entry)
        return entry

    def _store(self, path, entry):
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix='.poll-')
        try:
            with os.fdopen(fd, 'w') as f:
                json.dump(entry, f)
            os.replace(tmp, path)  # readers see the old file or the new one, never half of one
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
