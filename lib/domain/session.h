/*
 * Login sessions: one per device, each with its own random token.  Only the
 * SHA-256 of a token is stored.  Sessions are not sliding: a token lasts
 * its lifetime and the person logs in again.
 */
#ifndef DOMAIN_SESSION_H
#define DOMAIN_SESSION_H

#include <stdint.h>

struct db;

#define SESSION_TOKEN_LEN 43	/* 32 random bytes, base64url, no padding */
#define USER_ID_LEN 36

enum session_result {
	SESSION_OK = 0,
	SESSION_NONE = 1,	/* unknown, expired, or the user is deleted */
};

/* Inside an open transaction: a new session for user_id lasting ttl_s;
 * token gets the secret to hand to the client (once).  0 or -1. */
int session_create(struct db *db, const char *user_id, int64_t ttl_s,
		   char token[SESSION_TOKEN_LEN + 1]);
/* The live user behind the session stored as key (session_key): SESSION_OK
 * with user_id and *expires_ms (epoch ms) filled, SESSION_NONE, or -1. */
int session_user(struct db *db, const char *key,
		 char user_id[USER_ID_LEN + 1], int64_t *expires_ms);
/* The SHA-256 (hex) a token is stored as. */
void session_token_hash(const char *token, char hex[65]);
/* The stored form of a token for SESSION_USER_SQL: SESSION_OK with hex
 * filled, or SESSION_NONE when the token cannot be one of ours. */
int session_key(const char *token, char hex[65]);

/* SQL text: the live user (uuid) behind the stored token given as hex text
 * in parameter p, or NULL.  Hot statements (domain/game) check the session
 * inside themselves with it and save a round trip. */
#define SESSION_USER_SQL(p) "(SELECT s.user_id" SESSION_LIVE_SQL(p) ")"
/* SQL text: FROM and WHERE of the live session (s) of a live user (su)
 * stored as the hex text in parameter p. */
#define SESSION_LIVE_SQL(p) " FROM sessions s" \
	" JOIN users su ON su.id = s.user_id" \
	" WHERE s.token_hash = decode(" p ", 'hex')" \
	" AND s.expires_at > now() AND NOT su.is_deleted"
/* Ends the session of token (none is not an error).  0 or -1. */
int session_end(struct db *db, const char *token);
/* Removes expired sessions and stale login codes, in batches, until none
 * is left or CLOCK_MONOTONIC passes deadline_ms (ms; at least one batch
 * runs); returns how many rows went, or -1. */
int64_t session_sweep(struct db *db, int64_t deadline_ms);

#include "base/banned.h"
#endif
