/*
 * Strict JSON input: parsing that accepts exactly one JSON object, and typed
 * bounded getters.  json-c happily turns "5" or 5.0 into an integer when
 * asked; these getters never do.
 *
 * Getters return 0 and set *out, JGET_MISSING when the key is absent (or
 * null), or JGET_INVALID when the value has the wrong type or is out of
 * bounds.  Strings are borrowed from obj and die with it.
 */
#ifndef BASE_JGET_H
#define BASE_JGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

enum jget_result {
	JGET_OK = 0,
	JGET_MISSING = 1,
	JGET_INVALID = 2,
};

#define JGET_MAX_DEPTH 16

/* Parses text[0..len) strictly (UTF-8 checked, depth capped) and returns a
 * new object the caller puts, or NULL when it is not a single JSON object
 * (why, if not NULL, gets a short reason for the client).  Every key and
 * string of the result is text (base/utf8.h): \u0000 and unpaired
 * surrogate escapes are refused, as json-c would cut a key at the NUL and
 * turn a lone surrogate into U+FFFD. */
struct json_object *jget_parse_object(const char *text, size_t len,
				      const char **why);

/* A string of 1..maxlen bytes (0..maxlen when allow_empty). */
int jget_str(struct json_object *obj, const char *key, size_t maxlen,
	     const char **out);
int jget_str_opt(struct json_object *obj, const char *key, size_t maxlen,
		 bool allow_empty, const char **out);
/* An integer written without fraction or exponent, in [min, max]. */
int jget_i64(struct json_object *obj, const char *key, int64_t min,
	     int64_t max, int64_t *out);
/* A finite number in [min, max]. */
int jget_double(struct json_object *obj, const char *key, double min,
		double max, double *out);
int jget_bool(struct json_object *obj, const char *key, bool *out);
/* An object (borrowed). */
int jget_object(struct json_object *obj, const char *key,
		struct json_object **out);

#include "base/banned.h"
#endif
