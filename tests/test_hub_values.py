"""The Zero to JupyterHub settings (kernel-setup/container/jupyterhub-values.yaml) fail closed.

Checked: the login is not the chart's "dummy" (anyone, under any name) and sign-ups wait for the
instructor; the settings' own start-up guard (hub.extraConfig) stops the Hub while no instructor
is named, and lets it start once one is; the kernel started ahead is for the folder the notebooks
are copied into. With `--chart DIR` (a checkout of the chart's `jupyterhub/` folder, e.g. from
https://github.com/jupyterhub/zero-to-jupyterhub-k8s), the settings, laid over the chart's
defaults as Helm does, are also validated against its values.schema.yaml; CI cannot reach the
chart's repository, so that one is run by hand and reported as skipped otherwise.
"""

import copy
import pathlib

import pytest
import yaml
from traitlets.config import Config

pytestmark = pytest.mark.quick

VALUES = pathlib.Path(__file__).resolve().parent.parent / "kernel-setup" / "container" / "jupyterhub-values.yaml"


@pytest.fixture
def values():
    return yaml.safe_load(VALUES.read_text())


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


def test_the_login_is_not_anyone_under_any_name(values):
    hub = values["hub"]["config"]
    login = hub["JupyterHub"].get("authenticator_class")
    assert login not in (None, "dummy", "null", "jupyterhub.auth.DummyAuthenticator"), (
        f"the login is {login!r}: anyone reaching the Hub logs in under any name"
    )
    if login == "nativeauthenticator.NativeAuthenticator":
        assert not hub.get("NativeAuthenticator", {}).get("open_signup"), (
            "open_signup is on: anyone reaching the Hub makes an account and logs in"
        )


def test_the_hub_stops_until_an_instructor_is_named(values):
    stopped = start_hub_config(values, admins=None)
    assert stopped is not None and "admin_users" in stopped, f"the Hub starts as shipped: {stopped!r}"
    stopped = start_hub_config(values, admins=["ada"])
    assert stopped is None, f"with an instructor named, the Hub still refuses to start: {stopped}"


@pytest.mark.parametrize(
    "login, why",
    [
        ("dummy", "lets anyone in"),
        ("oauthenticator.github.GitHubOAuthenticator", "with allow_all, admits every GitHub account"),
    ],
)
def test_an_open_login_stops_the_hub(values, login, why):
    values["hub"]["config"]["JupyterHub"]["authenticator_class"] = login
    assert start_hub_config(values, admins=["ada"]) is not None, f"with {login} (which {why}), the Hub starts"


def test_removing_the_instructor_list_stops_the_hub_and_says_why(values):
    del values["hub"]["config"]["Authenticator"]["admin_users"]
    stopped = start_hub_config(values, admins=None)
    assert stopped is not None and "admin_users" in stopped, f"it starts or stops without saying why: {stopped!r}"


def test_the_warm_kernel_is_for_the_notebooks_folder(values):
    pool_folder = values["singleuser"].get("extraEnv", {}).get("HEAT_KERNEL_POOL_DIR")
    copy_command = " ".join(values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"])
    assert pool_folder and f"/home/jovyan/{pool_folder}" in copy_command, (
        f"the kernel pool's folder {pool_folder!r} is not where the notebooks are copied"
    )


def test_the_settings_fit_the_charts_schema(values, request):
    chart = request.config.getoption("--chart")
    if chart is None:
        pytest.skip("by hand: --chart DIR, the chart's jupyterhub/ folder (CI cannot reach its repository)")
    import jsonschema

    schema = yaml.safe_load((chart / "values.schema.yaml").read_text())
    defaults = yaml.safe_load((chart / "values.yaml").read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(merged(defaults, values)), key=str)
    assert not errors, [f"{'.'.join(map(str, error.path))}: {error.message}" for error in errors]
