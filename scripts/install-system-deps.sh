#!/bin/sh
# Installs the operating-system tools the grading sandbox uses, when this machine allows it.
# bubblewrap gives the sandboxed kernel its own mount, PID and network namespaces. Without it the
# grader still runs, with weaker isolation, and says so in every grade report.
set -u
if command -v bwrap >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing bubblewrap for the grading sandbox..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null 2>&1 \
        || echo "warning: could not install bubblewrap; grading will run with weaker isolation" >&2
else
    echo "note: bubblewrap (bwrap) is not installed and this user cannot install it;" >&2
    echo "      grading will run with weaker isolation (see docs/threat-model.md)." >&2
fi
exit 0
