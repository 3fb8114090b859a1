/* reqopts.h - the request options a crawl may add to every fetch: extra headers (--header),
 * cookies (--cookie-file) and per-host HTTP credentials (--netrc-file).
 *
 * Rank 0 reads the files (scr_reqopts_read_private, then the checks here) and sends what the
 * workers need as secret wire settings (common/settings.c: header, cookies, credentials);
 * the workers parse those settings again with the functions here and never read a file.
 *
 * The credentials' wire form is one line per host, "HOST LOGIN PASSWORD", each field
 * percent-encoded (every byte at or below 0x20, '%', '*' and 0x7f as %XX), HOST lower case;
 * the netrc "default" entry is the host "*".  Lines are joined with '\n'.
 */
#ifndef SCR_REQOPTS_H
#define SCR_REQOPTS_H

#include <stddef.h>

/* Largest cookie and netrc file read on rank 0 (they travel in WELCOME to every worker). */
#define SCR_REQOPTS_FILE_MAX (1024 * 1024)

/* One --header value, "Name: value": SCR_OK, or SCR_EINVAL with the reason in err.  Refused:
 * a name that is not an RFC 9110 token, CR, LF or NUL anywhere, and the headers the crawler
 * sets itself (Host, User-Agent: use --user-agent, Cookie: use --cookie-file, Accept-Encoding,
 * If-None-Match, If-Modified-Since, Content-Length, Transfer-Encoding, Connection). */
int scr_reqopts_check_header(const char *h, char *err, size_t errlen);

/* Reads a file that may hold secrets (cookies, passwords) on rank 0: a regular file, no
 * larger than SCR_REQOPTS_FILE_MAX, no NUL byte, and refused when group or others may
 * access it (like --db-file).  option names the option in messages ("--cookie-file").
 * Returns the text (malloc'd, NUL-terminated; the caller wipes and frees it) or NULL with
 * the reason in err. */
char *scr_reqopts_read_private(const char *path, const char *option, char *err, size_t errlen);

/* The cookie lines of a Netscape cookie file (the format libcurl and curl -c write): comment
 * and blank lines dropped ("#HttpOnly_" lines are cookies), CR removed; every other line must
 * have 7 tab-separated fields.  Returns the lines joined with '\n' (malloc'd, caller frees;
 * "" when the file holds no cookie) or NULL with "PATH:LINE: ..." in err. */
char *scr_reqopts_cookies(const char *text, const char *path, char *err, size_t errlen);

/* Parses a netrc file's text (machine, default, login, password, account, macdef; tokens
 * may be double-quoted with \ escapes, as curl reads them) into the wire form above.  The
 * first entry for a host wins.  An entry without login or password is refused.  Returns the
 * malloc'd wire text (caller wipes and frees) or NULL with the reason, naming path, in err. */
char *scr_reqopts_netrc(const char *text, const char *path, char *err, size_t errlen);

/* Finds host's credentials in the wire text (the host's own entry, else the default entry):
 * SCR_OK with *login and *password malloc'd (the caller wipes and frees both), SCR_ENOTFOUND
 * when there is none, SCR_EINVAL for a malformed line. */
int scr_reqopts_credentials(const char *wire, const char *host, char **login, char **password);

#endif
