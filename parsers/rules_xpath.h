/* rules_xpath.h - checking a rules file's XPath beyond what libxml2 checks when it compiles.
 * Called by the rules compiler (rules_compile.c); no state, any thread. */
#ifndef SCR_RULES_XPATH_H
#define SCR_RULES_XPATH_H

#include <stddef.h>

#include <libxml/xmlerror.h>

/* Writes libxml2's XPath error e in words into out (outlen bytes, always NUL-terminated when
 * outlen > 0): "invalid expression at column 3".  e is borrowed. */
void scr_rules_xpath_message(const xmlError *e, char *out, size_t outlen);

/* Scans the XPath text x (borrowed) outside string literals for what libxml2 accepts at
 * compile time but fails on every page: an unknown function, a variable, an undeclared
 * namespace prefix, unbalanced parentheses.  On the first one writes what is wrong into msg
 * (msglen bytes) and returns 1; else returns 0. */
int scr_rules_xpath_lint(const char *x, char *msg, size_t msglen);

#endif
