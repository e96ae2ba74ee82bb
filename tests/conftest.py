"""Make the checkout importable as ansible_collections.spineleaf.baremetal for every test."""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".collections")
link = os.path.join(COLLECTIONS, "ansible_collections", "spineleaf", "baremetal")
if not os.path.exists(link):
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink("../../..", link)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
