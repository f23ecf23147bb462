#!/bin/sh
# Installs the operating-system tools the grader and its tests use, when this machine allows it.
# - bubblewrap gives the sandboxed kernel its own mount, PID and network namespaces. Without it the
#   grader still runs, with weaker isolation, and says so in every grade report.
# - chromium and chromium-driver let the test suite drive nbgrader's formgrader in a headless
#   browser (tests/test_formgrader_browser.py); without them that test is skipped with a reason.
set -u
missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    missing="$missing chromium chromium-driver"
fi
if [ -z "$missing" ]; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing$missing (Debian packages)..."
    apt-get update -qq >/dev/null 2>&1 || echo "warning: apt-get update failed; trying the install anyway" >&2
    for package in $missing; do
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1 \
            || echo "warning: could not install $package" >&2
    done
    command -v bwrap >/dev/null 2>&1 \
        || echo "warning: no bubblewrap; grading will run with weaker isolation (see docs/threat-model.md)" >&2
else
    case "$missing" in
        *bubblewrap*)
            echo "note: bubblewrap (bwrap) is not installed and this user cannot install it;" >&2
            echo "      grading will run with weaker isolation (see docs/threat-model.md)." >&2 ;;
    esac
    case "$missing" in
        *chromium*)
            echo "note: chromium and chromium-driver are not installed (as root on Debian: apt-get install" >&2
            echo "      chromium chromium-driver); the formgrader browser test will be skipped." >&2 ;;
    esac
fi
exit 0
