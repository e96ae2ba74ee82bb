# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# PRIVATE to the spineleaf.baremetal collection.
"""Progress of a long per-rack task: the module running asynchronously writes its counts to a
small JSON file, the role's wait (action plugin ``rack_progress_wait``) reads it and prints one
line per rack, ``rack r01: 12/40 upgraded, 1 failed, 4 in progress``."""

from __future__ import annotations

import json
import os
import warnings


def progress_line(counts, verb):
    """The progress line of one rack from ``{rack, total, done, failed, in_progress[, maintenance]}``
    (nodes left alone in maintenance are named only when there are some)."""
    line = 'rack %s: %d/%d %s, %d failed, %d in progress' % (
        counts.get('rack', '-'), int(counts.get('done', 0)), int(counts.get('total', 0)), verb,
        int(counts.get('failed', 0)), int(counts.get('in_progress', 0)))
    if int(counts.get('maintenance', 0) or 0):
        line += ', %d in maintenance' % int(counts['maintenance'])
    return line


def progress_writer(path, warn=None, **fixed):
    """The one progress contract: a ``progress(counts)`` callback that writes ``counts`` (plus
    ``fixed``, e.g. ``rack``) to ``path`` when they change, replacing the file atomically (a reader
    never sees half of it); None when ``path`` is empty.

    Writing the file never aborts the work it reports on: an error (a full disk, a directory
    removed, counts that are not JSON) is handed to ``warn(msg)`` (the module's ``warn``; Python's
    ``warnings.warn`` when none is given), once per distinct error, and the work goes on."""
    if not path:
        return None
    last = {}
    warned = set()

    def write(counts):
        counts = dict(counts, **fixed)
        if counts == last:
            return
        try:
            tmp = '%s.tmp' % path
            with open(tmp, 'w') as handle:
                json.dump(counts, handle)
            os.replace(tmp, path)
        except (OSError, TypeError, ValueError) as exc:
            msg = 'progress_file %s: cannot write it (%s); the work goes on' % (path, exc)
            if msg not in warned:
                warned.add(msg)
                (warn or warnings.warn)(msg)
            return
        last.clear()
        last.update(counts)
    return write


def read_progress(path):
    """The counts last written to ``path``, or None (not written yet, or unreadable)."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None
