"""Operations: migrations, the jobs runner, the systemd units, make install."""
import concurrent.futures
import os
import re
import shutil
import subprocess
import tempfile

from dbt import stack, check, ROOT


def test_migrations_are_recorded_once():
    rows = stack.psql("SELECT version FROM schema_migrations ORDER BY version")
    names = sorted(f for f in os.listdir(os.path.join(ROOT, "sql", "migrations"))
                   if f.endswith(".sql"))
    check([r[0] for r in rows] == names, "every migration file recorded", rows)
    p = stack.ctl("migrate")
    check("0 applied" in p.stdout, "a second run applies nothing", p.stdout)


def test_concurrent_migrations_on_a_fresh_database_apply_each_file_once():
    stack.psql("DROP DATABASE IF EXISTS dbtree_migrate_race")
    stack.psql("CREATE DATABASE dbtree_migrate_race")
    dsn = "host=%s user=dbtree dbname=dbtree_migrate_race" % os.path.join(stack.dir, "run")
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            runs = list(ex.map(lambda _: stack.ctl("migrate", check_rc=False,
                                                   extra_env={"DBTREE_DB": dsn}), range(4)))
        check(all(p.returncode == 0 for p in runs), "all four runs succeed",
              [p.stderr for p in runs])
        applied = sum(int(p.stdout.split()[1]) for p in runs)
        files = len([f for f in os.listdir(os.path.join(ROOT, "sql", "migrations"))
                     if f.endswith(".sql")])
        check(applied == files, "each file applied by exactly one run", (applied, files))
    finally:
        stack.psql("DROP DATABASE IF EXISTS dbtree_migrate_race")


def test_a_failing_migration_is_rolled_back_and_stops_the_run():
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o755)    # dbtreectl runs as the service's user
    os.makedirs(os.path.join(tmp, "migrations"))
    with open(os.path.join(tmp, "migrations", "0001_good.sql"), "w") as f:
        f.write("CREATE TABLE mig_probe_a (x int);")
    with open(os.path.join(tmp, "migrations", "0002_bad.sql"), "w") as f:
        f.write("CREATE TABLE mig_probe_b (x int); SELECT no_such_function();")
    stack.psql("DROP DATABASE IF EXISTS dbtree_migrate_bad")
    stack.psql("CREATE DATABASE dbtree_migrate_bad")
    dsn = "host=%s user=dbtree dbname=dbtree_migrate_bad" % os.path.join(stack.dir, "run")
    try:
        p = stack.ctl("migrate", check_rc=False,
                      extra_env={"DBTREE_DB": dsn, "DBTREE_SQL_DIR": tmp})
        check(p.returncode == 1, "the run fails", p)
        check("0002_bad.sql" in p.stderr, "the failing file is named", p.stderr)
        out = stack.psql("SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations;"
                         " SELECT to_regclass('mig_probe_b') IS NULL", db="dbtree_migrate_bad")
        check(out == [["0001_good.sql"], ["t"]], "first kept, second rolled back", out)
    finally:
        stack.psql("DROP DATABASE IF EXISTS dbtree_migrate_bad")


def test_jobs_run_once_and_exit():
    p = stack.ctl("jobs")
    check(p.returncode == 0, "jobs pass exits 0", p.stderr)
    p = stack.ctl("help")
    check("migrate" in p.stdout and "jobs" in p.stdout, "help lists the commands", p.stdout)
    p = stack.ctl("no-such-command", check_rc=False)
    check(p.returncode == 2 and "usage" in p.stdout, "unknown command: usage, exit 2", p)


def _install(tmp):
    # the sanitizer build relinks only with its own flags (SAN=1)
    build = ["SAN=1"] if os.path.basename(stack.build.rstrip("/")) == "build-san" \
        else ["BUILD=%s" % stack.build]
    subprocess.run(["make", "-s", "-C", ROOT, "install", "PREFIX=%s/usr" % tmp,
                    "UNITDIR=%s/units" % tmp, "TMPFILESDIR=%s/tmpfiles" % tmp] + build,
                   check=True, capture_output=True)
    return os.path.join(tmp, "units")


def test_systemd_units_pass_systemd_analyze_verify():
    units = _install(tempfile.mkdtemp())
    names = ["dbtree-pool@public.service", "dbtree-pool@public.socket", "dbtree-jobs.service",
             "dbtree-jobs.timer", "dbtree-migrate.service", "dbtree-agent.service",
             "dbtree.target"]
    p = subprocess.run(["systemd-analyze", "verify"] + names, cwd=units,
                       capture_output=True, text=True)
    check(p.returncode == 0 and p.stderr.strip() == "", "verify is clean", p.stderr)
    with open(os.path.join(units, "dbtree-jobs.timer")) as f:
        check("AccuracySec=1s" in f.read(), "timer accuracy 1 s")
    # the check itself can fail: a broken copy is refused
    with open(os.path.join(units, "dbtree-pool@.service")) as f:
        broken = f.read().replace("Type=simple", "Type=sometimes")
    with open(os.path.join(units, "broken@.service"), "w") as f:
        f.write(broken.replace("dbtree-pool@%i.socket", "dbtree-pool@public.socket"))
    p = subprocess.run(["systemd-analyze", "verify", "broken@x.service"], cwd=units,
                       capture_output=True, text=True)
    check(p.returncode != 0 or "sometimes" in p.stderr, "a bad unit is reported", p.stderr)


def test_systemd_units_run_as_their_own_users_and_are_sandboxed():
    units = _install(tempfile.mkdtemp())
    shutil.copy(os.path.join(units, "dbtree-pool@.service"),
                os.path.join(units, "dbtree-pool@public.service"))
    users = {"dbtree-pool@public.service": "dbtree", "dbtree-jobs.service": "dbtree",
             "dbtree-migrate.service": "dbtree", "dbtree-agent.service": "dbtree-db"}
    for name, user in users.items():
        with open(os.path.join(units, name)) as f:
            text = f.read()
        check("User=%s\n" % user in text, "%s runs as %s" % (name, user))
        check("EnvironmentFile" not in text or user == "dbtree",
              "%s reads no environment file" % name)
        # systemd's own rating, 0 (locked down) to 10 (exposed); they were
        # 7.9 to 8.5 before the units were hardened
        p = subprocess.run(["systemd-analyze", "security", "--offline=true", name], cwd=units,
                           capture_output=True, text=True)
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", p.stdout)
        check(m is not None, "%s is rated" % name, p.stdout[-500:] + p.stderr)
        check(float(m.group(1)) <= 2.0, "%s exposure at most 2.0" % name, m.group(0))
    with open(os.path.join(units, "dbtree-agent.service")) as f:
        agent = f.read()
    check("InaccessiblePaths=-/etc/dbtree -/run/dbtree" in agent,
          "the agent (and every instance) sees no configuration or service socket")


def test_install_layout_and_nginx_config_is_valid():
    tmp = tempfile.mkdtemp()
    _install(tmp)
    share = os.path.join(tmp, "usr", "share", "dbtree")
    for path in ("usr/bin/dbtreectl", "usr/bin/dbtree-agent", "usr/lib/dbtree/fcgi/public",
                 "usr/share/dbtree/nginx/www/index.html", "usr/share/dbtree/nginx/events.conf",
                 "usr/share/dbtree/sql/migrations/0001_platform.sql", "tmpfiles/dbtree.conf",
                 "usr/share/dbtree/monitoring/dbtree.rules.yml",
                 "usr/share/dbtree/monitoring/dbtree.rules.test.yml",
                 "usr/share/dbtree/monitoring/dbtree-dashboard.json"):
        check(os.path.exists(os.path.join(tmp, path)), "installed " + path)
    with open(os.path.join(share, "nginx", "dbtree.conf")) as f:
        site = f.read()
    check("@PREFIX@" not in site, "prefix substituted in dbtree.conf")
    conf = os.path.join(tmp, "nginx.conf")
    # nginx -t binds the publisher's socket: here, not under /run/dbtree
    site = site.replace("unix:/run/dbtree/events.sock", "unix:%s/events.sock" % tmp)
    with open(conf, "w") as f:
        # as Debian's /etc/nginx/nginx.conf, which loads the enabled
        # modules (nchan: libnginx-mod-nchan) first
        f.write("load_module /usr/lib/nginx/modules/ngx_nchan_module.so;\n"
                "pid %s/nginx.pid; error_log stderr; events {}\n"
                "http { include /etc/nginx/mime.types; %s }\n" % (tmp, site))
    p = subprocess.run(["nginx", "-t", "-q", "-p", tmp, "-c", conf], capture_output=True,
                       text=True)
    check(p.returncode == 0, "production nginx config passes nginx -t", p.stderr)


def test_a_job_held_elsewhere_is_skipped_and_the_others_run():
    holder = subprocess.Popen(
        stack.psql_argv() + ["-q"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, **stack.as_service())
    try:
        holder.stdin.write("SELECT pg_advisory_lock(hashtext('dbtree:job:mail'));\n"
                           "SELECT 'locked';\n")
        holder.stdin.flush()
        while "locked" not in holder.stdout.readline():
            pass
        before = dict(stack.psql("SELECT name, runs FROM job_runs"))
        p = stack.ctl("jobs")
        after = dict(stack.psql("SELECT name, runs FROM job_runs"))
        check("job 'mail' skipped: running elsewhere" in p.stderr, "the held job is skipped", p.stderr)
        check(after.get("mail") == before.get("mail"), "mail did not run", (before, after))
        check(int(after["sessions"]) == int(before.get("sessions", 0)) + 1,
              "the other job ran", (before, after))
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    p = stack.ctl("jobs")
    check("skipped" not in p.stderr, "runs again once the other host lets go", p.stderr)
