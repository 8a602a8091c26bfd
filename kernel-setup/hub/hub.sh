#!/usr/bin/env bash
# One server for a class: a JupyterHub on this machine, each learner's JupyterLab in the
# tutorial's image (podman), each learner's work in a volume of their own.
#
#   sudo bash kernel-setup/hub/hub.sh --instructor NAME [--learners FILE] [--port 8000]
#                                     [--ip 127.0.0.1] [--image heat-accel:2026-11]
#                                     [--ssl-cert FILE --ssl-key FILE | --insecure-http]
#   sudo bash kernel-setup/hub/hub.sh --end-class     removes the learners' volumes and the Hub's state
#
#   --instructor NAME  the instructor's account (the Hub's admin); its password is made at the
#                      first start and kept in the state folder (printed where)
#   --learners FILE    one learner's name per line: an account each, with a password of its own,
#                      written to accounts.csv in the state folder for you to hand out. Without
#                      it, learners sign up at /hub/signup and wait until you authorize them at
#                      /hub/authorize. Nobody logs in without an account; a wrong name is refused.
#   --ip, --port       where learners reach the Hub (default 127.0.0.1:8000: this machine only).
#                      Any address but the loopback (127.x.x.x, ::1, localhost), 0.0.0.0 for a
#                      class on the network, needs --ssl-cert and --ssl-key, or --insecure-http:
#                      plain HTTP carries the learners' passwords, session cookies and notebooks
#                      in clear text. An HTTPS reverse proxy in front (Caddy, nginx) keeps the
#                      default 127.0.0.1 instead (docs/instructor-guide.md).
#   --ssl-cert FILE    the Hub serves HTTPS itself with this certificate (PEM, the chain after it)
#   --ssl-key FILE     and its private key
#   --insecure-http    plain HTTP on a network address anyway, with a warning: only on a closed
#                      network where you trust everyone who can listen
#   --image            the learners' image, built first from kernel-setup/container/Containerfile
#   --no-kernel-pool   no kernel started ahead in each server (HEAT_KERNEL_POOL=0): for a class
#                      that logs in together on a machine with fewer cores or less memory than
#                      learners need with it (docs/instructor-guide.md, "The same through the Hub")
#
# The class's settings (limits, notebook copy, login, idle timeout) are those of the Kubernetes
# path, read from kernel-setup/container/jupyterhub-values.yaml (hub/jupyterhub_config.py).
# Runs in the foreground; Ctrl-C ends the Hub and stops the learners' servers; their volumes
# (heat-accel-home-NAME) keep their notebooks until --end-class.
# State: $HEAT_HUB_STATE, default /var/lib/heat-accel-hub. Needs root (podman's networks and limits).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
instructor="" learners="" ip=127.0.0.1 port=8000 image=heat-accel:2026-11 end_class=false kernel_pool=1
ssl_cert="" ssl_key="" insecure_http=false
while [ $# -gt 0 ]; do
    case "$1" in
        --instructor) instructor="${2:?--instructor needs a name}"; shift 2 ;;
        --learners) learners="$(realpath "${2:?--learners needs a file}")"; shift 2 ;;
        --ip) ip="${2:?--ip needs an address}"; shift 2 ;;
        --port) port="${2:?--port needs a number}"; shift 2 ;;
        --image) image="${2:?--image needs an image name}"; shift 2 ;;
        # Absolute: the Hub runs in the state folder. -m: a missing file is refused below, with a reason.
        --ssl-cert) ssl_cert="$(realpath -m "${2:?--ssl-cert needs a file}")"; shift 2 ;;
        --ssl-key) ssl_key="$(realpath -m "${2:?--ssl-key needs a file}")"; shift 2 ;;
        --insecure-http) insecure_http=true; shift ;;
        --end-class) end_class=true; shift ;;
        --no-kernel-pool) kernel_pool=0; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "hub.sh: unknown option '$1' (see: bash kernel-setup/hub/hub.sh --help)" >&2; exit 2 ;;
    esac
done
# Learners log in with a password, then every request carries their session cookie, and their
# notebooks and outputs travel both ways: over plain HTTP anyone on the network path reads them,
# and a cookie read is the learner's account taken. So a network address needs HTTPS, or the
# instructor's word that the network is closed; checked before anything is installed or started.
host="$ip"
[[ "$ip" == *:* ]] && host="[$ip]"   # an IPv6 address, bracketed in a URL
if [ -n "$ssl_cert$ssl_key" ]; then
    if [ -z "$ssl_cert" ] || [ -z "$ssl_key" ]; then
        echo "hub.sh: give both --ssl-cert FILE and --ssl-key FILE (the certificate and its private key)" >&2
        exit 2
    fi
    for file in "$ssl_cert" "$ssl_key"; do
        if [ ! -f "$file" ] || [ ! -r "$file" ]; then
            echo "hub.sh: cannot read $file; give --ssl-cert and --ssl-key files that root can read" >&2
            exit 2
        fi
    done
elif ! [[ "$ip" =~ ^(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|::1|localhost)$ ]]; then
    if ! $insecure_http; then
        echo "hub.sh: --ip $ip would send learners' passwords over the network in clear text; give --ssl-cert FILE" \
            "--ssl-key FILE, or put the Hub behind an HTTPS proxy and keep --ip 127.0.0.1, or add --insecure-http" \
            "on a closed network (docs/instructor-guide.md)" >&2
        exit 2
    fi
    echo "hub.sh: warning: --insecure-http: the Hub at http://$host:$port is plain HTTP; the learners' passwords" \
        "at login, their session cookies (enough to act as them) and every notebook with its outputs cross the" \
        "network in clear text, readable by anyone on it" >&2
fi
# For tests/test_hub_script.py: the checks above, without root and without starting anything.
[ "${HEAT_HUB_CHECK_ONLY:-}" = 1 ] && exit 0
scheme=http
[ -n "$ssl_cert" ] && scheme=https
say() { printf '\n==> %s\n' "$*"; }
if [ "$(id -u)" -ne 0 ]; then
    echo "hub.sh: run it as root (sudo bash kernel-setup/hub/hub.sh ...): podman's networks and limits need root" >&2
    exit 1
fi
state="${HEAT_HUB_STATE:-/var/lib/heat-accel-hub}"
network=heat-accel-hub
export CONTAINERS_CONF="$repo/kernel-setup/container/containers.conf"

if $end_class; then
    mapfile -t volumes < <(podman volume ls --format '{{.Name}}' | grep '^heat-accel-home-' || true)
    for volume in "${volumes[@]}"; do
        podman ps -a -q --filter "volume=$volume" | xargs -r podman rm -f >/dev/null
        podman volume rm -f "$volume" >/dev/null
        echo "removed $volume"
    done
    rm -rf "$state"
    echo "the class's volumes (${#volumes[@]}) and the Hub's state ($state) are gone"
    exit 0
fi
if [ -z "$instructor" ]; then
    echo "hub.sh: name the instructor's account: --instructor NAME (the Hub does not start with nobody in charge)" >&2
    exit 2
fi
if [ -n "$learners" ] && [ ! -r "$learners" ]; then
    echo "hub.sh: cannot read the learners' list $learners" >&2
    exit 2
fi
# A learner's server peaks at 2.9 GB with the kernel pool, 1.9 GB without, while notebook 3 times
# the large plate's full history (tests/load_test.py --hub); a paced class runs it in the same
# minute. Past the machine's memory its out-of-memory killer ends kernels before heatlib can refuse
# a run.
if [ -n "$learners" ]; then
    class_size="$(grep -cvE '^[[:space:]]*(#|$)' "$learners" || true)"
    need_gb=$(( (class_size * (kernel_pool == 1 ? 29 : 19) + 5) / 10 + 2 ))
    have_gb=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024 / 1024 ))
    if [ "$need_gb" -gt "$have_gb" ]; then
        advice="a machine with more memory, or fewer learners on this one"
        [ "$kernel_pool" -eq 1 ] && advice="--no-kernel-pool (1.9 GB a learner), $advice"
        echo "hub.sh: warning: $class_size learners running notebook 3 together need about $need_gb GB" \
            "(their peaks and 2 GB for the system); this machine has $have_gb GB: too close, and past it the" \
            "out-of-memory killer ends learners' kernels. Use $advice." >&2
    fi
fi

say "Debian packages: podman, runc, Node.js"
bash "$repo/kernel-setup/debian-packages.sh" --with-hub
if ! podman image exists "$image"; then
    echo "hub.sh: no image '$image'. Build it first (about 15 minutes):" >&2
    echo "  podman build -f kernel-setup/container/Containerfile -t $image ." >&2
    exit 1
fi

say "JupyterHub, its spawner, login and culler (pinned: kernel-setup/hub/requirements.lock)"
env="$repo/target/hub-env"
if ! cmp -s "$here/requirements.lock" "$env/installed-from.lock" 2>/dev/null; then
    rm -rf "$env"
    python3 -m venv "$env"
    "$env/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$here/requirements.lock"
    cp "$here/requirements.lock" "$env/installed-from.lock"
fi
say "configurable-http-proxy (pinned: kernel-setup/hub/package-lock.json)"
if ! cmp -s "$here/package-lock.json" "$here/node_modules/.installed-from.json" 2>/dev/null; then
    (cd "$here" && npm ci --no-audit --no-fund --ignore-scripts)
    cp "$here/package-lock.json" "$here/node_modules/.installed-from.json"
fi

mkdir -p "$state"
chmod 700 "$state"
cd "$state"
# podman's Docker-compatible API, for the spawner; this Hub's own, ended with the Hub.
socket="$state/podman.sock"
rm -f "$socket"
# In a session of its own: Ctrl-C reaches the Hub, which stops the learners' servers through
# this service, and the service ends after it (stop, below).
setsid podman system service --time=0 "unix://$socket" &
podman_service=$!
# The learners' servers on a network of their own; the Hub's internal API listens on its
# gateway, so that the servers reach it and nothing outside this machine does. podman makes
# the network's bridge when a first container joins; the Hub listens before that, so hub.sh
# makes the bridge (podman then uses it).
if ! podman network exists "$network"; then
    podman network create --subnet "${HEAT_HUB_SUBNET:-10.89.77.0/24}" "$network" >/dev/null
fi
gateway="$(podman network inspect "$network" --format '{{range .Subnets}}{{.Gateway}}{{end}}')"
subnet="$(podman network inspect "$network" --format '{{range .Subnets}}{{.Subnet}}{{end}}')"
bridge="$(podman network inspect "$network" --format '{{.NetworkInterface}}')"
if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge
fi
# replace, not a check then add: a Hub started again right after the last one had its gateway
# refused as "already assigned" once (a run of tests/test_hub_class.py), though the check had not
# seen it; replace sets it whether or not it is there.
ip addr replace "$gateway/${subnet#*/}" dev "$bridge"
ip link set "$bridge" up

for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.2; done
say "the Hub: $scheme://$host:$port (learners' servers from $image)"
export DOCKER_HOST="unix://$socket"
export HEAT_HUB_IMAGE="$image" HEAT_HUB_INSTRUCTOR="$instructor" HEAT_HUB_STATE="$state"
export HEAT_HUB_BIND_URL="$scheme://$host:$port" HEAT_HUB_NETWORK="$network" HEAT_HUB_GATEWAY="$gateway"
export HEAT_HUB_SSL_CERT="$ssl_cert" HEAT_HUB_SSL_KEY="$ssl_key"
export HEAT_HUB_PROXY="$here/node_modules/.bin/configurable-http-proxy" HEAT_HUB_KERNEL_POOL="$kernel_pool"
"$env/bin/jupyterhub" -f "$here/jupyterhub_config.py" &
hub=$!
stop() {
    # The Hub stops the learners' servers as it ends; then podman's service goes.
    if kill -TERM "$hub" 2>/dev/null; then wait "$hub" || true; fi
    if kill -TERM "$podman_service" 2>/dev/null; then wait "$podman_service" || true; fi
}
trap stop EXIT
trap 'exit 130' INT TERM

# The instructor's account at once (an admin name is authorized at sign-up, so it must not be
# left for someone else to take), then the learners'.
local_ip="$host"
[ "$ip" = 0.0.0.0 ] && local_ip=127.0.0.1
hub_url="http://$local_ip:$port"
# With HTTPS the proxy's certificate names the host learners use, not this machine's own
# addresses, and may be self-signed: hub_accounts.py, which verifies certificates, would refuse
# it. It talks to the Hub itself instead, at the address the proxy forwards to (hub_bind_url in
# jupyterhub_config.py): plain HTTP, but to an address of this machine's own, so the passwords
# it makes never leave the machine.
[ -n "$ssl_cert" ] && hub_url="http://$gateway:8081"
accounts=("$env/bin/python" "$repo/kernel-setup/hub_accounts.py" --hub "$hub_url" --instructor "$instructor"
          --state "$state")
[ -n "$learners" ] && accounts+=(--learners "$learners")
if ! "${accounts[@]}"; then
    echo "hub.sh: the accounts could not be made (above); the Hub stops" >&2
    exit 1
fi
echo
echo "The Hub is at $scheme://$host:$port; Ctrl-C ends the class (learners' files stay until --end-class)."
wait "$hub"
