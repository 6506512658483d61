"""Browser scenarios (tests/browser/*.mjs) against the test stack, in
headless Debian Chromium through playwright-core.  Screenshots are kept in
tests/artifacts/."""
import os
import re
import subprocess

from dbt import stack, check, wait_until, ROOT

HERE = os.path.join(ROOT, "tests", "browser")


def _scenario(script, *args, timeout=120):
    env = dict(os.environ, DBTREE_URL="http://127.0.0.1:%d" % stack.port,
               DBTREE_SMTP_DIR=stack.smtp.dir, DBTREE_RUN_DIR=os.path.join(stack.dir, "run"),
               DBTREE_SERVICE_USER=stack.service_user,
               DBTREE_TEST_PAUSE_DIR=stack.env["DBTREE_TEST_PAUSE_DIR"],
               DBTREE_ARTIFACTS=os.path.join(ROOT, "tests", "artifacts"))
    p = subprocess.run(["node", os.path.join(HERE, script)] + list(args), env=env,
                       capture_output=True, text=True, timeout=timeout)
    print(p.stdout, end="")
    check(p.returncode == 0, "%s passed" % script, p.stdout[-2000:] + p.stderr[-2000:])
    return p.stdout


def test_login_theme_and_logout_in_the_browser():
    _scenario("login.mjs", "browser-user@example.com")


def test_harvest_a_lemon_in_the_browser():
    _scenario("tree.mjs", "tree-user@example.com")


def test_the_golden_lemon_streak_and_achievements_in_the_browser():
    """A golden lemon made by the regrow job on a game day of its own (the
    clock offset, as in tests/integration/test_game.py)."""
    offset = os.path.join(stack.env["DBTREE_TEST_PAUSE_DIR"], "clock-offset")
    with open(offset, "w") as f:
        f.write("%d\n" % (500 * 86400))
    os.chmod(offset, 0o644)
    try:
        stack.psql("UPDATE lemons SET next_available_at = now() WHERE NOT is_available")
        stack.ctl("jobs", "--only", "regrow", extra_env={"DBTREE_GOLDEN_PER_DAY": "1"})
        pos = stack.psql("SELECT position_id FROM lemons"
                         " WHERE is_available AND golden_generation = generation")
        check(len(pos) == 1, "a golden lemon to play", pos)
        _scenario("game.mjs", "game-user@example.com", pos[0][0])
    finally:
        os.remove(offset)
        stack.ctl("jobs", "--only", "regrow")   # golden lemons off again


def test_two_browsers_see_the_same_race_live():
    try:
        _scenario("live.mjs", "live-user@example.com")
    finally:
        stack.psql("UPDATE lemons SET next_available_at = now() WHERE NOT is_available")
        stack.jobs()


def test_dashboard_create_stop_start_delete_in_the_browser():
    stack.local("jobs-start")
    try:
        out = _scenario("dashboard.mjs", "dash-user@example.com")
    finally:
        stack.local("jobs-stop")
    # the click in the wizard, followed to the ready mail in one trace
    trace = re.search(r"wizard trace: ([0-9a-f]{32})", out).group(1)
    found = []

    def complete():
        found[:] = stack.otlp.trace(trace)
        return {"POST /api/db/instances", "mail instance_ready", "smtp send"} <= \
            {s["name"] for s in found}
    wait_until(complete, timeout=20, what="the wizard's trace up to the ready mail")
    check(any(s["name"].startswith("reconcile ") for s in found),
          "with the reconciler's spans", sorted({s["name"] for s in found}))


def test_backups_take_download_restore_in_the_browser():
    stack.local("jobs-start")  # both loops: the jobs and the backups job
    try:
        _scenario("backups.mjs", "backup-user@example.com", timeout=240)
    finally:
        stack.local("jobs-stop")


def test_i18n_catalogues_match_and_cover_every_key_the_ui_uses():
    p = subprocess.run(["python3", os.path.join(HERE, "i18n_keys.py")], capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0, "the catalogues agree and hold every key used", p.stdout[-3000:])


def test_i18n_every_page_in_korean_and_in_english():
    _scenario("i18n.mjs", "i18n-user@example.com", timeout=180)
