"""rack_job_timeout: the one time limit of a rack's background job."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spineleaf.baremetal.plugins.filter.rack_job import rack_job_timeout


def test_rule_from_size_concurrency_retries_and_timeout():
    assert rack_job_timeout(40, 16, 3600, 1) == 3 * 3600 * 2 + 600
    assert rack_job_timeout(40, 4, 100) == 10 * 100 + 600
    assert rack_job_timeout(0, 4, 100, margin=0) == 100  # an empty rack still gets one round


def test_largest_rack_of_the_hosts():
    assert rack_job_timeout(['r1'] * 3 + ['r2'] * 9 + ['', None], 4, 10, 0, 0) == 3 * 10


@pytest.mark.parametrize('args', [(40, 0, 10), (40, 4, 0), ('x', 4, 10), (4, 4, 10, -1)])
def test_bad_input_names_the_numbers(args):
    with pytest.raises(AnsibleFilterError, match='rack_job_timeout'):
        rack_job_timeout(*args)
