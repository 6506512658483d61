"""English and Korean through nginx: the quiz API in the asked language
(X-Dbtree-Lang header or ?lang=, English by default), `dbtreectl quiz
import` with Korean text (valid and invalid), and mails written in the
language the person last used, received by the test stack's SMTP server."""
import json
import os
import re
import secrets
import tempfile

from dbt import stack, check, wait_until

KO = {"X-Dbtree-Lang": "ko"}
SEND = "/api/send-otp?type=authentication"
VERIFY = "/api/verify-otp?type=authentication"


def _headers(token, extra=None):
    h = stack.auth(token)
    h.update(extra or {})
    return h


def _quiz_texts(attempt):
    """(question, options, explanation, question_ko, options_ko,
    explanation_ko) of an attempt's quiz, from the database."""
    row = stack.psql("SELECT q.question, q.options::text, q.explanation, q.question_ko,"
                     " q.options_ko::text, q.explanation_ko FROM user_quiz_attempts a"
                     " JOIN quizzes q ON q.id = a.quiz_id WHERE a.id = :p1", attempt)[0]
    return row[0], json.loads(row[1]), row[2], row[3], json.loads(row[4]), row[5]


def _wrong_option(attempt):
    right = int(stack.psql("SELECT q.correct_option_idx FROM user_quiz_attempts a"
                           " JOIN quizzes q ON q.id = a.quiz_id WHERE a.id = :p1", attempt)[0][0])
    return 0 if right != 0 else 1


def _play_wrong(path_suffix="", extra=None):
    """A fresh user starts a quiz on an available lemon and answers wrong.
    Returns (quiz answer, answer answer, texts from the database)."""
    (_, token), = stack.make_users(1, prefix="i18n")
    pos = stack.get("/api/lemon/global-status").json["availablePositions"][0]
    r = stack.get("/api/quiz/%d%s" % (pos, path_suffix), headers=_headers(token, extra))
    check(r.status == 200, "the quiz starts", r)
    attempt = r.json["attemptID"]
    a = stack.post("/api/quiz/answer", {"attemptID": attempt, "optionIdx": _wrong_option(attempt)},
                   headers=_headers(token, extra))
    check(a.status == 200 and a.json["isCorrect"] is False, "a wrong answer", a)
    return r.json, a.json, _quiz_texts(attempt)


def test_the_quiz_comes_in_korean_when_the_header_asks_for_it():
    quiz, answer, (q, opts, expl, q_ko, opts_ko, expl_ko) = _play_wrong(extra=KO)
    check(q_ko and q_ko != q, "the shipped quiz has its own Korean text", (q, q_ko))
    check(quiz["question"] == q_ko and quiz["options"] == opts_ko, "question and options in Korean", quiz)
    check(len(opts_ko) == len(opts), "as many options as in English", opts_ko)
    check(answer["explanation"] == expl_ko, "the explanation in Korean", answer)
    check(re.search("[\uac00-\ud7a3]", quiz["question"]), "Hangul in the question", quiz)


def test_the_lang_query_parameter_asks_for_korean_too():
    quiz, answer, (_, _, _, q_ko, opts_ko, _) = _play_wrong(path_suffix="?lang=ko-KR")
    check(quiz["question"] == q_ko and quiz["options"] == opts_ko, "?lang=ko-KR gives Korean", quiz)


def test_an_old_client_still_gets_english():
    quiz, answer, (q, opts, expl, _, _, _) = _play_wrong(
        extra={"Accept-Language": "ko-KR,ko;q=0.9"})
    check(quiz["question"] == q and quiz["options"] == opts, "English without X-Dbtree-Lang", quiz)
    check(answer["explanation"] == expl, "the explanation in English", answer)
    check(set(quiz) == {"question", "options", "timeLimit", "attemptID"},
          "the reference fields, nothing more", quiz)
    quiz, _, (q, _, _, _, _, _) = _play_wrong(extra={"X-Dbtree-Lang": "fr"})
    check(quiz["question"] == q, "a language we do not speak gives English", quiz)


def _import(lines):
    """Runs dbtreectl quiz import on a file of these JSON lines."""
    fd, path = tempfile.mkstemp(suffix=".jsonl", prefix="i18n-quiz-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")
    os.chmod(path, 0o644)
    try:
        return stack.ctl("quiz", "import", path, check_rc=False), path
    finally:
        os.unlink(path)


def _quiz(key, **ko):
    q = {"key": key, "category": "sql", "difficulty": "easy",
         "question": "Which keyword starts a transaction block?",
         "options": ["BEGIN", "COMMIT", "VACUUM"], "correct": 0,
         "explanation": "BEGIN starts a transaction block; COMMIT ends it.", "timeLimit": 20}
    if ko:
        q["ko"] = ko
    return q


KO_TEXT = {"question": "트랜잭션 블록을 시작하는 키워드는 무엇일까요?",
           "options": ["BEGIN", "COMMIT", "VACUUM"],
           "explanation": "BEGIN은 트랜잭션 블록을 시작하고 COMMIT은 끝냅니다."}


def _stored(key):
    """[[question, question_ko, options_ko, explanation_ko]] ('-' for NULL),
    or [] when there is no such quiz."""
    return stack.psql("SELECT question, coalesce(question_ko, '-'),"
                      " coalesce(options_ko::text, '-'), coalesce(explanation_ko, '-')"
                      " FROM quizzes WHERE key = :'p1'", key)


def test_quiz_import_takes_korean_and_english_only_lines():
    ko_key, en_key = "i18n-ko-%s" % secrets.token_hex(3), "i18n-en-%s" % secrets.token_hex(3)
    p, _ = _import([_quiz(ko_key, **KO_TEXT), _quiz(en_key)])
    check(p.returncode == 0 and "2 added, 0 updated, 0 rejected" in p.stdout, "both imported", p)
    row = _stored(ko_key)[0]
    check(row[1] == KO_TEXT["question"] and json.loads(row[2]) == KO_TEXT["options"]
          and row[3] == KO_TEXT["explanation"], "the Korean text stored", row)
    check(_stored(en_key)[0][1:] == ["-", "-", "-"], "an English-only quiz has no Korean",
          _stored(en_key))
    p, _ = _import([_quiz(ko_key)])
    check(p.returncode == 0 and "0 added, 1 updated" in p.stdout, "re-imported without Korean", p)
    check(_stored(ko_key)[0][1:] == ["-", "-", "-"], "its Korean is cleared with it",
          _stored(ko_key))


def test_quiz_import_rejects_bad_korean_and_changes_nothing():
    key = "i18n-bad-%s" % secrets.token_hex(3)
    p, _ = _import([_quiz(key, **KO_TEXT)])
    check(p.returncode == 0, "first import", p)
    before = _stored(key)
    fresh = "i18n-new-%s" % secrets.token_hex(3)
    bad = dict(KO_TEXT, options=["BEGIN", "COMMIT", "VACUUM", "END"])
    cases = [
        (bad, "ko.options: 4 given, as many as the English options (3) needed"),
        (dict(KO_TEXT, options=["BEGIN", "COMMIT"]), "ko.options: 2 given, 3 to 5 needed"),
        (dict(KO_TEXT, answer=1), "ko: unknown key 'answer'"),
        ({"question": KO_TEXT["question"], "options": KO_TEXT["options"]},
         "ko.explanation: missing or null"),
    ]
    for ko, reason in cases:
        changed = _quiz(key, **ko)
        changed["question"] = "Which keyword opens a transaction block?"
        p, path = _import([changed, _quiz(fresh, **KO_TEXT)])
        check(p.returncode != 0, "a bad line fails the import", p)
        check("%s:1: %s" % (path, reason) in p.stderr, "the reason names the line and field",
              p.stderr)
        check(_stored(key) == before, "the quiz is unchanged", _stored(key))
        check(_stored(fresh) == [], "the good line of that file is not imported either",
              _stored(fresh))


def _korean_code(to, nth):
    msgs = stack.wait_mails(to, nth, timeout=15)
    text = msgs[nth - 1].get_body(preferencelist=("plain",)).get_content()
    m = re.search(r"로그인 코드: (\d{6})", text)
    check(m is not None, "a Korean code mail", text)
    return msgs[nth - 1], m.group(1)


def test_mails_follow_the_language_the_person_last_used():
    address = "i18n-mail-%s@example.com" % secrets.token_hex(3)
    r = stack.post(SEND, {"email": address}, headers=KO)
    check(r.status == 200, "a code asked for from a Korean page", r)
    msg, code = _korean_code(address, 1)
    check(msg["Subject"] == "dbtree 로그인 코드", "the code's subject in Korean", msg["Subject"])
    r = stack.post(VERIFY, {"email": address, "otp": code}, headers=KO)
    check(r.status == 200 and r.json["profile"]["lang"] == "ko", "the account speaks Korean", r)
    token = r.json["token"]
    welcome = wait_until(lambda: [m for m in stack.mails(address) if "환영" in m["Subject"]],
                         timeout=15, what="the welcome mail")
    body = welcome[0].get_body(preferencelist=("plain",)).get_content()
    check("레몬 15개" in body, "the welcome mail in Korean", body)
    # Later, a mail the person did not ask for (support confirmation) from
    # an English-less client: still Korean, their last language.
    r = stack.post("/api/support/inquiry", {"category": "bug", "subject": "s", "message": "m"},
                   headers=stack.auth(token))
    check(r.status == 204, "an inquiry", r)
    wait_until(lambda: [m for m in stack.mails(address) if m["Subject"] == "dbtree 문의를 받았습니다"],
               timeout=15, what="the confirmation in Korean")
    # The UI switched to English: GET /api/user records it, and mails follow.
    r = stack.get("/api/user", headers=_headers(token, {"X-Dbtree-Lang": "en"}))
    check(r.status == 200 and r.json["lang"] == "en", "English recorded", r)
    check(stack.psql("SELECT lang FROM users WHERE email = :'p1'", address) == [["en"]],
          "stored as the person's language")
    r = stack.post("/api/support/inquiry", {"category": "bug", "subject": "t", "message": "m"},
                   headers=stack.auth(token))
    wait_until(lambda: [m for m in stack.mails(address) if m["Subject"] == "We received your dbtree question"],
               timeout=15, what="the next confirmation in English")
    r = stack.get("/api/user", headers=stack.auth(token))
    check(r.json["lang"] == "en", "a request naming no language changes nothing", r)
