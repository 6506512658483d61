"""Client text at the edge: every string of a query, a path or a JSON body
must be UTF-8 without NUL bytes (400, code 1100, before any handler runs),
and error messages that echo input never cut a character in half."""
import json

from dbt import stack, check, check_error

ECHO = "/api/_probe/echo"
SLEEP = "/api/_probe/sleep"


def strict_json(r):
    """The body as strict JSON: valid UTF-8 (no replacement), no NaN."""
    def no_constants(name):
        raise ValueError("not JSON: %s" % name)
    try:
        return json.loads(r.body.decode("utf-8"), parse_constant=no_constants)
    except ValueError as e:  # UnicodeDecodeError is a ValueError
        raise AssertionError("the body is not strict JSON (%s): %r" % (e, r.body[:300]))


def refused(r, where, what):
    check_error(r, 400, 1100, what)
    body = strict_json(r)
    check(body["data"].get("in") == where, "%s: refused in the %s" % (what, where), r)
    return body


def raw_get(target):
    """GET with raw bytes in the request target; (status, body bytes)."""
    return stack.raw(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")


def test_invalid_utf8_in_a_query_is_400_not_an_sql_error():
    (uid, token), = stack.make_users(1)
    before = len(stack.log("pool-stats.log"))
    r = stack.get("/api/stats/transactions?instanceName=%ff%fe", headers=stack.auth(token))
    body = refused(r, "query", "instanceName=%ff%fe")
    check(body["data"].get("parameter") == "instanceName", "names the parameter", r)
    logged = stack.log("pool-stats.log")[before:]
    check("sql" not in logged.lower(), "nothing reached PostgreSQL", logged[-500:])
    r = stack.get("/api/stats/transactions?instanceName=caf%C3%A9", headers=stack.auth(token))
    check(r.status == 200, "a UTF-8 name is fine", r)


def test_nul_and_malformed_sequences_in_a_query_are_400():
    for query in ("ms=1&q=%C0%AF", "ms=1&q=%ED%A0%80", "ms=1&q=%F4%90%80%80",
                  "ms=1&q=%C3", "ms=1&q%ff=1", "ms=1&q=%zz", "ms=1&q=%"):
        refused(stack.get(SLEEP + "?" + query), "query", query)
    # nginx already turns %00 anywhere in the target away (nginx/http.conf)
    for query in ("ms=1&q=a%00b", "ms=1%00"):
        check_error(stack.get(SLEEP + "?" + query), 400, 1100, query)
    status, body = raw_get(b"/api/_probe/sleep?ms=1&q=\xff\xfe")
    check(status == 400 and b'"code":1100' in body, "raw bytes in the query", body)
    r = stack.get(SLEEP + "?ms=1&q=caf%C3%A9+%F0%9F%8D%8B")
    check(r.status == 200 and r.json["slept"] == 1, "UTF-8 text passes", r)


def test_invalid_utf8_in_a_path_parameter_is_400():
    (uid, token), = stack.make_users(1)
    for path in ("/api/db/instances/%ff%fe", "/api/db/instances/a%C0%AF",
                 "/api/quiz/%ED%A0%80"):
        refused(stack.get(path, headers=stack.auth(token)), "path", path)
    status, body = raw_get(b"/api/db/instances/\xc3")
    check(status == 400 and b'"code":1100' in body, "a raw cut sequence in the path", body)
    check(stack.get("/api/health").status == 200, "service still up")


def test_invalid_text_in_a_json_value_is_400():
    for body in (b'{"name": "\\ud800", "n": 1}',          # json-c made it U+FFFD
                 b'{"name": "x\\udc00y", "n": 1}',
                 b'{"name": "a\\u0000b", "n": 1}',
                 b'{"name": "x", "n": 1, "tags": ["ok", "\\ud83c"]}',
                 b'{"name": "\xc3\x28", "n": 1}',
                 b'{"name": "\xed\xa0\x80", "n": 1}'):
        r = stack.post(ECHO, body, headers={"Content-Type": "application/json"})
        check_error(r, 400, 1100, "body %r" % body)
        strict_json(r)
    r = stack.post(ECHO, '{"name": "caf\\u00e9 \\ud83c\\udf4b", "n": 1}',
                   headers={"Content-Type": "application/json"})
    check(r.status == 200 and r.json["name"] == "caf\u00e9 \U0001F34B", "escaped text passes", r)


def test_invalid_text_in_a_json_key_is_400():
    for body in (b'{"n": 1, "name\\u0000evil": "x"}',      # json-c cut the key to "name"
                 b'{"name": "x", "n": 1, "\\udc00": 2}',
                 b'{"name": "x", "n": 1, "o": {"\\ud800": 2}}',
                 b'{"name": "x", "n": 1, "\xff": 2}'):
        r = stack.post(ECHO, body, headers={"Content-Type": "application/json"})
        check_error(r, 400, 1100, "body %r" % body)
        strict_json(r)


def test_an_echoed_multibyte_name_is_cut_on_a_character_boundary():
    (uid, token), = stack.make_users(1)
    preset = "a" + "\u00e9" * 23          # 47 bytes; 40 end inside an e-acute
    r = stack.post("/api/db/instances", {"name": "cut-test", "presetId": preset},
                   headers=stack.auth(token))
    check(400 <= r.status < 500, "refused", r)
    body = strict_json(r)
    check("a" + "\u00e9" * 19 in body["message"], "the name is echoed up to a boundary", body)
    check("\ufffd" not in body["message"], "no broken character", body)
