# -*- coding: utf-8 -*-
# Copyright: spineleaf.baremetal contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import math
from collections import Counter

from ansible.errors import AnsibleFilterError

# Seconds added to every rack job's limit: start-up, listing and the last poll of a rack.
MARGIN = 600


def rack_job_timeout(rack_size, concurrency, timeout, retries=0, margin=MARGIN):
    """The one time limit of a rack's background job (async) and of its wait: every node of the
    largest rack, ``concurrency`` at a time, each with all its attempts, plus a margin. A backstop:
    the nodes' own timeouts end a stuck node first. ``rack_size``: a count, or one rack name per
    node (the largest rack counts)."""
    try:
        if isinstance(rack_size, (list, tuple)):
            counts = Counter(str(r) for r in rack_size if r is not None and str(r) != '')
            size = max(counts.values()) if counts else 0
        else:
            size = int(rack_size)
        concurrency, timeout, retries, margin = int(concurrency), int(timeout), int(retries), int(margin)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError('rack_job_timeout: expected numbers (rack size, concurrency, timeout, retries): %s' % exc)
    if size < 0 or concurrency < 1 or timeout < 1 or retries < 0:
        raise AnsibleFilterError('rack_job_timeout: rack size %s, concurrency %s, timeout %s, retries %s: concurrency and '
                                 'timeout must be at least 1, size and retries not negative' % (size, concurrency, timeout, retries))
    return int(math.ceil(max(size, 1) / float(concurrency))) * timeout * (retries + 1) + margin


class FilterModule:
    def filters(self):
        return {'rack_job_timeout': rack_job_timeout}
