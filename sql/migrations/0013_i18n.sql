-- English and Korean (issue 16, item 5).
--
-- ui_lang: the languages dbtree speaks (lib/base/lang.h mirrors it).
-- quizzes: the Korean text of a quiz, all three fields or none; its options
-- match the English ones one for one (same count, same correct index), so
-- an answer means the same in both languages.
-- users.lang: the language the person last used (set from the web UI's
-- requests, see README "Languages"); their mails follow it.
-- mail_outbox.lang: the language a queued mail is written in, fixed when it
-- is queued (a retry sends the same text).

CREATE TYPE ui_lang AS ENUM ('en', 'ko');

ALTER TABLE quizzes
	ADD COLUMN question_ko    text,
	ADD COLUMN options_ko     jsonb,
	ADD COLUMN explanation_ko text,
	ADD CONSTRAINT quizzes_ko_whole CHECK (
		(question_ko IS NULL) = (options_ko IS NULL)
		AND (options_ko IS NULL) = (explanation_ko IS NULL)),
	ADD CONSTRAINT quizzes_ko_options CHECK (options_ko IS NULL OR (
		jsonb_typeof(options_ko) = 'array'
		AND jsonb_array_length(options_ko) = jsonb_array_length(options)));

ALTER TABLE users ADD COLUMN lang ui_lang NOT NULL DEFAULT 'en';

ALTER TABLE mail_outbox ADD COLUMN lang ui_lang NOT NULL DEFAULT 'en';
