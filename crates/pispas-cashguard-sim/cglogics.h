/*
 * cglogics.h -- the C ABI of the CashGuard library (cglogics.dll) as the Pispas project uses it.
 *
 * The vendor's exact prototypes are not public. This is the project's documented inference,
 * shared by the engine adapter and the simulator (crates/pispas-cashguard-sim, which exports
 * exactly these functions). The semantics are in README.md next to this file ("The contract").
 *
 * - Calling convention: cdecl (extern "C"); on x86_64 there is only one.
 * - Every function returns a CgStatus as `short`.
 * - Every `char* answer` is a caller-provided buffer of CG_ANSWER_LEN (256) bytes; the library
 *   writes a NUL-terminated message of at most 255 bytes. A NULL answer gives 4.
 * - Amounts are `int` cents. Strings are NUL-terminated, ANSI/UTF-8.
 * - NULL pointer arguments give CG_INPUT_PARAM_ERROR (4), except callbacks (NULL = not wanted).
 * - Callbacks run on a thread the library owns, never on the caller's thread, never while the
 *   library holds a lock a call needs (a callback may call back into the library), and never
 *   after exitCG has returned.
 */
#ifndef CGLOGICS_H
#define CGLOGICS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && !defined(CG_CALL)
#define CG_CALL __cdecl
#elif !defined(CG_CALL)
#define CG_CALL
#endif

#define CG_ANSWER_LEN 256
#define CG_LEVEL_LEN 1024

/* Return codes. */
#define CG_OK                 0
#define CG_BUSY               1  /* not enough inserted yet / machine busy: try again */
#define CG_ERROR              2  /* machine error (jam): ERROR until resetCG */
#define CG_WARNING            3
#define CG_INPUT_PARAM_ERROR  4  /* bad value or NULL pointer */
#define CG_CLOSED             5  /* not initialised, or no session */
#define CG_TIMEOUT            6
#define CG_SENDFAILED         7
#define CG_PAYOUT_REST        8  /* change could not be paid in full: *amountRest is what is owed */
#define CG_PORT_ERROR         9
#define CG_PAYCLEAR_ERROR    10  /* deposit > inserted */
#define CG_PAYOUT_LIMIT      11  /* payout over the configured limit: nothing paid */
#define CG_NOT_SUPPORTED     12

/* Status callback: status 0 OK, 1 BUSY, 2 ERROR; mode 0 closed, 1 open from register,
 * 2 open from back office. totalInserted: cents inserted and not yet settled. */
typedef void (*CgStatusCb)(int totalInserted, int status, int mode);
/* Error callback (a jam): code, text, extra info. */
typedef void (*CgErrorCb)(int code, const char* text, const char* extInfo);
/* Level warning: type 1 EMPTY, 2 LOW, 3 HIGH, 4 BLOCKED (full); denomination in cents; count now. */
typedef void (*CgLevelWarningCb)(int type, int denomination, int count, const char* typeStr,
                                 const char* denomStr, const char* msg, const char* ext);
/* Cash session: infoType 0 BO withdrawal, 1 BO refill, 2 CR withdrawal, 3 CR refill,
 * 4 busy by other register; amount in cents. */
typedef void (*CgCashSessionCb)(int infoType, int amount, const char* ext);

short CG_CALL registerEvents3CG(CgStatusCb status, CgErrorCb error, CgLevelWarningCb levelWarning,
                                CgCashSessionCb cashSession);
short CG_CALL initCG(const char* portSettings, const char* initSettings, char* answer);
short CG_CALL exitCG(char* answer);
short CG_CALL loginStrCG(const char* cashRegId, const char* cashierId, char* answer);
short CG_CALL logoutCG(char* answer);
short CG_CALL isOpenCG(int* open, char* answer);
short CG_CALL amountDueCG(int amountDue, const char* transId, int* amountRest, char* answer);
short CG_CALL payout2CG(int amountDispense, int amountDeposit, const char* transId, int* amountRest,
                        char* answer);
short CG_CALL askPayout2CG(int amount, int* amountRest, char* answer);
/* type: 0 last insert, 1 all */
short CG_CALL regretCG(short type, char* answer);
/* level: CG_LEVEL_LEN bytes, filled with "denomination:count;..." ascending, e.g.
 * "1:50;2:50;...;500:10;1000:8;2000:4;5000:0;10000:0" (cents:count, coins and notes). */
short CG_CALL infoCG(char* level, char* answer);
short CG_CALL resetCG(char* answer);

#ifdef __cplusplus
}
#endif

#endif /* CGLOGICS_H */
