-- The welcome bonus is paid once per mailbox, not once per address
-- (lib/domain/email.c, email_mailbox): "a+1@x" and "a+2@x" are one
-- mailbox, and at gmail.com and googlemail.com so are "a.b@" and "ab@".
-- welcome_bonuses is now keyed by the SHA-256 of that mailbox key.  Rows
-- so far hold the SHA-256 of the address itself; each live account that
-- was paid also gets a row under its mailbox key here, computed as
-- email_mailbox() does, so that its variants are not paid again.  Deleted
-- accounts kept no address: their rows stay as they were, and a login
-- still checks the address's own key against them.
WITH paid AS (
	SELECT b.user_id, b.paid_at,
	       split_part(u.email, '@', 1) AS local,
	       split_part(u.email, '@', 2) AS domain
	FROM welcome_bonuses b
	JOIN users u ON u.id = b.user_id AND NOT u.is_deleted
), untagged AS (
	-- the tag starts at the first '+'; a local part that starts with
	-- '+' has none
	SELECT user_id, paid_at, local, domain,
	       domain IN ('gmail.com', 'googlemail.com') AS gmail,
	       CASE WHEN position('+' IN local) > 1
	            THEN split_part(local, '+', 1) ELSE local END AS base
	FROM paid
), keyed AS (
	-- a local part the rules would leave empty is kept whole
	SELECT user_id, paid_at,
	       coalesce(nullif(CASE WHEN gmail THEN replace(base, '.', '')
	                            ELSE base END, ''), local)
	       || '@' || CASE WHEN gmail THEN 'gmail.com' ELSE domain END
	       AS mailbox
	FROM untagged
)
INSERT INTO welcome_bonuses (email_hash, user_id, paid_at)
SELECT DISTINCT ON (mailbox) sha256(convert_to(mailbox, 'UTF8')), user_id,
       paid_at
FROM keyed
ORDER BY mailbox, paid_at
ON CONFLICT (email_hash) DO NOTHING;
