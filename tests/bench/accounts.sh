# Sourced by the bench scripts: accounts made straight in SQL, each with a
# live session, so a bench needs no login round trips.
#
# accounts_sql EMAIL_PREFIX TOKEN_PREFIX UUID_GROUP COUNT [LEMONS]
#   prints the SQL for users 1..COUNT: e-mail EMAIL_PREFIX<i>@bench.invalid,
#   id 00000000-0000-4000-UUID_GROUP-<i in 12 digits>, bearer token
#   TOKEN_PREFIX<i zero-padded to 43 characters in all> (valid a day), and
#   with LEMONS a grant of that many through the ledger.
accounts_sql() {
	local email=$1 token=$2 group=$3 n=$4 lemons=${5:-}
	cat <<SQL
INSERT INTO users (id, email)
	SELECT ('00000000-0000-4000-$group-' || lpad(i::text, 12, '0'))::uuid,
	'$email' || i || '@bench.invalid' FROM generate_series(1, $n) i;
INSERT INTO sessions (token_hash, user_id, expires_at)
	SELECT sha256(convert_to('$token' || lpad(i::text, 43 - length('$token'), '0'), 'UTF8')),
	('00000000-0000-4000-$group-' || lpad(i::text, 12, '0'))::uuid,
	now() + interval '1 day' FROM generate_series(1, $n) i;
SQL
	[ -z "$lemons" ] || cat <<SQL
WITH u AS (UPDATE users SET lemon_balance = $lemons, total_earned_lemons = $lemons
	WHERE email LIKE '$email%@bench.invalid' RETURNING id)
	INSERT INTO user_lemon_transactions (user_id, action_type, amount, balance, note)
	SELECT id, 'grant', $lemons, $lemons, 'bench' FROM u;
SQL
}
