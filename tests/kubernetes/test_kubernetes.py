"""The instance lifecycle with DBTREE_PROVISIONER=kubernetes, against the
Kubernetes API stand-in (tests/k8s/server.mjs), which validates every
object against the upstream schemas.  Jobs are run by hand so each pass is
deterministic.  TLS: the certificates in the instance Secrets are checked
with openssl against the stack's CA; the cert-manager mode is one jobs
setting away (DBTREE_K8S_CERT_ISSUER in the jobs' environment only: the
pools never issue)."""
import base64
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from dbt import stack, check, check_error, wait_until

API = "/api/db/instances"
NS = "dbtree"


def control(method, path, body=None):
    req = urllib.request.Request(stack.k8s.url + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read()
        return json.loads(text) if text else None


def kube(path):
    """GET on the stand-in's API with the token; None on 404."""
    with open(stack.k8s.token_file) as f:
        token = f.read().strip()
    req = urllib.request.Request(stack.k8s.url + path,
                                 headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def kube_write(method, path, body, ctype="application/json"):
    """A write to the stand-in's API with the token: (status, answer)."""
    with open(stack.k8s.token_file) as f:
        token = f.read().strip()
    req = urllib.request.Request(stack.k8s.url + path, method=method,
                                 data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def name_of(iid):
    return "db-" + iid.replace("-", "")[:12]


def objects(iid):
    n = name_of(iid)
    return {
        "secret": kube("/api/v1/namespaces/%s/secrets/%s" % (NS, n)),
        "service": kube("/api/v1/namespaces/%s/services/%s" % (NS, n)),
        "sts": kube("/apis/apps/v1/namespaces/%s/statefulsets/%s" % (NS, n)),
        "netpol": kube("/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies/%s" % (NS, n)),
    }


def user(lemons=200):
    (uid, token), = stack.make_users(1, prefix="k8s")
    stack.grant(uid, lemons)
    return uid, token


def jobs():
    stack.ctl("jobs", "--only", "reconcile")


def jobs_with_backups(env=None):
    """The backups job, then a reconcile pass, as their timers run them: a
    deleted instance that ever ran is destroyed only once its final backup
    is settled (domain/backup.h), which on this driver fails at once (it
    has no prov_admin) and so lets the deletion go on."""
    stack.ctl("jobs", "--only", "backups", extra_env=env)
    stack.ctl("jobs", "--only", "reconcile", extra_env=env)


def remove(token, iid, env=None):
    """Deletes the instance and waits until none of its objects is left."""
    r = stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    check(r.status == 204, "delete", r)
    wait_until(lambda: jobs_with_backups(env) or not any(objects(iid).values()), timeout=20,
               what="everything gone")


def status(token, iid):
    r = stack.get("%s/%s" % (API, iid), headers=stack.auth(token))
    return r.json["status"] if r.status == 200 else r.status


def wait_status(token, iid, want, timeout=20):
    return wait_until(lambda: jobs() or status(token, iid) == want, timeout=timeout,
                      interval=0.2, what="status %s" % want)


def test_mongodb_presets_appear_with_this_driver():
    control("POST", "/_control/autoready", {"on": True})
    types = sorted({p["type"] for p in stack.get("/api/db/presets").json})
    check(types == ["mongodb", "postgres", "redis"], "all three engines", types)


def lifecycle(engine, preset):
    uid, token = user()
    r = stack.post(API, {"name": "%s-db" % engine, "presetId": preset}, headers=stack.auth(token))
    check(r.status == 202, "created", r)
    iid, cred = r.json["id"], r.json["credentials"]
    if engine == "mongodb":
        check(cred["externalUri"].endswith("?authSource=admin&tls=true"),
              "authSource=admin, TLS", cred)
    o = objects(iid)
    secret = o["secret"]
    check(secret is not None and base64.b64decode(secret["data"]["password"]).decode() ==
          cred["password"], "the Secret holds the password", secret)
    wait_status(token, iid, "running")
    o = objects(iid)
    check(all(o.values()), "Secret, Service, StatefulSet and NetworkPolicy exist",
          {k: bool(v) for k, v in o.items()})
    check(o["service"]["spec"]["type"] == "NodePort" and
          o["service"]["spec"]["ports"][0]["nodePort"] == cred["externalPort"], "NodePort",
          o["service"]["spec"])
    check(o["sts"]["spec"]["replicas"] == 1, "one replica", o["sts"]["spec"])
    sts_uid = o["sts"]["metadata"]["uid"]
    for kind in ("service", "secret", "netpol"):
        refs = o[kind]["metadata"].get("ownerReferences", [])
        check(any(ref["uid"] == sts_uid for ref in refs), "%s owned by the StatefulSet" % kind,
              refs)
    # the claim too (its retention policy): no pass lists claims for orphans
    claim = kube("/api/v1/namespaces/%s/persistentvolumeclaims/data-%s-0" % (NS, name_of(iid)))
    refs = (claim or {}).get("metadata", {}).get("ownerReferences", [])
    check(any(ref["uid"] == sts_uid for ref in refs), "the claim owned by the StatefulSet",
          claim and claim["metadata"])
    labels = o["sts"]["metadata"]["labels"]
    check(labels.get("app.kubernetes.io/managed-by") == "dbtree", "labelled", labels)
    check(stack.post("%s/%s/stop" % (API, iid), headers=stack.auth(token)).status == 204, "stop")
    wait_status(token, iid, "stopped")
    wait_until(lambda: jobs() or objects(iid)["sts"]["spec"]["replicas"] == 0, timeout=10,
               what="replicas 0")
    check(stack.post("%s/%s/start" % (API, iid), headers=stack.auth(token)).status == 204, "start")
    wait_until(lambda: jobs() or objects(iid)["sts"]["spec"]["replicas"] == 1, timeout=10,
               what="replicas 1")
    wait_status(token, iid, "running")
    r = stack.post("%s/%s/credentials" % (API, iid), headers=stack.auth(token))
    check(r.status == 200, "reset", r)
    secret = objects(iid)["secret"]
    check(base64.b64decode(secret["data"]["password"]).decode() == r.json["password"],
          "the Secret has the new password")
    port = cred["externalPort"]
    remove(token, iid)
    pvc = kube("/api/v1/namespaces/%s/persistentvolumeclaims/data-%s-0" % (NS, name_of(iid)))
    check(pvc is None, "the volume claim is gone")
    check(stack.psql("SELECT count(*) FROM port_allocations WHERE port = :p1", port) == [["0"]],
          "port free")


def test_postgres_lifecycle_on_kubernetes():
    lifecycle("postgres", "postgres-standalone-tiny")


def test_redis_lifecycle_on_kubernetes():
    lifecycle("redis", "redis-standalone-tiny")


def test_mongodb_lifecycle_on_kubernetes():
    lifecycle("mongodb", "mongodb-standalone-tiny")


def test_a_pass_with_nothing_to_change_only_lists():
    uid, token = user()
    r = stack.post(API, {"name": "steady", "presetId": "redis-standalone-tiny"},
                   headers=stack.auth(token))
    iid = r.json["id"]
    wait_status(token, iid, "running")
    jobs()
    control("POST", "/_control/reset-stats", {})
    jobs()
    st = control("GET", "/_control/stats")
    writes = {k: v for k, v in st["byVerb"].items() if k not in ("LIST", "GET") and v}
    check(not writes and st["requests"] <= 6, "only a handful of list calls", st["byVerb"])
    remove(token, iid)


PAGED = {"DBTREE_K8S_PAGE_SIZE": "2"}


def paged_instances(n=4):
    """n running instances (two per person), for the paging tests:
    [(token, iid)]."""
    control("POST", "/_control/autoready", {"on": True})
    out = []
    for i in range(n):
        if i % 2 == 0:
            uid, token = user()
        r = stack.post(API, {"name": "paged-%d" % i, "presetId": "redis-standalone-tiny"},
                       headers=stack.auth(token))
        check(r.status == 202, "created", r)
        out.append((token, r.json["id"]))
    for token, iid in out:
        wait_status(token, iid, "running")
    jobs()
    return out


def list_requests(st):
    return [e for e in st["recent"] if e["verb"] == "LIST"]


def sts_uids(made):
    return {iid: objects(iid)["sts"]["metadata"]["uid"] for _, iid in made}


def test_a_pass_with_page_size_2_pages_every_list_and_changes_nothing():
    made = paged_instances()
    sts = kube("/apis/apps/v1/namespaces/%s/statefulsets" % NS)["items"]
    control("POST", "/_control/reset-stats", {})
    stack.ctl("jobs", "--only", "reconcile", extra_env=PAGED)
    st = control("GET", "/_control/stats")
    writes = {k: v for k, v in st["byVerb"].items() if k not in ("LIST", "GET") and v}
    check(not writes, "a steady paged pass writes nothing", st["byVerb"])
    lists = list_requests(st)
    kinds = {e["path"].rsplit("/", 1)[-1] for e in lists}
    check(kinds == {"statefulsets", "services", "networkpolicies", "secrets"},
          "4 kinds listed: no pods (every instance runs), no claims", sorted(kinds))
    check(lists and all("limit=2" in e.get("query", "") for e in lists),
          "every list asks for pages of 2", [e.get("query") for e in lists])
    sts_pages = [e for e in lists if e["path"].endswith("/statefulsets")]
    check(len(sts_pages) == (len(sts) + 1) // 2 and
          sum("continue=" in e.get("query", "") for e in sts_pages) == len(sts_pages) - 1,
          "the StatefulSets come in pages of 2, each after the first with a continue token",
          (len(sts), [e.get("query") for e in sts_pages]))
    for token, iid in made:
        check(status(token, iid) == "running", "still running", iid)
    for token, iid in made:
        remove(token, iid)


def test_a_410_mid_list_starts_the_list_again_and_the_pass_completes():
    made = paged_instances()
    before = sts_uids(made)
    control("POST", "/_control/reset-stats", {})
    control("POST", "/_control/expire-continue", {"count": 1})
    p = stack.ctl("jobs", "--only", "reconcile", extra_env=PAGED)
    st = control("GET", "/_control/stats")
    check(st["expired"] == 1, "one continue token expired", st["expired"])
    lists = list_requests(st)
    gone = [i for i, e in enumerate(lists) if e["status"] == 410]
    check(len(gone) == 1 and gone[0] + 1 < len(lists) and
          lists[gone[0] + 1]["path"] == lists[gone[0]]["path"] and
          "continue=" not in lists[gone[0] + 1].get("query", ""),
          "after the 410 the same list starts again from its first page",
          [(e["path"], e.get("query"), e["status"]) for e in lists])
    check("listing again from the start" in p.stderr, "logged", p.stderr[-800:])
    writes = {k: v for k, v in st["byVerb"].items() if k not in ("LIST", "GET") and v}
    check(not writes, "nothing recreated or touched", st["byVerb"])
    check(sts_uids(made) == before, "the same StatefulSets")
    for _, iid in made:
        check(iid not in p.stderr, "no instance reported (as an orphan or otherwise)",
              p.stderr[-800:])
    # a 410 on every try: the list gives up, the pass acts on nothing
    control("POST", "/_control/reset-stats", {})
    control("POST", "/_control/expire-continue", {"count": 100})
    p = stack.ctl("jobs", "--only", "reconcile", extra_env=PAGED, check_rc=False)
    control("POST", "/_control/expire-continue", {"count": 0})
    st = control("GET", "/_control/stats")
    gave_up = p.stderr.count("giving up")
    check(gave_up >= 1, "the list gives up, logged", p.stderr[-800:])
    check(st["expired"] == 4 * gave_up, "each list that gave up tried 4 times",
          (st["expired"], gave_up))
    writes = {k: v for k, v in st["byVerb"].items() if k not in ("LIST", "GET") and v}
    check(not writes, "a pass whose list failed acts on nothing", st["byVerb"])
    check(sts_uids(made) == before, "still the same StatefulSets")
    for token, iid in made:
        check(status(token, iid) == "running", "still running", iid)
    for token, iid in made:
        remove(token, iid)


def test_an_object_deleted_by_hand_is_recreated():
    uid, token = user()
    iid = stack.post(API, {"name": "repair", "presetId": "redis-standalone-tiny"},
                     headers=stack.auth(token)).json["id"]
    wait_status(token, iid, "running")
    with open(stack.k8s.token_file) as f:
        tok = f.read().strip()
    req = urllib.request.Request(stack.k8s.url + "/api/v1/namespaces/%s/services/%s" %
                                 (NS, name_of(iid)), method="DELETE",
                                 headers={"Authorization": "Bearer " + tok})
    urllib.request.urlopen(req, timeout=10).read()
    wait_until(lambda: jobs() or objects(iid)["service"] is not None, timeout=10,
               what="the Service recreated")
    remove(token, iid)


def _stuck(reason, name):
    uid, token = user()
    iid = stack.post(API, {"name": name, "presetId": "redis-standalone-tiny"},
                     headers=stack.auth(token)).json["id"]
    jobs()
    control("POST", "/_control/fail", {"namespace": NS, "name": name_of(iid), "reason": reason})
    wait_status(token, iid, "error", timeout=30)
    got = stack.get("%s/%s" % (API, iid), headers=stack.auth(token)).json.get("statusReason", "")
    check(reason in got, "the reason %s is kept" % reason, got)
    return uid, token, iid


def test_image_pull_backoff_becomes_an_error_with_that_reason():
    control("POST", "/_control/autoready", {"on": False})
    try:
        for reason in ("ImagePullBackOff", "CrashLoopBackOff", "Unschedulable"):
            uid, token, iid = _stuck(reason, reason.lower())
            check(stack.psql("SELECT count(*) FROM user_lemon_transactions t JOIN users u"
                             " ON u.id = t.user_id WHERE u.id = :'p1'"
                             " AND action_type = 'instance_create_refund'", uid) == [["1"]],
                  "creation cost refunded")
            stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
            jobs()
    finally:
        control("POST", "/_control/autoready", {"on": True})


def test_api_down_for_several_passes_then_back():
    uid, token = user()
    iid = stack.post(API, {"name": "weather", "presetId": "redis-standalone-tiny"},
                     headers=stack.auth(token)).json["id"]
    wait_status(token, iid, "running")
    control("POST", "/_control/fault", {"status": 503, "count": 30})
    for _ in range(3):
        stack.ctl("jobs", "--only", "reconcile", check_rc=False)
    check(status(token, iid) == "running", "nothing changes while the API is down")
    control("DELETE", "/_control/faults")
    control("POST", "/_control/fault", {"status": 429, "count": 2, "retryAfter": 1})
    jobs()
    check(status(token, iid) == "running", "a 429 storm is waited out")
    remove(token, iid)


def test_a_taken_node_port_is_burned_and_another_allocated():
    uid, token = user()
    r = stack.post(API, {"name": "clash", "presetId": "redis-standalone-tiny"},
                   headers=stack.auth(token))
    iid, port = r.json["id"], r.json["credentials"]["externalPort"]
    with open(stack.k8s.token_file) as f:
        tok = f.read().strip()
    squatter = {"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "squatter", "namespace": "other"},
                "spec": {"type": "NodePort", "selector": {"app": "x"},
                         "ports": [{"port": 80, "targetPort": 80, "nodePort": port}]}}
    req = urllib.request.Request(stack.k8s.url + "/api/v1/namespaces/other/services",
                                 method="POST", data=json.dumps(squatter).encode(),
                                 headers={"Authorization": "Bearer " + tok,
                                          "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    wait_status(token, iid, "running")
    new_port = stack.get("%s/%s" % (API, iid), headers=stack.auth(token)).json["externalPort"]
    check(new_port != port, "moved to another port", (port, new_port))
    check(stack.psql("SELECT count(*) FROM burned_ports WHERE port = :p1", port) == [["1"]],
          "the taken port is burned")
    remove(token, iid)


def test_an_orphan_object_is_left_alone():
    with open(stack.k8s.token_file) as f:
        tok = f.read().strip()
    orphan_id = "0123abcd-0000-4000-8000-00000000ffff"
    secret = {"apiVersion": "v1", "kind": "Secret",
              "metadata": {"name": name_of(orphan_id), "namespace": NS,
                           "labels": {"app.kubernetes.io/managed-by": "dbtree",
                                      "dbtree.io/instance-id": orphan_id}},
              "data": {"password": base64.b64encode(b"x" * 12).decode()}}
    req = urllib.request.Request(stack.k8s.url + "/api/v1/namespaces/%s/secrets" % NS,
                                 method="POST", data=json.dumps(secret).encode(),
                                 headers={"Authorization": "Bearer " + tok,
                                          "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    p = stack.ctl("jobs", "--only", "reconcile")
    check("no row owns it" in p.stderr, "reported in the log", p.stderr[-500:])
    check(stack.metric("dbtree_reconcile_orphans") >= 1, "and in the metrics")
    check(objects(orphan_id)["secret"] is not None, "left alone")


# -- TLS ----------------------------------------------------------------------

TLS_KEYS = ("tls.crt", "tls.key", "ca.crt", "tls.pem")
TLS_DIR = "/etc/dbtree-tls"
CM = {"DBTREE_K8S_CERT_ISSUER": "dbtree-ca", "DBTREE_K8S_CERT_ISSUER_KIND": "ClusterIssuer"}


def ready_user():
    """A user with lemons, the stand-in making pods ready at once (the
    suite's first test turns that on; this makes a test runnable alone)."""
    control("POST", "/_control/autoready", {"on": True})
    return user()


def public_host():
    return stack.env.get("DBTREE_PUBLIC_DB_HOST", "127.0.0.1")


def ca_pem():
    with open(os.path.join(stack.env["DBTREE_TLS_DIR"], "ca.pem")) as f:
        return f.read()


def openssl(*args):
    return subprocess.run(["openssl"] + list(args), capture_output=True, text=True)


def tls_files(secret):
    """The Secret's TLS files, decoded, written to a temporary folder."""
    data = secret["data"]
    check(all(k in data for k in TLS_KEYS), "the Secret has %s" % ", ".join(TLS_KEYS),
          sorted(data))
    files = {k: base64.b64decode(data[k]).decode() for k in TLS_KEYS}
    d = tempfile.mkdtemp(prefix="dbtree-tls-")
    for k, text in files.items():
        with open(os.path.join(d, k), "w") as f:
            f.write(text)
    with open(os.path.join(d, "installation-ca.pem"), "w") as f:
        f.write(ca_pem())
    return d, files


def check_tls_secret(secret):
    """tls.crt verifies against the installation CA and names the public
    host; tls.key is its key; tls.pem is both; ca.crt is the CA."""
    d, files = tls_files(secret)
    p = lambda k: os.path.join(d, k)  # noqa: E731
    v = openssl("verify", "-CAfile", p("installation-ca.pem"), "-purpose", "sslserver",
                p("tls.crt"))
    check(v.returncode == 0 and v.stdout.strip().endswith("OK"),
          "tls.crt verifies against the installation CA", v.stdout + v.stderr)
    check(files["ca.crt"] == ca_pem(), "ca.crt is the installation CA")
    san = openssl("x509", "-in", p("tls.crt"), "-noout", "-ext", "subjectAltName").stdout
    check("IP Address:%s" % public_host() in san or "DNS:%s" % public_host() in san,
          "the certificate names the public host", san)
    cert_key = openssl("x509", "-in", p("tls.crt"), "-noout", "-pubkey").stdout
    key_key = openssl("pkey", "-in", p("tls.key"), "-pubout").stdout
    check(cert_key and cert_key == key_key, "tls.key is the certificate's key")
    check(files["tls.pem"].startswith(files["tls.key"].rstrip("\n")) and
          files["tls.pem"].rstrip("\n").endswith(files["tls.crt"].rstrip("\n")),
          "tls.pem is the key, then the certificate")
    ann = secret["metadata"].get("annotations", {})
    check(ann.get("dbtree.io/tls-host") == public_host(), "the Secret says which host", ann)
    return files


def pod_spec(iid):
    return objects(iid)["sts"]["spec"]["template"]["spec"]


def check_tls_volume(iid, secret_name, pem_key):
    spec = pod_spec(iid)
    vol = [v for v in spec.get("volumes", []) if v["name"] == "tls"]
    check(len(vol) == 1, "one tls volume", spec.get("volumes"))
    sec = vol[0]["secret"]
    check(sec["secretName"] == secret_name, "mounted from %s" % secret_name, sec)
    check(sec["defaultMode"] == 0o440, "files 0440 (root:fsGroup)", sec)
    keys = {i["key"]: i["path"] for i in sec["items"]}
    check("password" not in keys and "root-password" not in keys,
          "the passwords are not mounted", keys)
    want = {"tls.crt": "tls.crt", "tls.key": "tls.key", "ca.crt": "ca.crt"}
    if pem_key:
        want[pem_key] = "tls.pem"
    check(keys == want, "the TLS files", keys)
    c = spec["containers"][0]
    mounts = [m for m in c["volumeMounts"] if m["name"] == "tls"]
    check(mounts == [{"name": "tls", "mountPath": TLS_DIR, "readOnly": True}],
          "mounted read-only at %s" % TLS_DIR, c["volumeMounts"])
    check(spec["securityContext"]["fsGroup"] == 999, "fsGroup 999", spec["securityContext"])
    return c


def check_engine_tls(engine, c):
    args = " ".join(c.get("args", []))
    script = c["command"][2]
    ready = " ".join(c["readinessProbe"]["exec"]["command"])
    if engine == "postgres":
        for flag in ("ssl=on", "ssl_cert_file=%s/tls.crt" % TLS_DIR,
                     "ssl_key_file=%s/tls.key" % TLS_DIR, "hba_file=/tmp/dbtree-hba.conf"):
            check("-c " + flag in args, "postgres -c %s" % flag, args)
        check("hostssl all all all scram-sha-256" in script and "\\nhost " not in script,
              "TCP only through hostssl", script)
        check("PGSSLMODE=require pg_isready" in ready, "the probe uses TLS", ready)
    elif engine == "redis":
        check("--port 0 --tls-port 6379 --tls-cert-file %s/tls.crt --tls-key-file %s/tls.key"
              " --tls-ca-cert-file %s/ca.crt --tls-auth-clients no" % (TLS_DIR, TLS_DIR, TLS_DIR)
              in args, "redis listens with TLS only", args)
        check("redis-cli --tls --cacert %s/ca.crt" % TLS_DIR in ready, "the probe uses TLS", ready)
    else:
        check("--tlsMode requireTLS --tlsCertificateKeyFile %s/tls.pem --tlsCAFile %s/ca.crt"
              % (TLS_DIR, TLS_DIR) in args, "mongod requires TLS", args)
        check("tls=true&tlsCAFile=%s/ca.crt" % TLS_DIR in script,
              "the start script logs in over TLS", script)


def tls_instance(engine, preset):
    uid, token = ready_user()
    r = stack.post(API, {"name": "tls-%s" % engine, "presetId": preset},
                   headers=stack.auth(token))
    check(r.status == 202, "created", r)
    iid = r.json["id"]
    wait_status(token, iid, "running")
    o = objects(iid)
    check_tls_secret(o["secret"])
    c = check_tls_volume(iid, name_of(iid), "tls.pem" if engine == "mongodb" else None)
    check_engine_tls(engine, c)
    remove(token, iid)


def test_postgres_tls_on_kubernetes():
    tls_instance("postgres", "postgres-standalone-tiny")


def test_redis_tls_on_kubernetes():
    tls_instance("redis", "redis-standalone-tiny")


def test_mongodb_tls_on_kubernetes():
    tls_instance("mongodb", "mongodb-standalone-tiny")


def test_a_due_certificate_is_renewed_when_applied():
    uid, token = ready_user()
    iid = stack.post(API, {"name": "renew", "presetId": "redis-standalone-tiny"},
                     headers=stack.auth(token)).json["id"]
    wait_status(token, iid, "running")
    n = name_of(iid)
    old = objects(iid)["secret"]
    old_cert = base64.b64decode(old["data"]["tls.crt"]).decode()
    check("dbtree.io/tls-version" not in
          (objects(iid)["sts"]["spec"]["template"]["metadata"].get("annotations") or {}),
          "a first certificate restarts nothing")
    # it expires tomorrow, as far as dbtree can tell: well within the margin
    st, ans = kube_write("PATCH", "/api/v1/namespaces/%s/secrets/%s" % (NS, n),
                         {"metadata": {"annotations": {
                             "dbtree.io/tls-not-after": str(int(time.time()) + 86400)}}},
                         "application/merge-patch+json")
    check(st == 200, "annotation patched", ans)
    jobs()
    check(base64.b64decode(objects(iid)["secret"]["data"]["tls.crt"]).decode() == old_cert,
          "nothing changes while nothing needs applying")
    kube_write("DELETE", "/api/v1/namespaces/%s/services/%s" % (NS, n), {})
    control("POST", "/_control/reset-stats", {})
    wait_until(lambda: jobs() or objects(iid)["service"] is not None, timeout=10,
               what="the Service recreated")
    reads = [e for e in control("GET", "/_control/stats")["recent"]
             if e["method"] == "GET" and e["path"].endswith("/secrets")]
    check(reads and all("as=PartialObjectMetadataList" in e.get("accept", "") for e in reads),
          "the jobs read Secrets' metadata only, never their data", reads)
    new = objects(iid)["secret"]
    files = check_tls_secret(new)
    check(files["tls.crt"] != old_cert, "a new certificate")
    not_after = int(new["metadata"]["annotations"]["dbtree.io/tls-not-after"])
    check(not_after > time.time() + 60 * 86400, "valid for weeks again", not_after)
    ann = objects(iid)["sts"]["spec"]["template"]["metadata"].get("annotations") or {}
    check(len(ann.get("dbtree.io/tls-version", "")) == 16, "the pod restarts for it", ann)
    remove(token, iid)


def test_the_certs_pass_renews_a_due_certificate():
    uid, token = ready_user()
    iid = stack.post(API, {"name": "certs", "presetId": "postgres-standalone-tiny"},
                     headers=stack.auth(token)).json["id"]
    wait_status(token, iid, "running")
    n = name_of(iid)
    before = objects(iid)["secret"]["metadata"]["resourceVersion"]
    stack.ctl("jobs", "--only", "certs")
    old = objects(iid)["secret"]
    old_cert = base64.b64decode(old["data"]["tls.crt"]).decode()
    check(old["metadata"]["resourceVersion"] == before, "a current certificate is left alone")
    end = stack.metric("dbtree_tls_certificate_earliest_expiry_timestamp_seconds")
    check(0 < end <= int(old["metadata"]["annotations"]["dbtree.io/tls-not-after"]),
          "the certs pass reports the earliest expiry on /metrics", end)
    # another public host, as far as the Secret says: due whatever the date
    kube_write("PATCH", "/api/v1/namespaces/%s/secrets/%s" % (NS, n),
               {"metadata": {"annotations": {"dbtree.io/tls-host": "old.example.com"}}},
               "application/merge-patch+json")
    control("POST", "/_control/reset-stats", {})
    p = stack.ctl("jobs", "--only", "certs")
    st = control("GET", "/_control/stats")
    new = objects(iid)["secret"]
    files = check_tls_secret(new)
    check(files["tls.crt"] != old_cert, "a new certificate", p.stderr[-500:])
    ann = objects(iid)["sts"]["spec"]["template"]["metadata"].get("annotations") or {}
    check(len(ann.get("dbtree.io/tls-version", "")) == 16, "the pod restarts for it", ann)
    lists = [e for e in st["recent"] if e["verb"] == "LIST"]
    check(len(lists) == 1 and lists[0]["path"].endswith("/secrets") and
          "as=PartialObjectMetadataList" in lists[0].get("accept", ""),
          "one metadata-only list for the pass", st["recent"])
    remove(token, iid)


def cm_jobs(only="reconcile"):
    return stack.ctl("jobs", "--only", only, extra_env=CM)


def test_cert_manager_renewal_restarts_the_pod():
    uid, token = ready_user()
    iid = stack.post(API, {"name": "cm-roll", "presetId": "redis-standalone-tiny"},
                     headers=stack.auth(token)).json["id"]
    n = name_of(iid)
    wait_until(lambda: cm_jobs() or status(token, iid) == "running", timeout=20,
               interval=0.2, what="running")
    tmpl = lambda: objects(iid)["sts"]["spec"]["template"]["metadata"].get("annotations") or {}  # noqa: E731
    status_path = "/apis/cert-manager.io/v1/namespaces/%s/certificates/%s/status" % (NS, n)
    st, ans = kube_write("PATCH", status_path, {"status": {"revision": 1}},
                         "application/merge-patch+json")
    check(st == 200, "cert-manager issued revision 1", ans)
    cm_jobs("certs")
    check("dbtree.io/tls-version" not in tmpl(), "the first revision restarts nothing", tmpl())
    kube_write("PATCH", status_path, {"status": {"revision": 2}}, "application/merge-patch+json")
    cm_jobs("certs")
    check(tmpl().get("dbtree.io/tls-version") == "revision-2", "a renewal restarts the pod", tmpl())
    rv = objects(iid)["sts"]["metadata"]["resourceVersion"]
    cm_jobs("certs")
    check(objects(iid)["sts"]["metadata"]["resourceVersion"] == rv, "once")
    check("tls.crt" not in objects(iid)["secret"]["data"], "dbtree issued nothing itself")
    remove(token, iid, CM)


def test_cert_manager_certificate_instead_of_our_own():
    uid, token = ready_user()
    iid = stack.post(API, {"name": "cm-mongo", "presetId": "mongodb-standalone-tiny"},
                     headers=stack.auth(token)).json["id"]
    n = name_of(iid)
    cert_path = "/apis/cert-manager.io/v1/namespaces/%s/certificates/%s" % (NS, n)
    control("POST", "/_control/reset-stats", {})
    wait_until(lambda: cm_jobs() or status(token, iid) == "running", timeout=20,
               interval=0.2, what="running")
    cert = kube(cert_path)
    check(cert is not None, "a Certificate was applied")
    writes = [e for e in control("GET", "/_control/stats")["recent"]
              if e["path"] == cert_path and e["method"] == "PATCH"]
    check(writes and all(200 <= e["status"] < 300 for e in writes),
          "the stand-in accepted it (cert-manager's schema)", writes)
    spec = cert["spec"]
    check(spec["secretName"] == n + "-tls", "its Secret", spec)
    check(spec["issuerRef"] == {"name": "dbtree-ca", "kind": "ClusterIssuer",
                                "group": "cert-manager.io"}, "the issuer", spec)
    host = public_host()
    check(spec.get("ipAddresses") == [host] or spec.get("dnsNames") == [host],
          "the public host", spec)
    check(spec.get("additionalOutputFormats") == [{"type": "CombinedPEM"}],
          "mongod's combined PEM", spec)
    sts = objects(iid)["sts"]
    check(any(r["uid"] == sts["metadata"]["uid"] for r in cert["metadata"]["ownerReferences"]),
          "owned by the StatefulSet", cert["metadata"])
    c = check_tls_volume(iid, n + "-tls", "tls-combined.pem")
    check_engine_tls("mongodb", c)
    check("tls.crt" not in objects(iid)["secret"]["data"], "dbtree issued nothing itself")
    remove(token, iid, CM)
    check(kube(cert_path) is None, "the Certificate is gone too")


def test_the_stand_in_refuses_an_invalid_certificate():
    path = "/apis/cert-manager.io/v1/namespaces/%s/certificates" % NS

    def cert(name, **spec):
        return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                "metadata": {"name": name}, "spec": spec}
    st, ans = kube_write("POST", path, cert("no-issuer", secretName="x-tls", dnsNames=["a.example"]))
    check(st == 422 and ans["reason"] == "Invalid" and "spec.issuerRef: Required value" in ans["message"],
          "no issuerRef: 422", ans)
    st, ans = kube_write("POST", path, cert("no-secret", issuerRef={"name": "ca"}, dnsNames=["a.example"]))
    check(st == 422 and "spec.secretName: Required value" in ans["message"], "no secretName: 422", ans)
    st, ans = kube_write("POST", path, cert("bad-type", secretName="x-tls", issuerRef={"name": "ca"},
                                            dnsNames=["a.example"], duration=3600))
    check(st == 422 and "spec.duration" in ans["message"], "a number for a duration: 422", ans)
    st, ans = kube_write("POST", path, cert("no-name", secretName="x-tls", issuerRef={"name": "ca"}))
    check(st == 422, "no host at all: 422 (cert-manager's webhook)", ans)
    check(kube(path + "/no-issuer") is None and kube(path + "/no-name") is None, "none stored")


# -- dumps ----------------------------------------------------------------------

def dump_start(iid, bid, disk=1):
    return stack.post("/api/_probe/dump", {"id": iid, "type": "mongodb", "name": "dumped",
                                           "port": 30999, "diskGb": disk, "backupId": bid})


def dump_poll(bid):
    r = stack.get("/api/_probe/dump?backupId=" + bid)
    check(r.status == 200, "poll answers", r)
    return r.json


def job_status(bid, status):
    return kube_write("PATCH", "/apis/batch/v1/namespaces/%s/jobs/dbtree-dump-%s/status" % (NS, bid),
                      {"status": status}, "application/merge-patch+json")


def test_mongodb_dump_job():
    uid, token = ready_user()
    iid = stack.post(API, {"name": "dumped", "presetId": "mongodb-standalone-tiny"},
                     headers=stack.auth(token)).json["id"]
    wait_status(token, iid, "running")
    n, bid = name_of(iid), "b-%d" % int(time.time() * 1000)
    check(dump_poll(bid)["state"] == "gone", "no dump yet")
    r = dump_start(iid, bid)
    check(r.status == 204, "dump started", r)
    job = kube("/apis/batch/v1/namespaces/%s/jobs/dbtree-dump-%s" % (NS, bid))
    check(job is not None, "a Job")
    check(job["spec"]["backoffLimit"] == 0 and job["spec"]["ttlSecondsAfterFinished"] > 0 and
          job["spec"]["activeDeadlineSeconds"] > 0, "runs once, bounded, cleaned up", job["spec"])
    pod = job["spec"]["template"]
    check("dbtree.io/instance-id" not in pod["metadata"]["labels"],
          "the dump pod is no endpoint of the instance's Service", pod["metadata"])
    c = pod["spec"]["containers"][0]
    script, args = c["command"][2], c["args"]
    check("mongodump" in script and "--gzip" in script and '--archive="$3.part"' in script and
          "--ssl --sslCAFile=%s/ca.crt" % TLS_DIR in script, "mongodump over TLS to an archive", script)
    check(args[1:] == ["%s.%s.svc" % (n, NS), "27017", "/backup/%s.archive" % bid],
          "against the instance's Service, into its archive", args)
    secret = objects(iid)["secret"]
    root = base64.b64decode(secret["data"]["root-password"]).decode()
    check(root not in json.dumps(job), "no password in the Job")
    check(c["env"][0] == {"name": "DBTREE_ROOT_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": n, "key": "root-password"}}}, "the password from the Secret", c["env"])
    vols = {v["name"]: v for v in pod["spec"]["volumes"]}
    check(vols["backup"]["persistentVolumeClaim"]["claimName"] == "dbtree-backups" and
          vols["tls"]["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}],
          "the backup claim and the CA", vols)
    check(pod["spec"]["securityContext"] == pod_spec(iid)["securityContext"],
          "the instance pods' security context", pod["spec"]["securityContext"])
    pvc = kube("/api/v1/namespaces/%s/persistentvolumeclaims/dbtree-backups" % NS)
    check(pvc is not None and pvc["spec"]["resources"]["requests"]["storage"] == "1Gi",
          "the backup claim was made", pvc)
    check(dump_poll(bid)["state"] == "running", "running until the Job says otherwise")
    check(dump_start(iid, bid).status == 204, "starting it again is harmless")
    again = kube("/apis/batch/v1/namespaces/%s/jobs/dbtree-dump-%s" % (NS, bid))
    check(again["metadata"]["uid"] == job["metadata"]["uid"], "the same Job")
    st, ans = job_status(bid, {"succeeded": 1, "active": 0, "conditions": [
        {"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]})
    check(st == 200, "the Job completes", ans)
    check(dump_poll(bid)["state"] == "done", "poll says done")
    bid2 = bid + "-2"
    check(dump_start(iid, bid2).status == 204, "a second dump")
    job_status(bid2, {"failed": 1, "active": 0, "conditions": [
        {"type": "Failed", "status": "True", "reason": "DeadlineExceeded",
         "message": "Job was active longer than specified deadline"}]})
    p = dump_poll(bid2)
    check(p["state"] == "failed" and "DeadlineExceeded" in p["reason"], "poll says failed, and why", p)
    check(dump_start(iid, "Not/valid").status == 503, "a bad backup id is refused")
    remove(token, iid)


def test_a_mongodb_backup_through_the_api_runs_the_dump_job():
    uid, token = ready_user()
    iid = stack.post(API, {"name": "mongo-bk", "presetId": "mongodb-standalone-tiny"},
                     headers=stack.auth(token)).json["id"]
    wait_status(token, iid, "running")
    r = stack.post("%s/%s/backups" % (API, iid), headers=stack.auth(token))
    check(r.status == 202 and r.json["type"] == "mongodb", "a backup asked for", r)
    bid = r.json["id"]
    backups = lambda: [x for x in stack.get("%s/%s/backups" % (API, iid),  # noqa: E731
                                            headers=stack.auth(token)).json if x["id"] == bid][0]
    stack.ctl("jobs", "--only", "backups")
    job = kube("/apis/batch/v1/namespaces/%s/jobs/dbtree-dump-%s" % (NS, bid))
    check(job is not None, "the backups job started that backup's dump Job")
    check(status(token, iid) == "backing_up" and backups()["state"] == "running",
          "backing_up while the Job runs", backups())
    stack.ctl("jobs", "--only", "backups")
    check(backups()["state"] == "running", "a pass leaves a running Job alone", backups())
    st, ans = job_status(bid, {"succeeded": 1, "active": 0, "conditions": [
        {"type": "SuccessCriteriaMet", "status": "True"}, {"type": "Complete", "status": "True"}]})
    check(st == 200, "the Job completes", ans)
    stack.ctl("jobs", "--only", "backups")
    check(backups()["state"] == "done" and status(token, iid) == "running",
          "done, running again", backups())
    r = stack.post("%s/%s/backups/%s/link" % (API, iid, bid), headers=stack.auth(token))
    check_error(r, 409, 1708, "the archive stays in the cluster: no download here")
    stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    wait_until(lambda: jobs_with_backups() or not any(objects(iid).values()), timeout=30,
               what="deleted (no final backup of MongoDB to wait for)")


def test_a_postgres_backup_on_kubernetes_goes_to_the_node_port_as_root():
    """Nothing serves behind the stand-in: the dump is tried on the public
    host and node port, with the root password from the Secret, over TLS
    against the CA, fails there, and is refunded."""
    uid, token = ready_user()
    iid = stack.post(API, {"name": "pg-bk", "presetId": "postgres-standalone-tiny"},
                     headers=stack.auth(token)).json["id"]
    wait_status(token, iid, "running")
    before = int(stack.psql("SELECT lemon_balance FROM users WHERE id = :'p1'", uid)[0][0])
    r = stack.post("%s/%s/backups" % (API, iid), headers=stack.auth(token))
    check(r.status == 202, "a backup asked for", r)
    stack.ctl("jobs", "--only", "backups")
    b = [x for x in stack.get("%s/%s/backups" % (API, iid), headers=stack.auth(token)).json
         if x["id"] == r.json["id"]][0]
    port = stack.get("%s/%s" % (API, iid), headers=stack.auth(token)).json["port"]
    check(b["state"] == "failed" and b["reason"].startswith("pg_dump failed") and
          str(port) in b["reason"], "pg_dump went to the node port", b)
    after = int(stack.psql("SELECT lemon_balance FROM users WHERE id = :'p1'", uid)[0][0])
    check(after == before, "refunded", (before, after))
    check(status(token, iid) == "running", "running again")
    stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    wait_until(lambda: jobs_with_backups() or not any(objects(iid).values()), timeout=30,
               what="deleted")


def test_create_to_ready_mail_is_one_trace_through_the_api_server():
    """The create request, the reconcile pass that applies the objects (each
    call carrying the trace's traceparent to the API server), the pass that
    sees the pod ready, and the ready mail: one trace."""
    trace = "5ad0c0ffee5ad0c0ffee5ad0c0ffee%02x" % 1
    uid, token = user()
    control("POST", "/_control/autoready", {"on": True})
    control("POST", "/_control/reset-stats", {})
    r = stack.post(API, {"name": "traced-k8s", "presetId": "redis-standalone-tiny"},
                   headers=dict(stack.auth(token),
                                traceparent="00-%s-00f067aa0ba902b7-01" % trace))
    check(r.status == 202 and r.header("X-Trace-Id") == trace, "created", r)
    iid = r.json["id"]
    wait_status(token, iid, "running")
    seen = [e for e in control("GET", "/_control/stats")["recent"]
            if name_of(iid) in e["path"] or e["verb"] == "list"]
    writes = [e for e in seen if e["method"] in ("POST", "PATCH", "PUT") and
              name_of(iid) in e["path"]]
    check(writes and all(e.get("traceparent", "").startswith("00-%s-" % trace)
                         for e in writes),
          "every write for the instance carried the request's trace", writes)
    stack.jobs()    # the mail job
    found = []

    def complete():
        found[:] = stack.otlp.trace(trace)
        return any(s["name"] == "mail instance_ready" for s in found)
    wait_until(complete, timeout=20, what="the ready mail in the trace")
    by_id = {s["spanId"]: s for s in found}
    calls = [s for s in found if s["name"].startswith("kubernetes ")]
    parents = {"reconcile " + iid, "POST /api/db/instances"}
    check(calls and all(by_id.get(s["parentSpanId"], {}).get("name") in parents
                        for s in calls), "the API calls under the request (its Secret) and"
          " the instance's reconcile spans",
          [(s["name"], by_id.get(s["parentSpanId"], {}).get("name")) for s in calls])
    check({c["attributes"].get("k8s.resource") for c in calls} >=
          {"statefulsets", "services", "secrets"}, "the objects applied",
          sorted({c["name"] for c in calls}))
    check(any(s["name"] == "POST /api/db/instances" for s in found), "the request")
    check(stack.otlp.find_text([r.json["credentials"]["password"]]) == [],
          "no span carries the password")
