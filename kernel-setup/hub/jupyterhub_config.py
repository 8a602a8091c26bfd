# The one-machine JupyterHub for a class: read by `jupyterhub` when kernel-setup/hub/hub.sh starts it.
#
# The class's settings are not written here: they are read from the Zero to JupyterHub values file
# (kernel-setup/container/jupyterhub-values.yaml), so that a class on one machine and a class on
# Kubernetes get the same image command, the same per-learner CPU and memory limits, the same copy
# of the notebooks, the same kernel pool folder, the same login and its start-up guard, and the same
# idle timeout. Only what differs between the two platforms is here: podman instead of Kubernetes,
# a podman volume per learner instead of a persistent volume claim, the addresses.
#
# hub.sh hands over, in the environment:
#   HEAT_HUB_IMAGE       the learners' image (the tutorial's, built from kernel-setup/container/)
#   HEAT_HUB_INSTRUCTOR  the instructor's account name (the Hub's admin)
#   HEAT_HUB_STATE       the folder for the Hub's database, cookie secret and logs
#   HEAT_HUB_BIND_URL    where learners reach the Hub (the proxy's public address); https:// with
#   HEAT_HUB_SSL_CERT    the certificate and
#   HEAT_HUB_SSL_KEY     its key, when given (hub.sh --ssl-cert, --ssl-key): the proxy serves HTTPS
#   HEAT_HUB_NETWORK     the podman network of the learners' servers
#   HEAT_HUB_GATEWAY     the Hub's address on that network (its internal API listens there only)
#   HEAT_HUB_PROXY       the configurable-http-proxy command
#   HEAT_HUB_CULL_TIMEOUT  optional: seconds idle before a server is stopped (default: the values file's)
import os
import pathlib
import shlex
import sys

import yaml

VALUES = pathlib.Path(__file__).resolve().parent.parent / "container" / "jupyterhub-values.yaml"
values = yaml.safe_load(VALUES.read_text())
singleuser = values["singleuser"]
state = pathlib.Path(os.environ["HEAT_HUB_STATE"])
c = get_config()  # noqa: F821  (jupyterhub defines it for its config files)

# Where learners come in, and where the Hub's own API listens: on the learners' network only,
# so that nothing but the proxy in front is reachable from outside this machine. With a
# certificate the proxy serves HTTPS (JupyterHub hands it the files), so that the learners'
# passwords, cookies and notebooks do not cross the network in clear text.
if os.environ.get("HEAT_HUB_SSL_CERT"):
    c.JupyterHub.ssl_cert = os.environ["HEAT_HUB_SSL_CERT"]
    c.JupyterHub.ssl_key = os.environ["HEAT_HUB_SSL_KEY"]
c.JupyterHub.bind_url = os.environ["HEAT_HUB_BIND_URL"]
c.JupyterHub.hub_bind_url = f"http://{os.environ['HEAT_HUB_GATEWAY']}:8081"
c.ConfigurableHTTPProxy.command = [os.environ["HEAT_HUB_PROXY"]]
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "cookie_secret")

# The login, its settings and its start-up guard, as on Kubernetes (hub.config, hub.extraConfig).
for section, settings in values["hub"]["config"].items():
    c[section].update(settings)
c.Authenticator.admin_users = {os.environ["HEAT_HUB_INSTRUCTOR"]}
for _, guard in sorted(values["hub"].get("extraConfig", {}).items()):
    exec(guard, {"c": c})

# Each learner's server: the tutorial's image through podman's Docker-compatible API.
c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.image = os.environ["HEAT_HUB_IMAGE"]
c.DockerSpawner.cmd = [singleuser["cmd"]]
c.DockerSpawner.default_url = singleuser["defaultUrl"]
# The limits, not the guarantees: podman has nothing that reserves cores or memory ahead. Swap
# is capped at the memory limit, as Kubernetes runs pods without swap: heatlib refuses a run
# that does not fit in the limit instead of the server crawling.
c.DockerSpawner.cpu_limit = float(singleuser["cpu"]["limit"])
c.DockerSpawner.mem_limit = singleuser["memory"]["limit"]
c.DockerSpawner.extra_host_config = {"memswap_limit": singleuser["memory"]["limit"]}
c.DockerSpawner.environment = dict(singleuser.get("extraEnv", {}))
if os.environ.get("HEAT_HUB_KERNEL_POOL") == "0":  # hub.sh --no-kernel-pool
    c.DockerSpawner.environment["HEAT_KERNEL_POOL"] = "0"
# The notebooks copied into the learner's home after the server starts (Kubernetes: postStart).
c.DockerSpawner.post_start_cmd = shlex.join(singleuser["lifecycleHooks"]["postStart"]["exec"]["command"])
# The learner's home is a podman volume of their own: it outlives their server (stopped by the
# culler, by the learner, or with the Hub) and holds their edited notebooks and outputs.
c.DockerSpawner.volumes = {"heat-accel-home-{username}": "/home/jovyan"}
c.DockerSpawner.remove = True
c.DockerSpawner.network_name = os.environ["HEAT_HUB_NETWORK"]
c.DockerSpawner.use_internal_ip = True
# A first start builds nothing (the image's build cache is warm), but several learners starting
# together on a small machine share its cores.
c.DockerSpawner.start_timeout = 300
c.DockerSpawner.http_timeout = 180

# Stop servers idle this long (their files stay in the learner's volume), as cull.timeout does.
timeout = int(os.environ.get("HEAT_HUB_CULL_TIMEOUT") or values["cull"]["timeout"])
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={timeout}", "--cull-every=60"],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
