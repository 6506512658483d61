/*
 * The product's error codes: one table (errors.c) of { code, name, HTTP
 * status, default message }.  Responses are built from it by resp_error()
 * in web/req.h, in the one shape
 *	{"code": 1100, "message": "[invalid_parameter] ...", "data": {...}}.
 * Codes are stable for machines; messages are for people.
 */
#ifndef WEB_ERRORS_H
#define WEB_ERRORS_H

enum err {
	ERR_UNKNOWN,			/* 1000 */
	ERR_INTERNAL,			/* 1001 */
	ERR_UNAVAILABLE,		/* 1002 a dependency is down */
	ERR_PAYLOAD_TOO_LARGE,		/* 1003 */
	ERR_UNSUPPORTED_MEDIA_TYPE,	/* 1004 */
	ERR_TOO_MANY_REQUESTS,		/* 1005 */
	ERR_INVALID_PARAMETER,		/* 1100 */
	ERR_MISSING_PARAMETER,		/* 1101 */
	ERR_METHOD_NOT_ALLOWED,		/* 1102 */
	ERR_ENDPOINT_NOT_FOUND,		/* 1103 */
	ERR_INVALID_OTP,		/* 1200 */
	ERR_EXPIRED_OTP,		/* 1201 */
	ERR_SESSION_NOT_FOUND,		/* 1202 */
	ERR_TOO_MANY_RESENDS,		/* 1203 */
	ERR_TOO_EARLY_RESEND,		/* 1204 */
	ERR_INVALID_TOKEN,		/* 1205 */
	ERR_UNAUTHORIZED,		/* 1206 */
	ERR_SESSION_EXPIRED,		/* 1207 */
	ERR_ALREADY_VERIFIED,		/* 1208 */
	ERR_INVALID_EMAIL,		/* 1301 */
	ERR_RESOURCE_NOT_FOUND,		/* 1400 */
	ERR_RESOURCE_CONFLICT,		/* 1401 */
	ERR_HARVEST_COOLDOWN,		/* 1500 */
	ERR_LEMON_STORAGE_FULL,		/* 1501 */
	ERR_INSUFFICIENT_LEMONS,	/* 1502 */
	ERR_QUIZ_IN_PROGRESS,		/* 1600 */
	ERR_NO_QUIZ_PASSED,		/* 1601 */
	ERR_HARVEST_ALREADY_PROCESSED,	/* 1602 */
	ERR_TIME_EXPIRED,		/* 1603 */
	ERR_CLICK_TIME_EXPIRED,		/* 1604 */
	ERR_NO_QUIZ_IN_PROGRESS,	/* 1605 */
	ERR_LEMON_ALREADY_HARVESTED,	/* 1606 */
	ERR_LEMON_LOCKED_OUT,		/* 1607 one try per user per lemon */
	ERR_INVALID_STATUS_TRANSITION,	/* 1700 */
	ERR_INSTANCE_QUOTA_EXCEEDED,	/* 1701 */
	ERR_INVALID_INSTANCE_NAME,	/* 1702 */
	ERR_INVALID_RESOURCE_SPEC,	/* 1703 */
	ERR_INSTANCE_NOT_READY,		/* 1704 */
	ERR_RESET_IN_PROGRESS,		/* 1705 */
	ERR_BACKUP_IN_PROGRESS,		/* 1706 */
	ERR_BACKUP_STORAGE_FULL,	/* 1707 */
	ERR_BACKUP_NOT_READY,		/* 1708 */
	ERR_RESTORE_IN_PROGRESS,	/* 1709 */
	ERR_LIMIT_EXCEEDED,		/* 1805 */
	ERR_RESOURCE_EXHAUSTED,		/* 1900 */
	ERR_SYSTEM_CAPACITY_EXCEEDED,	/* 1901 */
	ERR__COUNT
};

struct err_info {
	int code;
	const char *name;
	int http_status;
	const char *message;
};

/* The row for e (ERR_UNKNOWN's for an out-of-range value). */
const struct err_info *err_info(enum err e);

#include "base/banned.h"
#endif
