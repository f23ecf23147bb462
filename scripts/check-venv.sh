#!/bin/sh
# Usage: check-venv.sh VENV PYTHON
# A virtual environment made by another Python than the one `make` builds with (python3 upgraded
# since, a .venv copied from another machine, an interpreter that no longer exists) is removed, so
# that `make` rebuilds it from nothing instead of installing into an environment that cannot work.
set -eu
venv=$1
python=$2
[ -e "$venv" ] || [ -L "$venv" ] || exit 0
version='import sys; print("%d.%d" % sys.version_info[:2])'
want=$("$python" -c "$version")
have=$("$venv/bin/python" -c "$version" 2>/dev/null || echo "none that runs")
if [ "$have" != "$want" ]; then
    echo "make: $venv has Python $have, but $python is Python $want: removing it to rebuild it" >&2
    rm -rf "$venv"
fi
