#!/usr/bin/env bash
# ansible-test sanity, run from a copy at .../ansible_collections/spineleaf/baremetal as it requires.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-$top/.venv/bin/python}
case "$PYTHON" in /*) ;; *) PYTHON="$top/$PYTHON" ;; esac  # we cd elsewhere below
bin=$(dirname "$PYTHON")

# ansible-test bootstraps pip from a host unreachable here: seed its cache with a stand-in
# that uses CPython's bundled pip wheel (see README "Tests").
cache=~/.ansible/test/cache
mkdir -p "$cache"
[ -f "$cache/get_pip_24_2.py" ] || cp "$top/tests/sanity/get_pip_stand_in.py" "$cache/get_pip_24_2.py"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/spineleaf/baremetal"
mkdir -p "$dest"
# Only the files git tracks (a new file counts once it is `git add`ed): untracked scratch files in
# the checkout are not part of the collection and must not fail its sanity test.
(cd "$top" && git ls-files -z | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
   | tar --null -T - -cf -) | tar -C "$dest" -xf -
cd "$dest"
git init -q . && git add -A >/dev/null 2>&1 || true
"$bin/ansible-test" sanity --python 3.11 --venv --color no "$@"
