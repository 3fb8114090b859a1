/* rules_xpath.c - what the rules compiler says about an XPath expression (rules_xpath.h).
 *
 * libxml2 compiles XPath but reports its mistakes as bare codes before 2.13, and accepts at
 * compile time what only fails on the pages: an unknown function, a variable, a namespace
 * prefix (a rules file declares none).  This file turns the first into words and finds the
 * second by scanning the expression, so that a rules file's mistakes show before the crawl.
 * Pure functions on strings; called by rules_compile.c only.
 */
#include "parsers/rules_xpath.h"

#include <stdio.h>
#include <string.h>

#include <libxml/xpath.h>

/* libxml2's XPath error codes (xmlXPathError, from XPATH_EXPRESSION_OK), in words: before
 * 2.13 the error handed to the context's handler carries a code but no message. */
static const char *const xpath_messages[] = {
    "no error", "bad number", "unfinished literal", "expected a literal",
    "expected $ for a variable", "undefined variable", "invalid predicate",
    "invalid expression", "missing closing brace", "unknown function", "invalid operand",
    "invalid type", "wrong number of arguments", "invalid context size",
    "invalid context position", "out of memory", "syntax error", "resource error",
    "sub-resource error", "undeclared namespace prefix", "encoding error",
    "character out of range", "invalid context", "stack error", "forbidden variable",
};

void scr_rules_xpath_message(const xmlError *e, char *out, size_t outlen)
{
    const char *m;
    size_t n;
    int k;

    k = e->code - XML_XPATH_EXPRESSION_OK;
    if (k >= 0 && (size_t)k < sizeof(xpath_messages) / sizeof(*xpath_messages))
        m = xpath_messages[k];
    else
        m = e->message ? e->message : "it does not compile";
    if (e->int1 >= 0)
        snprintf(out, outlen, "%s at column %d", m, e->int1 + 1);
    else
        snprintf(out, outlen, "%s", m);
    n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    /* "Invalid expression\n at column 3": the newline sits before " at" */
    for (char *nl = strchr(out, '\n'); nl; nl = strchr(nl, '\n'))
        memmove(nl, nl + 1, strlen(nl));
}

/* The functions XPath 1.0 defines (libxml2 has them all), and the node-type tests. */
static const char *const xpath_functions[] = {
    "last", "position", "count", "id", "local-name", "namespace-uri", "name", "string",
    "concat", "starts-with", "contains", "substring-before", "substring-after", "substring",
    "string-length", "normalize-space", "translate", "boolean", "not", "true", "false",
    "lang", "number", "sum", "floor", "ceiling", "round",
    "node", "text", "comment", "processing-instruction",
};

static int xpath_name_start(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch >= 0x80;
}

static int xpath_name_char(unsigned char ch)
{
    return xpath_name_start(ch) || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
}

/* libxml2 accepts at compile time what can only fail on the pages: an unknown function, a
 * variable, a namespace prefix (none is declared), and (2.9) a call missing its ')'.  Scans
 * the expression outside string literals for those; on the first one writes what is wrong
 * into msg and returns 1, else returns 0. */
int scr_rules_xpath_lint(const char *x, char *msg, size_t msglen)
{
    const char *p = x;
    long depth = 0;

    while (*p) {
        const char *start, *q;
        size_t n, i;
        int prefixed = 0;

        if (*p == '"' || *p == '\'') {
            q = strchr(p + 1, *p);
            if (!q)
                return 0; /* unterminated: libxml2 has refused it already */
            p = q + 1;
            continue;
        }
        if (*p == '$') {
            for (q = p + 1; xpath_name_char((unsigned char)*q) || *q == ':'; q++)
                ;
            snprintf(msg, msglen, "variables such as '%.*s' are not supported",
                     (int)(q - p < 60 ? q - p : 60), p);
            return 1;
        }
        if (*p == '(' || *p == ')') {
            depth += *p == '(' ? 1 : -1;
            if (depth < 0)
                break;
            p++;
            continue;
        }
        if (!xpath_name_start((unsigned char)*p) ||
            (p > x && (xpath_name_char((unsigned char)p[-1]) || p[-1] == '@'))) {
            p++;
            continue;
        }
        start = p;
        while (xpath_name_char((unsigned char)*p) ||
               (*p == ':' && p[1] != ':' && p[-1] != ':' &&
                (xpath_name_start((unsigned char)p[1]) || p[1] == '*'))) {
            prefixed |= *p == ':';
            p++;
        }
        n = (size_t)(p - start);
        q = p;
        while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
            q++;
        if (*q != '(') {
            if (prefixed) {
                snprintf(msg, msglen, "namespace prefix '%.*s' is not declared",
                         (int)(strchr(start, ':') - start), start);
                return 1;
            }
            continue;
        }
        if ((n == 3 && (!strncmp(start, "and", 3) || !strncmp(start, "div", 3) ||
                        !strncmp(start, "mod", 3))) ||
            (n == 2 && !strncmp(start, "or", 2)))
            continue; /* operators before a parenthesis: "a and (b)" */
        for (i = 0; i < sizeof(xpath_functions) / sizeof(*xpath_functions); i++)
            if (strlen(xpath_functions[i]) == n && !strncmp(start, xpath_functions[i], n))
                break;
        if (i == sizeof(xpath_functions) / sizeof(*xpath_functions)) {
            snprintf(msg, msglen, "unknown function '%.*s()'", (int)(n < 60 ? n : 60), start);
            return 1;
        }
    }
    if (depth != 0) {
        snprintf(msg, msglen, "unbalanced parentheses");
        return 1;
    }
    return 0;
}

