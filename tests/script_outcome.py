"""How every test script of tests/ ends: its problems, one per line, then one verdict line.

(Not called `outcome`: a package of that name, which Selenium's trio brings into .venv, would be
imported instead under pytest, which imports core_path.py for tests/test_course_shape.py.)"""


def report(name, problems, ok="ok"):
    """Prints `problems` and `name: ok` or `name: FAILED`; returns the exit status (1 if any)."""
    for problem in problems:
        print(f"  {problem}", flush=True)
    print(f"{name}: " + ("FAILED" if problems else ok), flush=True)
    return 1 if problems else 0
