/*
 * The lemon tree: ten positions, each either available (with a quiz) or
 * growing back.  Regrowth gives a lemon a fresh quiz, preferring the
 * least-used quizzes that hang on no other lemon.
 */
#ifndef DOMAIN_TREE_H
#define DOMAIN_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct db;

#define TREE_POSITIONS 10

struct tree_status {
	int available[TREE_POSITIONS];	/* sorted positions */
	int navailable;
	time_t next_regrowth;		/* earliest growing lemon, 0 = none */
	int64_t total_harvested;	/* lemons ever harvested */
	int golden_position;		/* the golden lemon, -1 = none */
};

/* The public state of the tree (GET /api/lemon/global-status, and what a
 * live event would carry): available positions, next regrowth, total
 * harvested and the golden lemon.  0 or -1. */
int tree_status(struct db *db, struct tree_status *out);

/* Gives every available lemon without a quiz one (fresh installs, a quiz
 * bank imported late).  Returns how many got one, or -1. */
int tree_fill_quizzes(struct db *db);

/* The regrow job: lemons due again become available with a fresh quiz
 * (idempotent; a pass missed for hours does the same work once).  Returns
 * how many regrew, or -1. */
int tree_regrow(struct db *db);

#include "base/banned.h"
#endif
