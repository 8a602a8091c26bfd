"""The class's accounts on the one-machine Hub, made through the Hub's own pages (hub.sh runs this).

    target/hub-env/bin/python kernel-setup/hub_accounts.py --hub URL --instructor NAME --state DIR
                                                          [--learners FILE]

1. The instructor's account, at once: an admin name is authorized as it signs up, so it is never
   left for somebody else to take. Its password is made at the first start and kept in
   DIR/instructor-password (readable by root only); at a later start that password logs in again.
   A name already taken with another password stops the Hub: somebody else holds it.
2. With --learners (one name per line): each new name signs up with a password made here, and the
   instructor authorizes it (the login's /hub/authorize); names and passwords are added to
   DIR/accounts.csv (readable by root only) for the instructor to hand out. A name that already
   has an account keeps it.
Exit status 1, with the reason, when an account cannot be made.
"""

import argparse
import csv
import os
import pathlib
import re
import secrets
import sys
import time

import requests

SIGNED_UP_AS_ADMIN = "The signup was successful!"
SIGNED_UP_WAITING = "Your information has been sent to the admin."
NAME_TAKEN = "already in use"
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")


class Refused(Exception):
    """An account could not be made or used; the message says why."""


def wait_for_hub(hub, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{hub}/hub/health", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise Refused(f"the Hub did not answer at {hub} within {seconds} s (its log is above)")


def post_form(session, hub, path, fields, follow=True):
    """POSTs a form of the Hub's as a browser does: with the _xsrf value its page set."""
    session.get(f"{hub}{path}", timeout=30)
    xsrf = session.cookies.get("_xsrf", "")
    return session.post(f"{hub}{path}", data={**fields, "_xsrf": xsrf}, timeout=30, allow_redirects=follow)


def sign_up(hub, name, password):
    """'admin', 'waiting' or 'taken'."""
    answer = post_form(
        requests.Session(),
        hub,
        "/hub/signup",
        {"username": name, "signup_password": password, "signup_password_confirmation": password},
    )
    for text, outcome in ((SIGNED_UP_AS_ADMIN, "admin"), (SIGNED_UP_WAITING, "waiting"), (NAME_TAKEN, "taken")):
        if text in answer.text:
            return outcome
    raise Refused(f"the sign-up of '{name}' answered {answer.status_code} with no known message")


def log_in(hub, name, password):
    """A session logged in as `name`; Refused when the password is wrong. The redirect after the
    login is not followed: it would start the account's server."""
    session = requests.Session()
    answer = post_form(session, hub, "/hub/login", {"username": name, "password": password}, follow=False)
    if answer.status_code != 302 or "/hub/login" in answer.headers.get("Location", "/hub/login"):
        raise Refused(f"'{name}' cannot log in with the password made for it (answer {answer.status_code})")
    return session


def secret_file(path):
    """`path` opened for writing, readable by its owner only."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a", newline="")


def instructor_session(hub, name, state):
    saved = state / "instructor-password"
    password = saved.read_text().strip() if saved.exists() else secrets.token_urlsafe(15)
    outcome = sign_up(hub, name, password)
    if outcome == "admin":
        with secret_file(saved) as out:
            out.write(password + "\n")
        print(f"instructor '{name}': account made; the password is in {saved}", flush=True)
    elif outcome == "taken" and not saved.exists():
        raise Refused(f"the instructor's name '{name}' is taken and no password of ours is saved for it")
    elif outcome == "waiting":
        raise Refused(f"'{name}' signed up as a learner: the Hub does not know it as the instructor")
    return log_in(hub, name, password)


def learner_names(path):
    names = []
    for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        name = line.strip().lower()
        if not name or name.startswith("#"):
            continue
        if not NAME.match(name):
            raise Refused(
                f"{path}, line {number}: '{line.strip()}' is not an account name "
                "(letters, digits, '.', '_', '-'; at most 32; starting with a letter or digit)"
            )
        names.append(name)
    return names


def make_learners(hub, instructor, names, state):
    with secret_file(state / "accounts.csv") as out:
        rows = csv.writer(out)
        for name in names:
            password = secrets.token_urlsafe(12)
            outcome = sign_up(hub, name, password)
            if outcome == "taken":
                print(f"learner '{name}': has an account already; kept", flush=True)
                continue
            if outcome == "admin":
                raise Refused(f"'{name}' signed up as an admin: is it the instructor's name?")
            answer = instructor.get(f"{hub}/hub/authorize/{name}", timeout=30)
            if answer.status_code != 200:
                raise Refused(f"authorizing '{name}' answered {answer.status_code}")
            log_in(hub, name, password)
            rows.writerow([name, password])
            print(f"learner '{name}': account made and authorized", flush=True)
    print(f"names and passwords: {state / 'accounts.csv'}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hub", required=True, help="the Hub's address, e.g. http://127.0.0.1:8000")
    parser.add_argument("--instructor", required=True)
    parser.add_argument("--state", required=True, type=pathlib.Path)
    parser.add_argument("--learners", help="a file with one learner's name per line")
    args = parser.parse_args()
    try:
        names = learner_names(args.learners) if args.learners else []
        wait_for_hub(args.hub)
        instructor = instructor_session(args.hub, args.instructor, args.state)
        if names:
            make_learners(args.hub, instructor, names, args.state)
    except (Refused, requests.RequestException) as error:
        print(f"accounts: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
