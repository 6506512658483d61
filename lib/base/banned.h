/*
 * Functions dbtree never calls: each has a bounded or re-entrant
 * replacement.  Included last by every header of lib/base, so a use
 * anywhere in the project is a compile error.
 */
#ifndef BASE_BANNED_H
#define BASE_BANNED_H

#define BANNED(f) sorry_##f##_is_banned_in_dbtree

#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strcpy
#define strcpy(...) BANNED(strcpy)
#undef strcat
#define strcat(...) BANNED(strcat)
#undef strncpy
#define strncpy(...) BANNED(strncpy)
#undef strtok
#define strtok(...) BANNED(strtok)
#undef atoi
#define atoi(...) BANNED(atoi)
#undef gmtime
#define gmtime(...) BANNED(gmtime)
#undef localtime
#define localtime(...) BANNED(localtime)

#endif
