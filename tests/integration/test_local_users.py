"""Local users of the host: what the stack's files, sockets and processes
let them see.  The suites run as root; "a local user" is `nobody` (through
runuser)."""
import hashlib
import os
import pwd
import re
import secrets
import socket
import stat
import subprocess

from dbt import stack, check, wait_until


def fresh():
    return "local-%s@example.com" % secrets.token_hex(4)


def as_nobody(*argv):
    """Runs argv as the unprivileged user nobody; CompletedProcess."""
    return subprocess.run(["runuser", "-u", "nobody", "--"] + list(argv),
                          capture_output=True, text=True, timeout=30)


def files_under(*parts):
    """Every file below a directory of the stack (as root sees it)."""
    out = []
    for top, dirs, files in os.walk(os.path.join(stack.dir, *parts)):
        out += [os.path.join(top, f) for f in files]
    return out


def test_a_login_code_is_kept_only_in_a_0600_file_of_the_file_transport():
    address = fresh()
    r = stack.post("/api/send-otp?type=authentication", {"email": address})
    check(r.status == 200, "send-otp", r)
    # a retry of the code mail, sent by the jobs through the file transport
    stack.psql("INSERT INTO mail_outbox (kind, recipient) VALUES ('login_code', :'p1')",
               address)
    maildir = os.path.join(stack.dir, "mail", "file-codes")
    p = stack.ctl("jobs", extra_env={"DBTREE_MAIL_TRANSPORT": "file",
                                     "DBTREE_MAIL_DIR": maildir})
    path = os.path.join(maildir, "login-codes.log")
    with open(path) as f:
        m = re.search(r" %s (\d{6})$" % re.escape(address), f.read(), re.M)
    check(m is not None, "the code is in the code file", open(path).read())
    code = m.group(1)
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "the code file is 0600",
          oct(os.stat(path).st_mode))
    check(stat.S_IMODE(os.stat(maildir).st_mode) == 0o700, "the mail folder is 0700",
          oct(os.stat(maildir).st_mode))
    emls = [f for f in os.listdir(maildir) if f.endswith(".eml")]
    check(emls and all(stat.S_IMODE(os.stat(os.path.join(maildir, f)).st_mode) == 0o600
                       for f in emls), "mails are 0600", emls)
    check(code not in p.stderr and code not in p.stdout, "not in the jobs' output", p.stderr)
    leaked = [f for f in files_under("log") if code in open(f, errors="replace").read()]
    check(not leaked, "in no log of the stack", leaked)
    r = stack.post("/api/verify-otp?type=authentication", {"email": address, "otp": code})
    check(r.status == 200, "it is the live code", r)


# -- who may reach what ----------------------------------------------------
# Started by root (as in CI), the stack runs as dbtree, dbtree-db and
# www-data; started by another user, everything runs as that user and the
# root-only checks below reduce to what still holds then.

def is_root_run():
    return os.getuid() == 0 and stack.service_user not in ("", "root")


def as_user(user, *argv, **kw):
    return subprocess.run(["runuser", "-u", user, "--"] + list(argv),
                          capture_output=True, text=True, timeout=30, **kw)


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


# Lists every directory and opens every file it is given (NUL-separated on
# stdin); prints those it could.
PROBE = ("import os, sys\n"
         "for p in sys.stdin.read().split('\\0'):\n"
         "    try:\n"
         "        os.listdir(p) if os.path.isdir(p) else open(p, 'rb').close()\n"
         "    except OSError:\n"
         "        continue\n"
         "    print(p)\n")


def reachable_by(user, top):
    """What user can list or read below top (top included)."""
    paths = [top]
    for d, dirs, files in os.walk(top):
        paths += [os.path.join(d, n) for n in dirs + files]
    p = as_user(user, "python3", "-c", PROBE, input="\0".join(paths))
    check(p.returncode == 0, "the probe ran", p.stderr)
    return p.stdout.split()


def test_nobody_can_list_or_read_anything_in_the_state_directory():
    if not is_root_run():   # one user for everything: its state is closed
        st = os.stat(stack.dir)
        check(st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o700,
              "the state directory is the user's, 0700", oct(st.st_mode))
        return
    found = reachable_by("nobody", stack.dir)
    check(found == [], "nothing listed or read", found[:20])
    check(stat.S_IMODE(os.stat(os.path.join(stack.dir, "env")).st_mode) == 0o600, "env 0600")
    for name in os.listdir(os.path.join(stack.dir, "log")):
        path = os.path.join(stack.dir, "log", name)
        if os.path.isfile(path):
            mode = stat.S_IMODE(os.stat(path).st_mode)
            check(mode & 0o137 == 0, "log %s is 0640 at most" % name, oct(mode))


def test_nobody_and_the_instance_user_cannot_reach_the_service_database_or_redis():
    check(stack.psql("SHOW listen_addresses") in ([], [[""]]), "no TCP listener",
          stack.psql("SHOW listen_addresses"))
    rules = stack.psql("SELECT type, auth_method, array_to_string(user_name, ',')"
                       " FROM pg_hba_file_rules WHERE auth_method <> 'reject'")
    check(rules == [["local", "peer", "dbtree"]], "peer for dbtree only, no trust", rules)
    if not is_root_run():
        return
    run = os.path.join(stack.dir, "run")
    for user in ("nobody", stack.env["DBTREE_INSTANCE_USER"]):
        p = as_user(user, "psql", "-X", "-h", run, "-U", "dbtree", "-d", "dbtree", "-tAc",
                    "SELECT 1")
        check(p.returncode != 0 and p.stdout.strip() != "1",
              "%s cannot use the service's database" % user, p)
        p = as_user(user, "redis-cli", "-s", os.path.join(run, "redis.sock"), "PING")
        check("PONG" not in p.stdout, "%s cannot use the service's Redis" % user, p)
    # the service's own user can (the tests' psql runs as it), root cannot
    # (peer authentication maps no one else)
    check(stack.psql("SELECT 1") == [["1"]], "the service's user gets in")
    p = subprocess.run(stack.psql_argv() + ["-tAc", "SELECT 1"], capture_output=True,
                       text=True, timeout=30)
    check(p.returncode != 0, "root is not the service's user", p.stdout)


def test_pools_jobs_and_dependencies_run_as_the_service_user():
    svc = pwd.getpwnam(stack.service_user).pw_uid
    check(svc != 0, "the service's user is not root", svc)
    pids = []
    for name in os.listdir(os.path.join(stack.dir, "pid")):
        if name.startswith("pool-"):
            master = int(open(os.path.join(stack.dir, "pid", name)).read())
            pids += [master] + children(master)
    pids.append(int(open(os.path.join(stack.dir, "run", "redis.pid")).read()))
    pids.append(int(open(os.path.join(stack.dir, "pg", "postmaster.pid")).readline()))
    check(len(pids) > 10 and all(uid_of(p) == svc for p in pids),
          "pools, workers, Redis and PostgreSQL run as %s" % stack.service_user,
          [(p, uid_of(p)) for p in pids])
    nginx = int(open(os.path.join(stack.dir, "nginx", "nginx.pid")).read())
    web = pwd.getpwnam("www-data").pw_uid if is_root_run() else svc
    check(children(nginx) and all(uid_of(p) == web for p in children(nginx)),
          "nginx's workers run as www-data (root) or the user", children(nginx))
    stack.local("jobs-start")
    try:
        jobs = int(open(os.path.join(stack.dir, "pid", "jobs.pid")).read())
        wait_until(lambda: open("/proc/%d/comm" % jobs).read().strip() == "dbtreectl",
                   timeout=5, what="dbtreectl started")
        check(uid_of(jobs) == svc, "the jobs loop runs as %s" % stack.service_user, uid_of(jobs))
    finally:
        stack.local("jobs-stop")


def _wait_running(token, iid):
    def step():
        stack.jobs()
        r = stack.get("/api/db/instances/%s" % iid, headers=stack.auth(token))
        return r.status == 200 and r.json["status"] == "running"
    wait_until(step, timeout=60, interval=0.3, what="instance %s running" % iid)


def test_instances_run_as_their_own_user_who_reads_nothing_of_the_service():
    if not is_root_run():   # instances run as the user too (README)
        check(not stack.env.get("DBTREE_INSTANCE_AGENT"), "no agent, no other user")
        return
    (uid, token), = stack.make_users(1, prefix="iso", balance=100)
    made = {}
    for name, body in (("iso-pg", {"presetId": "postgres-standalone-tiny"}),
                       ("iso-redis", {"presetId": "redis-standalone-tiny"})):
        r = stack.post("/api/db/instances", dict(body, name=name), headers=stack.auth(token))
        check(r.status == 202, "created", r)
        made[name] = (r.json["id"], r.json["credentials"]["password"])
    try:
        for iid, _ in made.values():
            _wait_running(token, iid)
        inst_user = stack.env["DBTREE_INSTANCE_USER"]
        inst_uid = pwd.getpwnam(inst_user).pw_uid
        check(inst_uid not in (0, pwd.getpwnam(stack.service_user).pw_uid),
              "a user of their own", inst_user)
        idir = stack.env["DBTREE_INSTANCE_DIR"]
        pg_dir = os.path.join(idir, made["iso-pg"][0])
        postmaster = int(open(os.path.join(pg_dir, "data", "postmaster.pid")).readline())
        redis_dir = os.path.join(idir, made["iso-redis"][0])
        redis_pid = int(open(os.path.join(redis_dir, "redis.pid")).read())
        check(uid_of(postmaster) == inst_uid and uid_of(redis_pid) == inst_uid,
              "postgres and redis-server run as %s" % inst_user,
              (uid_of(postmaster), uid_of(redis_pid)))
        # what the instance user can reach of the service's: nothing but
        # the instance directories it needs to pass
        found = [p for p in reachable_by(inst_user, stack.dir)
                 if not p.startswith(idir + os.sep) and p != stack.env["DBTREE_INSTANCE_AGENT"]
                 and not p.startswith(os.path.join(stack.dir, "agent"))]
        check(found == [], "nothing of the service's", found[:20])
        secrets_ = [os.path.join(idir, iid, leaf) for iid, _ in made.values()
                    for leaf in ("secret", "state")]
        p = as_user(inst_user, "cat", *secrets_)
        check(p.returncode != 0 and p.stdout == "", "no instance's secret or state", p.stdout)
        # nobody reaches no instance at all
        found = reachable_by("nobody", idir)
        check(found == [], "nobody reads no instance", found[:20])
        # Redis keeps the admin password as a hash only
        conf = open(os.path.join(redis_dir, "redis.conf")).read()
        password = made["iso-redis"][1]
        check(password not in conf and
              "#" + hashlib.sha256(password.encode()).hexdigest() in conf,
              "redis.conf holds #<sha256>, not the password", conf[-300:])
    finally:
        for iid, _ in made.values():
            stack.request("DELETE", "/api/db/instances/%s" % iid, headers=stack.auth(token))
    # a pass takes their final backups, the next one removes them
    wait_until(lambda: stack.jobs() and not any(os.path.exists(os.path.join(idir, iid))
                                                for iid, _ in made.values()),
               timeout=60, interval=0.3, what="removed, the instance user's files too")


def _agent(*fields):
    """One request to the instance agent (as root, who may connect); its
    answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(30)
        s.connect(stack.env["DBTREE_INSTANCE_AGENT"])
        s.send(b"".join(f.encode() + b"\0" for f in fields))
        return s.recv(64).decode()


def test_the_instance_agent_does_only_what_the_driver_asks_for():
    if not is_root_run():
        check(not stack.env.get("DBTREE_INSTANCE_AGENT"), "no agent, no other user")
        return
    idir = stack.env["DBTREE_INSTANCE_DIR"]
    inst = os.path.join(idir, "0" * 8 + "-0000-0000-0000-" + "0" * 12)
    victim = os.path.join(stack.dir, "agent", "victim")
    as_user(stack.env["DBTREE_INSTANCE_USER"], "touch", victim)
    check(os.path.exists(victim), "a file the agent could remove")
    refused = [
        ("run", "1000", inst, inst + "/out.log", "/bin/touch", victim + "2"),
        ("remove", victim),
        ("remove", inst + "/../../agent/victim"),
        ("remove", idir),
        ("write", victim, "600", "x"),
        ("mkdir", os.path.join(stack.dir, "agent", "d"), "700"),
        ("signal", str(os.getpid()), "9", "python3", inst + "/data"),
        ("nonsense",),
    ]
    for req in refused:
        check(_agent(*req) == "-1", "refused: %s" % " ".join(req[:2]))
    check(os.path.exists(victim) and not os.path.exists(victim + "2"),
          "nothing was done")
    check(_agent("mkdir", inst, "750") == "-1", "no instance directory of its own making")
    check(_agent("remove", inst + "/data") == "0", "while a request in bounds is done")
    check("refused" in open(os.path.join(stack.dir, "log", "agent.log")).read(),
          "refusals are logged")
