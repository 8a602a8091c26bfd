"""The Zero to JupyterHub settings (kernel-setup/container/jupyterhub-values.yaml) fail closed.

Checked: the login is not the chart's "dummy" (anyone, under any name) and sign-ups wait for the
instructor; the settings' own start-up guard (hub.extraConfig) stops the Hub while no instructor
is named, and lets it start once one is; it stops it too, saying which setting, when the login in
force would let anyone in (dummy, null, shared-password, whether named by entry point, dotted path
or class object, or left to the chart's default), when NativeAuthenticator's sign-ups log in
without authorization (open_signup), and when allow_all is on in any section of a login other
than NativeAuthenticator (Authenticator, OAuthenticator, GitHubOAuthenticator); NativeAuthenticator
with allow_all, and an OAuth login limited to an organization, still start. The kernel started
ahead is for the folder the notebooks are copied into. The settings, laid over the chart's
defaults as Helm does, are also validated against its values.schema.yaml: the chart's folder is
`--chart DIR`, by default ../shared/z2jh-chart beside the checkout (the chart's schema and
defaults for appVersion 5.5.0, which CI has); reported as skipped, with why, where there is none.
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
    stopped = start_hub_config(values, admins=["ada"])
    assert stopped is not None and stopped.startswith("heat-accel: "), f"with {login} (which {why}): {stopped!r}"


REMOVED = object()


class DummyAuthenticator:
    """Stands for jupyterhub.auth.DummyAuthenticator as a class object: the guard goes by names."""


class ClassroomLogin(DummyAuthenticator):
    """A login of one's own built on the dummy one: as open as it."""


class GitHubOAuthenticator:
    """Stands for oauthenticator.github.GitHubOAuthenticator as a class object."""


def changed(values, login, sections):
    """`values` with hub.config.JupyterHub.authenticator_class set to `login` (None: as shipped;
    REMOVED: unset, so the chart's default) and `sections` laid over hub.config, a setting of
    REMOVED deleted."""
    config = values["hub"]["config"]
    if login is REMOVED:
        del config["JupyterHub"]["authenticator_class"]
    elif login is not None:
        config["JupyterHub"]["authenticator_class"] = login
    for section, settings in sections.items():
        for key, value in settings.items():
            if value is REMOVED:
                config.setdefault(section, {}).pop(key, None)
            else:
                config.setdefault(section, {})[key] = value
    return values


# The shipped Authenticator.allow_all taken out, so that only the section under test turns it on.
ONLY = {"Authenticator": {"allow_all": REMOVED}}
OPEN_LOGIN = "does not tell learners apart"


@pytest.mark.parametrize(
    "login, sections, said",
    [
        pytest.param(
            None, {"NativeAuthenticator": {"open_signup": True}}, "NativeAuthenticator.open_signup", id="open_signup"
        ),
        pytest.param(
            "github",
            {**ONLY, "GitHubOAuthenticator": {"allow_all": True}},
            "hub.config.GitHubOAuthenticator.allow_all",
            id="github-own-section-allow_all",
        ),
        pytest.param(
            "oauthenticator.github.GitHubOAuthenticator",
            {**ONLY, "GitHubOAuthenticator": {"allow_all": True}},
            "hub.config.GitHubOAuthenticator.allow_all",
            id="github-dotted-own-section-allow_all",
        ),
        pytest.param(
            GitHubOAuthenticator,
            {**ONLY, "GitHubOAuthenticator": {"allow_all": True}},
            "hub.config.GitHubOAuthenticator.allow_all",
            id="github-class-object-own-section-allow_all",
        ),
        pytest.param(
            "github",
            {**ONLY, "OAuthenticator": {"allow_all": True}},
            "hub.config.OAuthenticator.allow_all",
            id="oauthenticator-allow_all",
        ),
        pytest.param("generic-oauth", {}, "hub.config.Authenticator.allow_all", id="generic-oauth-shipped-allow_all"),
        pytest.param("pam", {}, "hub.config.Authenticator.allow_all", id="pam-shipped-allow_all"),
        pytest.param("shared-password", {}, OPEN_LOGIN, id="shared-password"),
        pytest.param(
            "jupyterhub.authenticators.shared.SharedPasswordAuthenticator", {}, OPEN_LOGIN, id="shared-dotted"
        ),
        pytest.param("null", {}, OPEN_LOGIN, id="null"),
        pytest.param("tmp", {}, OPEN_LOGIN, id="tmpauthenticator"),
        pytest.param("tmpauthenticator.TmpAuthenticator", {}, OPEN_LOGIN, id="tmpauthenticator-dotted"),
        pytest.param(
            None,
            {"Authenticator": {"open_signup": True}},
            "Authenticator.open_signup",
            id="open_signup-in-Authenticator",
        ),
        pytest.param(
            None,
            {"JupyterHub": {"NativeAuthenticator": {"open_signup": True}}},
            "hub.config.JupyterHub.NativeAuthenticator.open_signup",
            id="open_signup-nested-under-JupyterHub",
        ),
        pytest.param("jupyterhub.auth.DummyAuthenticator", {}, OPEN_LOGIN, id="dummy-dotted"),
        pytest.param(REMOVED, {}, OPEN_LOGIN, id="unset-is-the-charts-dummy"),
        pytest.param(ClassroomLogin, {}, OPEN_LOGIN, id="class-object-based-on-dummy"),
    ],
)
def test_a_login_that_lets_anyone_in_stops_the_hub_and_names_the_setting(values, login, sections, said):
    stopped = start_hub_config(changed(values, login, sections), admins=["ada"])
    assert stopped is not None, f"the Hub starts with {login!r} and {sections}"
    assert stopped.startswith("heat-accel: ") and "\n" not in stopped, f"not one line of the guard's: {stopped!r}"
    assert said in stopped, f"it stops without naming {said!r}: {stopped!r}"


@pytest.mark.parametrize(
    "login, sections",
    [
        pytest.param(None, {}, id="as-shipped"),
        pytest.param("native", {}, id="native-alias-with-Authenticator.allow_all"),
        pytest.param(None, {**ONLY, "NativeAuthenticator": {"allow_all": True}}, id="native-own-allow_all"),
        pytest.param(
            "github",
            {**ONLY, "GitHubOAuthenticator": {"allowed_organizations": ["our-class"]}},
            id="github-limited-to-an-organization",
        ),
    ],
)
def test_a_login_that_admits_only_known_accounts_starts(values, login, sections):
    stopped = start_hub_config(changed(values, login, sections), admins=["ada"])
    assert stopped is None, f"with {login!r} and {sections}, the Hub refuses to start: {stopped}"


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
        pytest.skip(
            "no chart to check against: ../shared/z2jh-chart is not beside this checkout; give --chart DIR, "
            "the chart's jupyterhub/ folder"
        )
    import jsonschema

    schema = yaml.safe_load((chart / "values.schema.yaml").read_text())
    defaults = yaml.safe_load((chart / "values.yaml").read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(merged(defaults, values)), key=str)
    assert not errors, [f"{'.'.join(map(str, error.path))}: {error.message}" for error in errors]
