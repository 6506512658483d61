/*
 * Language tags to and from enum lang.  Only the primary subtag counts:
 * "ko-KR" and "ko" are both Korean, which is all the catalogues distinguish.
 */
#include <ctype.h>
#include <string.h>

#include "base/lang.h"

const char *
lang_name(enum lang l)
{
	switch (l) {
	case LANG_EN:
		return "en";
	case LANG_KO:
		return "ko";
	}
	return "en";
}

int
lang_parse(const char *s, enum lang *out)
{
	char primary[3];
	size_t n;

	if (!s)
		return -1;
	n = strcspn(s, "-_");
	if (n != 2 || !isalpha((unsigned char)s[0]) ||
	    !isalpha((unsigned char)s[1]))
		return -1;
	primary[0] = (char)tolower((unsigned char)s[0]);
	primary[1] = (char)tolower((unsigned char)s[1]);
	primary[2] = '\0';
	if (strcmp(primary, "en") == 0)
		*out = LANG_EN;
	else if (strcmp(primary, "ko") == 0)
		*out = LANG_KO;
	else
		return -1;
	return 0;
}
