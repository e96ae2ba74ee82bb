"""The one reader of ansible-playbook's PLAY RECAP, for every test that asks what a run did per
host (the default callback's format, which ansible.cfg sets)."""
import re

RECAP_LINE = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
                        r"(?:\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+))?", re.M)
COUNTS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")


def recap(stdout):
    """Per-host counts of the last PLAY RECAP in ``stdout``: ``{host: {ok, changed, unreachable,
    failed, skipped, rescued, ignored}}`` (an empty dict when there is no recap)."""
    start = stdout.rfind("PLAY RECAP")
    if start < 0:
        return {}
    return dict((m.group(1), dict((name, int(value or 0)) for name, value in zip(COUNTS, m.groups()[1:])))
                for m in RECAP_LINE.finditer(stdout, start))


def _counts(stdout):
    counts = recap(stdout)
    assert counts, "no PLAY RECAP in the output: " + stdout[-3000:]  # never an empty answer that passes
    return counts


def changed_hosts(stdout):
    """The hosts the last PLAY RECAP counts a change on, sorted; fails when there is no recap."""
    return sorted(host for host, counts in _counts(stdout).items() if counts["changed"])


def failed_hosts(stdout):
    """The hosts the last PLAY RECAP counts a failure (or unreachable) on, sorted; fails when there
    is no recap."""
    return sorted(host for host, counts in _counts(stdout).items() if counts["failed"] or counts["unreachable"])
