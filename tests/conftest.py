"""Make the checkout importable as ansible_collections.spineleaf.baremetal for every test."""
import atexit
import os
import shutil
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".collections")
link = os.path.join(COLLECTIONS, "ansible_collections", "spineleaf", "baremetal")
if not os.path.exists(link):
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink("../../..", link)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

# The topology reports default to $XDG_DATA_HOME/spineleaf/reports/<site> (else ~/.local/share/...):
# the suite's runs write theirs into a directory of this test process, not into the operator's home,
# where test sessions running side by side would also merge into each other's reports.
_DATA_HOME = tempfile.mkdtemp(prefix="spineleaf-test-data-")
os.environ["XDG_DATA_HOME"] = _DATA_HOME
atexit.register(shutil.rmtree, _DATA_HOME, True)
