"""The live tree: nginx's pub/sub module (nchan) pushes every harvest and
every regrowth to the pages subscribed at GET /api/lemon/events, and the
pools never hold those connections.  Publishing goes to an internal
server on a unix socket only the service and nginx can reach."""
import os
import subprocess
import sys
import time

from dbt import stack, check, wait_until

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_tree import harvest, play, regrow_all  # noqa: E402
from test_game import regrow as game_regrow  # noqa: E402
from sseclient import EVENTS, EventStream  # noqa: E402
from wsclient import WebSocket  # noqa: E402



class Subscriber(EventStream):
    """A live-events stream through this stack's nginx."""

    def __init__(self, last_event_id=None, query=""):
        super().__init__("127.0.0.1", stack.port, last_event_id, query)


def nginx_workers():
    with open(os.path.join(stack.dir, "nginx", "nginx.pid")) as f:
        master = f.read().strip()
    out = subprocess.run(["pgrep", "-P", master], capture_output=True, text=True).stdout
    return set(out.split())


def pool_workers():
    return {g: len(stack.pids(g)) for g in ("tree", "public")}


def test_a_harvest_reaches_a_subscriber_at_once_and_says_no_more_than_the_tree_shows():
    (_, token), = stack.make_users(1)
    sub = Subscriber()
    workers = pool_workers()
    try:
        pos = 4
        a = play(token, pos)
        r = harvest(token, pos, a)
        check(r.status == 200, "harvested", r)
        done = time.time() * 1000
        ev = sub.next(timeout=1.0)
    finally:
        sub.close()
    d = ev["data"]
    check(d["type"] == "harvest" and set(d) == {"type", "lemons", "at"}, "a harvest event", d)
    lemon, = d["lemons"]
    check(lemon["position"] == pos, "of that lemon", d)
    check(lemon["by"].endswith("***") and "@" not in lemon["by"], "the winner masked", d)
    check("nextRegrowthTime" in lemon, "when it grows back", d)
    check(set(lemon) <= {"position", "by", "nextRegrowthTime"},
          "nothing a client could use to cheat (no quiz, attempt, answer, address)", d)
    check(ev["at"] - done < 1000 and abs(d["at"] - done) < 1000, "within a second", (ev, done))
    check(ev.get("id"), "an event id to resume from", ev)
    check(pool_workers() == workers, "no pool worker held by a subscriber", workers)


def test_a_harvest_reaches_a_websocket_subscriber_as_the_same_message():
    (_, token), = stack.make_users(1)
    ws = WebSocket("127.0.0.1", stack.port, EVENTS)
    sse = Subscriber()
    try:
        a = play(token, 3)
        check(harvest(token, 3, a).status == 200, "harvested")
        got = ws.next_json(timeout=2.0)
        ev = sse.next(timeout=2.0)
    finally:
        ws.close()
        sse.close()
    check(got == ev["data"], "the WebSocket gets what EventSource gets", (got, ev))
    check(got["type"] == "harvest" and [l["position"] for l in got["lemons"]] == [3],
          "that harvest", got)
    regrow_all()


def test_a_page_that_comes_back_gets_what_it_missed_from_its_last_event_id():
    (_, token), = stack.make_users(1)
    sub = Subscriber()
    try:
        a = play(token, 5)
        check(harvest(token, 5, a).status == 200, "first harvest")
        first = sub.next()
    finally:
        sub.close()
    regrow_all()   # publishes a "tree" event while nobody listens
    (_, other), = stack.make_users(1)
    a = play(other, 6)
    check(harvest(other, 6, a).status == 200, "harvest while away")
    for how in ({"last_event_id": first["id"]}, {"query": "?last_event_id=" + first["id"]}):
        back = Subscriber(**how)
        try:
            seen = [back.next(), back.next()]
        finally:
            back.close()
        kinds = [(e["data"]["type"], [l["position"] for l in e["data"].get("lemons", [])])
                 for e in seen]
        check(kinds[-1] == ("harvest", [6]), "the missed harvest, in order (%s)" % how, kinds)
        check(kinds[0][0] == "tree" and 5 in seen[0]["data"]["availablePositions"],
              "the regrowth missed before it", kinds)
    fresh = Subscriber()
    try:
        try:
            ev = fresh.next(timeout=0.5)
        except AssertionError:
            ev = None
        check(ev is None, "a new page gets no backlog (it reads global-status)", ev)
    finally:
        fresh.close()
    regrow_all()


def test_harvests_close_together_go_out_as_one_message_and_no_worker_waits_for_it():
    (_, t1), (_, t2) = stack.make_users(2)
    a1, a2 = play(t1, 1), play(t2, 2)
    sub = Subscriber()
    try:
        with stack.pause("relay.flush") as held:
            r = harvest(t1, 1, a1)
            check(r.status == 200, "the first harvest", r)
            first = time.time() * 1000
            held.wait_reached()   # the tree pool's master, about to publish it
            t0 = time.monotonic()
            r = harvest(t2, 2, a2)
            check(r.status == 200 and time.monotonic() - t0 < 1, "the second is not held", r)
        ev = sub.next()
    finally:
        sub.close()
    d = ev["data"]
    check(sorted(l["position"] for l in d["lemons"]) == [1, 2], "both lemons in one message", d)
    check(abs(d["at"] - first) < 500, "dated by the earlier harvest", (d, first))
    regrow_all()


def test_regrowth_is_published_with_the_whole_tree():
    (_, token), = stack.make_users(1)
    a = play(token, 7)
    check(harvest(token, 7, a).status == 200, "harvested")
    sub = Subscriber()
    try:
        sub.next(timeout=0.3)  # nothing: the harvest came before we subscribed
    except AssertionError:
        pass
    try:
        regrow_all()
        ev = sub.next()
    finally:
        sub.close()
    d = ev["data"]
    status = stack.get("/api/lemon/global-status").json
    check(d["type"] == "tree", "a tree event", d)
    check(d["availablePositions"] == status["availablePositions"] and
          d["totalHarvested"] == status["totalHarvested"], "what global-status says", (d, status))


def test_the_golden_lemon_is_announced_when_made_and_when_it_ends_and_a_quiet_pass_says_nothing():
    game_regrow(golden=0)
    sub = Subscriber()
    try:
        made = game_regrow(golden=1)
        ev = sub.next()
        check(ev["data"]["type"] == "tree" and
              ev["data"].get("goldenPosition") == made.get("goldenPosition") is not None,
              "the new golden lemon, announced", (ev, made))
        stack.ctl("jobs", "--only", "regrow", extra_env={"DBTREE_GOLDEN_PER_DAY": "1"})
        try:
            quiet = sub.next(timeout=0.5)
        except AssertionError:
            quiet = None
        check(quiet is None, "a pass that changed nothing publishes nothing", quiet)
        game_regrow(golden=0)   # 0 a day: the golden lemon ends
        ev = sub.next()
        check(ev["data"]["type"] == "tree" and "goldenPosition" not in ev["data"],
              "its end, announced", ev)
    finally:
        sub.close()


def test_only_the_service_can_publish():
    check(stack.post("/pub/tree", {"type": "harvest"}).status == 404, "no publisher on the site")
    r = stack.post(EVENTS, {"type": "harvest", "position": 1})
    check(r.status in (403, 405), "the subscriber location takes no messages", r)
    sock = os.path.join(stack.dir, "run", "events.sock")
    nobody = subprocess.run(["runuser", "-u", "nobody", "--", "curl", "-s", "-o", "/dev/null",
                             "-w", "%{http_code}", "--unix-socket", sock, "-X", "POST",
                             "-d", "{}", "http://localhost/pub/tree"],
                            capture_output=True, text=True)
    check(nobody.stdout in ("000", ""), "another local user cannot reach the publisher",
          (nobody.stdout, nobody.stderr))


def test_a_lost_event_never_fails_a_harvest_and_is_counted():
    sock = os.path.join(stack.dir, "run", "events.sock")
    mode = os.stat(sock).st_mode & 0o777
    (_, token), = stack.make_users(1)
    lost = stack.metric("dbtree_live_events_total", group="tree", outcome="lost")
    old = nginx_workers()
    os.chmod(sock, 0)   # the service may no longer connect
    try:
        stack.local("nginx-reload")   # its old workers end the relay's kept connection
        wait_until(lambda: not (old & nginx_workers()), what="the old nginx workers gone")
        a = play(token, 8)
        r = harvest(token, 8, a)
        check(r.status == 200 and r.json["harvestAmount"] == 3, "the harvest stands", r)
        wait_until(lambda: stack.metric("dbtree_live_events_total", group="tree",
                                        outcome="lost") == lost + 1,
                   what="the lost event counted")
    finally:
        os.chmod(sock, mode)
    check("not published" in stack.log("pool-tree.log"), "and logged")
    regrow_all()
