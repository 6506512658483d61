"""The instance lifecycle with DBTREE_PROVISIONER=kubernetes, against the
Kubernetes API stand-in (tests/k8s/server.mjs), which validates every
object against the upstream schemas.  Jobs are run by hand so each pass is
deterministic."""
import base64
import json
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
    check(stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token)).status == 204,
          "delete")
    wait_until(lambda: jobs() or not any(objects(iid).values()), timeout=15,
               what="everything gone")
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
    stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    jobs()


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
    stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    jobs()


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
    stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    wait_until(lambda: jobs() or not any(objects(iid).values()), timeout=15, what="deleted")


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
    stack.request("DELETE", "%s/%s" % (API, iid), headers=stack.auth(token))
    jobs()


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
