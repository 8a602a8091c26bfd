"""The Zero to JupyterHub settings (kernel-setup/container/jupyterhub-values.yaml) fail closed.

    .venv/bin/python tests/hub_values.py [--chart DIR]

Checked: the login is not the chart's "dummy" (anyone, under any name) and sign-ups wait for the
instructor; the settings' own start-up guard (hub.extraConfig) stops the Hub while no instructor
is named, and lets it start once one is; the kernel started ahead is for the folder the notebooks
are copied into. With --chart DIR (a checkout of the chart's `jupyterhub/` folder, e.g. from
https://github.com/jupyterhub/zero-to-jupyterhub-k8s), the settings, laid over the chart's
defaults as Helm does, are also validated against its values.schema.yaml.
"""

import argparse
import copy
import pathlib
import sys

import yaml
from outcome import report
from traitlets.config import Config

ROOT = pathlib.Path(__file__).resolve().parent.parent
VALUES = ROOT / "kernel-setup" / "container" / "jupyterhub-values.yaml"


def start_hub_config(values, admins):
    """Runs the settings' hub.config and hub.extraConfig as the chart's jupyterhub_config.py
    does (config sections first, then each extraConfig in name order); returns what stopped it."""
    c = Config()
    for section, settings in values["hub"]["config"].items():
        c[section].update(copy.deepcopy(settings))
    if admins is not None:
        c.Authenticator.admin_users = admins
    try:
        for _, code in sorted(values["hub"].get("extraConfig", {}).items()):
            exec(code, {"c": c})
    except SystemExit as stopped:
        return str(stopped)
    except Exception as error:  # noqa: BLE001  (the guard itself must not break on odd settings)
        return f"the guard broke: {type(error).__name__}: {error}"
    return None


def merged(defaults, values):
    """`values` laid over `defaults`, as Helm merges a values file into a chart's."""
    result = copy.deepcopy(defaults)
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--chart", type=pathlib.Path, help="the chart's folder, with values.yaml and values.schema.yaml"
    )
    args = parser.parse_args()
    values = yaml.safe_load(VALUES.read_text())
    problems = []
    hub = values["hub"]["config"]
    login = hub["JupyterHub"].get("authenticator_class")
    if login in (None, "dummy", "null", "jupyterhub.auth.DummyAuthenticator"):
        problems.append(f"the login is {login!r}: anyone reaching the Hub logs in under any name")
    if login == "nativeauthenticator.NativeAuthenticator" and hub.get("NativeAuthenticator", {}).get("open_signup"):
        problems.append("open_signup is on: anyone reaching the Hub makes an account and logs in")
    stopped = start_hub_config(values, admins=None)
    if stopped is None or "admin_users" not in stopped:
        problems.append(f"the Hub starts with the settings as shipped (no instructor named): {stopped!r}")
    stopped = start_hub_config(values, admins=["ada"])
    if stopped is not None:
        problems.append(f"with an instructor named, the Hub still refuses to start: {stopped}")
    for login, why in [
        ("dummy", "lets anyone in"),
        ("oauthenticator.github.GitHubOAuthenticator", "with allow_all, admits every GitHub account"),
    ]:
        changed = copy.deepcopy(values)
        changed["hub"]["config"]["JupyterHub"]["authenticator_class"] = login
        if start_hub_config(changed, admins=["ada"]) is None:
            problems.append(f"with the login changed to {login} (which {why}), the Hub starts")
    no_admins = copy.deepcopy(values)
    del no_admins["hub"]["config"]["Authenticator"]["admin_users"]
    stopped = start_hub_config(no_admins, admins=None)
    if stopped is None or "admin_users" not in stopped:
        problems.append(f"with admin_users removed, the Hub starts or stops without saying why: {stopped!r}")
    pool_folder = values["singleuser"].get("extraEnv", {}).get("HEAT_KERNEL_POOL_DIR")
    copy_command = " ".join(values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"])
    if not pool_folder or f"/home/jovyan/{pool_folder}" not in copy_command:
        problems.append(f"the kernel pool's folder {pool_folder!r} is not where the notebooks are copied")
    if args.chart:
        import jsonschema

        schema = yaml.safe_load((args.chart / "values.schema.yaml").read_text())
        defaults = yaml.safe_load((args.chart / "values.yaml").read_text())
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(merged(defaults, values)), key=str)
        problems += [f"schema: {'.'.join(map(str, error.path))}: {error.message}" for error in errors]
        print(f"validated against {args.chart / 'values.schema.yaml'}: {len(errors)} errors", flush=True)
    return report("hub_values", problems)


if __name__ == "__main__":
    sys.exit(main())
