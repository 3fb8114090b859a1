/* addrguard.h - which IP addresses a crawl may connect to without --allow-private.
 *
 * A URL whose host is not a seed host is fetched only from a public address: the fetcher
 * (worker/fetch.c) asks here about the very address libcurl is about to connect to, after
 * DNS resolution and on every redirect, so DNS rebinding does not get around the check.
 * The ranges and the decisions about tunnels (6to4, Teredo, NAT64) are listed in addrguard.c.
 */
#ifndef SCR_ADDRGUARD_H
#define SCR_ADDRGUARD_H

#include <stddef.h>
#include <sys/socket.h>

/* 1 when sa (AF_INET or AF_INET6, borrowed) is a public unicast address, else 0.  Pure: no
 * I/O, no state.  Any other address family is not public. */
int scr_addr_is_public(const struct sockaddr *sa);

/* What kind of non-public address sa is ("loopback", "private", "link-local", ...), or NULL
 * when it is public.  The string is static.  For an IPv6 address that embeds an IPv4 one
 * (IPv4-mapped, NAT64, 6to4) the class is the embedded address's. */
const char *scr_addr_class(const struct sockaddr *sa);

/* Writes sa as text (no port, IPv6 without brackets) into buf; "?" when it cannot. */
void scr_addr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
