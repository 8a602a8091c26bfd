#!/usr/bin/env bash
# Starts JupyterLab on the tutorial's notebooks and prints the link to open, token included.
# setup.sh runs this once set-up is done; the container image runs it as its command.
#
#   bash kernel-setup/start-lab.sh                 on http://127.0.0.1:8888
#   bash kernel-setup/start-lab.sh --port 8899     on another port
#   bash kernel-setup/start-lab.sh --ip 0.0.0.0    on every interface (inside a container, whose
#                                                  port the host publishes on its own 127.0.0.1)
# JUPYTER_TOKEN, if set, is the token; otherwise a new random one. Ctrl-C stops it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="$repo/.venv"
port=8888
ip=127.0.0.1
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="${2:?--port needs a number}"; shift ;;
        --ip) ip="${2:?--ip needs an address}"; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "start-lab.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
[ -x "$venv/bin/jupyter" ] || { echo "start-lab.sh: not set up yet: run bash kernel-setup/setup.sh" >&2; exit 1; }

printf '\n==> %s\n' "starting JupyterLab on port $port (open the link with the token it prints; Ctrl-C stops it)"
as_root=()
if [ "$(id -u)" -eq 0 ]; then
    # JupyterLab refuses to start as root unless told; a fresh cloud VM or a container gives root.
    echo "warning: running JupyterLab as root (it listens on $ip only, behind a token)"
    as_root=(--allow-root)
fi
token="${JUPYTER_TOKEN:-$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(24))')}"
# The token goes to JupyterLab in its environment, never on its command line: any user of the
# machine can read a command line (ps, /proc/PID/cmdline), only this user the environment.
export JUPYTER_TOKEN="$token"
# JupyterLab hides a token it did not make itself ("token=..."), so the link is printed here.
# In a container the server listens on 0.0.0.0 and the host publishes the port on 127.0.0.1.
echo
echo "    open this link in a browser: http://127.0.0.1:$port/lab?token=$token"
echo
# port_retries=0: a port in use is an error that says so, not a server on another port than the link's.
exec "$venv/bin/jupyter" lab --no-browser --ip "$ip" --port "$port" --ServerApp.port_retries=0 \
    --notebook-dir "$repo/notebooks" "${as_root[@]}"
