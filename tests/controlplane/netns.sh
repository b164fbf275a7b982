#!/usr/bin/env bash
# Runs a command in a new network namespace with only loopback up: what it starts (local
# control planes, a real node and its pods) can reach nothing but loopback and the
# namespaces it makes itself, whatever it does. The namespace ends with the command.
#
#   tests/controlplane/netns.sh COMMAND [ARG...]
set -euo pipefail
(($#)) || { echo "usage: netns.sh COMMAND [ARG...]" >&2; exit 2; }
exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns.sh "$@"
