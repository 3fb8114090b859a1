/* css.c - compiles CSS selectors to XPath 1.0 (see css.h and docs/internals/css.md).
 *
 * The extraction rules let users pick fields with CSS, and libxml2 evaluates only XPath, so the
 * rules parser calls scr_css_to_xpath() once per selector when a run starts; nothing here runs
 * per page.
 *
 * Supported subset, exactly (anything else is refused with "column N: ..."):
 *   E  *                    type selector (matched lower-case), universal selector
 *   #id  .class             id; class as a whitespace-separated token
 *   [a] [a=v] [a~=v] [a^=v] [a$=v] [a*=v] [a|=v]
 *                           attribute tests; v quoted ('..' or "..") or bare (name characters)
 *   A B  A > B  A + B  A ~ B
 *                           descendant, child, next-sibling, subsequent-sibling combinators
 *   :first-child :last-child :only-child :first-of-type :last-of-type
 *   :nth-child(an+b | odd | even)
 *   :not(compound)          no combinators or pseudo-elements inside; nesting bounded
 *   ::text  ::attr(name)    at the very end: the text-node children / the attribute node
 *   S1, S2                  a group, joined with '|'
 * CSS escapes ("\31 ", "\:") are decoded in names and strings.  Names of elements and
 * attributes are lower-cased (ASCII, as libxml2's HTML parser does); ids, classes and
 * attribute values are case-sensitive.  Not supported: namespaces, attribute flags ([a=v i]),
 * comments, other pseudo-classes and pseudo-elements, a leading combinator.
 *
 * Invariants:
 *  - A recursive-descent parser over the bytes writes XPath text directly; there is no tree.
 *    Each compound selector becomes one location step: a name test and one predicate per
 *    simple selector, in source order.  No predicate is positional (sibling positions are
 *    counted with count(preceding-sibling::*)), so predicates commute with each other and
 *    with '//'.
 *  - Nothing from the input is pasted into the output raw: values go through put_literal()
 *    (always a well-formed XPath string literal, concat() when both quote kinds occur) and
 *    names through set_type()/put_attr_ref() (a plain NCName, else a name() comparison).  So no
 *    input can inject XPath, and every successful result compiles with xmlXPathCompile().
 *  - Input is untrusted: at most SCR_CSS_MAX_LEN bytes of valid UTF-8 that are XML characters,
 *    :not() nested at most SCR_CSS_MAX_DEPTH deep; the output is a bounded multiple of the
 *    input.  Errors are reported once, at the first problem, and leave no output.
 */
#include "parsers/css.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/error.h"
#include "parsers/css_lex.h"

/* The 1-based position of an element among its element siblings, minus one. */
#define PRECEDING "count(preceding-sibling::*)"
/* Largest number accepted in :nth-child(): 9 digits keeps all arithmetic far from overflow. */
#define NTH_MAX_DIGITS 9

/* One compound selector ("p.a:first-child"), translated. */
struct css_compound {
    struct scr_buf test;   /* the XPath name test: "p" or "*" */
    struct scr_buf sib;    /* test for siblings of the same type ("p", "*[name() = 'x']");
                            * empty when the compound names no type */
    struct scr_buf preds;  /* "[...]" per simple selector */
    size_t npreds;
    struct scr_buf pseudo; /* "/text()" or "/@href"; empty when there is no pseudo-element */
    const char *pseudo_at; /* where the pseudo-element started, for messages */
};

/* ---- output ---------------------------------------------------------------------------- */

/* Writes s as an XPath 1.0 string literal.  XPath has no escapes: a value holding both quote
 * kinds is split into pieces joined with concat(). */
static int put_literal(struct scr_buf *b, const char *s, size_t n)
{
    size_t i, j;
    int rc;

    if (!memchr(s, '\'', n))
        return scr_buf_printf(b, "'%.*s'", (int)n, s);
    if (!memchr(s, '"', n))
        return scr_buf_printf(b, "\"%.*s\"", (int)n, s);
    rc = scr_buf_puts(b, "concat(");
    for (i = 0; i < n && !rc; i = j) {
        j = i;
        if (s[i] == '\'') {
            while (j < n && s[j] == '\'')
                j++;
            rc = scr_buf_printf(b, "%s\"%.*s\"", i ? ", " : "", (int)(j - i), s + i);
        } else {
            while (j < n && s[j] != '\'')
                j++;
            rc = scr_buf_printf(b, "%s'%.*s'", i ? ", " : "", (int)(j - i), s + i);
        }
    }
    return rc ? rc : scr_buf_putc(b, ')');
}

/* Adds one predicate "[...]" to the compound. */
static int add_pred(struct css_compound *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_pred(struct css_compound *c, const char *fmt, ...)
{
    va_list ap;
    int rc;

    rc = scr_buf_putc(&c->preds, '[');
    if (rc)
        return rc;
    va_start(ap, fmt);
    rc = scr_buf_vprintf(&c->preds, fmt, ap);
    va_end(ap);
    if (rc)
        return rc;
    c->npreds++;
    return scr_buf_putc(&c->preds, ']');
}

/* Writes the XPath for attribute `name` (lower-case): "@href", or "@*[name() = '@click']" for
 * a name that is not an NCName. */
static int put_attr_ref(struct scr_buf *b, const char *name)
{
    int rc;

    if (scr_css_is_plain_name(name))
        return scr_buf_printf(b, "@%s", name);
    rc = scr_buf_puts(b, "@*[name() = ");
    if (!rc)
        rc = put_literal(b, name, strlen(name));
    return rc ? rc : scr_buf_putc(b, ']');
}

/* Records the compound's type from a lower-case element name. */
static int set_type(struct css_compound *c, const char *name)
{
    struct scr_buf lit;
    int rc;

    scr_buf_init(&lit);
    if (scr_css_is_plain_name(name)) {
        rc = scr_buf_puts(&c->test, name);
        if (!rc)
            rc = scr_buf_puts(&c->sib, name);
        goto out;
    }
    rc = put_literal(&lit, name, strlen(name));
    if (!rc)
        rc = scr_buf_putc(&c->test, '*');
    if (!rc)
        rc = scr_buf_printf(&c->sib, "*[name() = %s]", lit.data);
    if (!rc)
        rc = add_pred(c, "name() = %s", lit.data);
out:
    scr_buf_release(&lit);
    return rc;
}

static void compound_init(struct css_compound *c)
{
    scr_buf_init(&c->test);
    scr_buf_init(&c->sib);
    scr_buf_init(&c->preds);
    scr_buf_init(&c->pseudo);
    c->npreds = 0;
    c->pseudo_at = NULL;
}

static void compound_release(struct css_compound *c)
{
    scr_buf_release(&c->test);
    scr_buf_release(&c->sib);
    scr_buf_release(&c->preds);
    scr_buf_release(&c->pseudo);
    compound_init(c);
}

/* ---- simple selectors ------------------------------------------------------------------ */

static int parse_compound(struct css_parser *ps, struct css_compound *c, const char *outer_sib,
                          int depth);

/* '#' name.  Lenient: a name may start with a digit ("#1a"), as ids often do in the wild. */
static int parse_id(struct css_parser *ps, struct css_compound *c)
{
    struct scr_buf v, lit;
    const char *at = ps->p++;
    int rc;

    scr_buf_init(&v);
    scr_buf_init(&lit);
    rc = scr_css_read_name(ps, &v);
    if (rc)
        goto out;
    if (v.len == 0) {
        rc = scr_css_fail(ps, at + 1, "expected a name after '#'");
        goto out;
    }
    rc = put_literal(&lit, v.data, v.len);
    if (!rc)
        rc = add_pred(c, "@id = %s", lit.data);
out:
    scr_buf_release(&v);
    scr_buf_release(&lit);
    return rc;
}

/* Whitespace as XPath's normalize-space() sees it. */
static int has_xml_space(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
            return 1;
    return 0;
}

/* The token test shared by .class and [a~=v]: v must be one of the space-separated words of
 * the attribute.  A v that is empty or holds whitespace is no word, so it matches nothing. */
static int add_token_pred(struct css_compound *c, const char *ref, const char *v, size_t n)
{
    struct scr_buf word, lit;
    int rc;

    if (n == 0 || has_xml_space(v, n))
        return add_pred(c, "false()");
    scr_buf_init(&word);
    scr_buf_init(&lit);
    rc = scr_buf_printf(&word, " %.*s ", (int)n, v);
    if (!rc)
        rc = put_literal(&lit, word.data, word.len);
    if (!rc)
        rc = add_pred(c, "contains(concat(' ', normalize-space(%s), ' '), %s)", ref, lit.data);
    scr_buf_release(&word);
    scr_buf_release(&lit);
    return rc;
}

/* '.' ident */
static int parse_class(struct css_parser *ps, struct css_compound *c)
{
    struct scr_buf v;
    const char *at = ps->p++;
    int rc;

    scr_buf_init(&v);
    rc = scr_css_read_ident(ps, &v);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = scr_css_fail(ps, at + 1, "expected a class name after '.'");
        goto out;
    }
    rc = add_token_pred(c, "@class", v.data, v.len);
out:
    scr_buf_release(&v);
    return rc;
}

/* Writes the predicate for [ref OP v] (OP one of "= ~ ^ $ * |"). */
static int add_attr_pred(struct css_compound *c, const char *ref, char op, const char *v,
                         size_t n)
{
    struct scr_buf lit, dash, dashlit;
    size_t chars = scr_css_utf8_count(v, n);
    int rc;

    if (op == '~')
        return add_token_pred(c, ref, v, n);
    /* An empty prefix, suffix or substring matches nothing (Selectors level 3). */
    if (n == 0 && (op == '^' || op == '$' || op == '*'))
        return add_pred(c, "false()");
    scr_buf_init(&lit);
    scr_buf_init(&dash);
    scr_buf_init(&dashlit);
    rc = put_literal(&lit, v, n);
    if (rc)
        goto out;
    switch (op) {
    case '=':
        rc = add_pred(c, "%s = %s", ref, lit.data);
        break;
    case '^':
        rc = add_pred(c, "starts-with(%s, %s)", ref, lit.data);
        break;
    case '*':
        rc = add_pred(c, "contains(%s, %s)", ref, lit.data);
        break;
    case '$':
        /* XPath 1.0 has no ends-with(): compare the last `chars` characters. */
        if (chars == 1)
            rc = add_pred(c, "substring(%s, string-length(%s)) = %s", ref, ref, lit.data);
        else
            rc = add_pred(c, "substring(%s, string-length(%s) - %zu) = %s", ref, ref,
                          chars - 1, lit.data);
        break;
    default: /* '|': the value itself, or the value followed by '-' */
        rc = scr_buf_printf(&dash, "%.*s-", (int)n, v);
        if (!rc)
            rc = put_literal(&dashlit, dash.data, dash.len);
        if (!rc)
            rc = add_pred(c, "%s = %s or starts-with(%s, %s)", ref, lit.data, ref,
                          dashlit.data);
        break;
    }
out:
    scr_buf_release(&lit);
    scr_buf_release(&dash);
    scr_buf_release(&dashlit);
    return rc;
}

/* '[' name ( op value )? ']' */
static int parse_attrib(struct css_parser *ps, struct css_compound *c)
{
    struct scr_buf name, ref, v;
    const char *at;
    char op = 0;
    int rc;

    scr_buf_init(&name);
    scr_buf_init(&ref);
    scr_buf_init(&v);
    ps->p++;
    scr_css_skip_ws(ps);
    if (*ps->p == '|' || (ps->p[0] == '*' && ps->p[1] == '|')) {
        rc = scr_css_fail(ps, ps->p, "namespaces are not supported");
        goto out;
    }
    rc = scr_css_read_ident(ps, &name);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = scr_css_fail_unexpected(ps, ps->p, "expected an attribute name");
        goto out;
    }
    if (ps->p[0] == '|' && ps->p[1] != '=') {
        rc = scr_css_fail(ps, ps->p, "namespaces are not supported");
        goto out;
    }
    scr_css_ascii_lower(name.data);
    rc = put_attr_ref(&ref, name.data);
    if (rc)
        goto out;
    scr_css_skip_ws(ps);
    if (*ps->p == ']') {
        ps->p++;
        rc = add_pred(c, "%s", ref.data);
        goto out;
    }
    if (*ps->p == '=') {
        op = '=';
        ps->p++;
    } else if (*ps->p && strchr("~^$*|", *ps->p) && ps->p[1] == '=') {
        op = *ps->p;
        ps->p += 2;
    } else {
        rc = scr_css_fail(ps, ps->p, "expected ']'");
        goto out;
    }
    scr_css_skip_ws(ps);
    at = ps->p;
    if (*ps->p == '"' || *ps->p == '\'') {
        rc = scr_css_read_string(ps, &v);
    } else {
        rc = scr_buf_reserve(&v, 0);
        if (!rc)
            rc = scr_css_read_name(ps, &v); /* lenient: any name characters, so [width=100] works */
        if (!rc && ps->p == at)
            rc = scr_css_fail_unexpected(ps, at, "expected a value");
    }
    if (rc)
        goto out;
    scr_css_skip_ws(ps);
    if (scr_css_match_word(ps->p, "i") || scr_css_match_word(ps->p, "s")) {
        rc = scr_css_fail(ps, ps->p, "attribute selector flags are not supported");
        goto out;
    }
    if (*ps->p != ']') {
        rc = scr_css_fail(ps, ps->p, "expected ']'");
        goto out;
    }
    ps->p++;
    rc = add_attr_pred(c, ref.data, op, v.data, v.len);
out:
    scr_buf_release(&name);
    scr_buf_release(&ref);
    scr_buf_release(&v);
    return rc;
}

/* Reads an unsigned number of at most NTH_MAX_DIGITS digits; returns 1 if there was one. */
static int read_number(struct css_parser *ps, long long *out, int *rc)
{
    const char *start = ps->p;
    long long v = 0;

    *rc = SCR_OK;
    while (scr_css_is_digit((unsigned char)*ps->p)) {
        if (ps->p - start == NTH_MAX_DIGITS) {
            *rc = scr_css_fail(ps, start, "number too large");
            return 0;
        }
        v = v * 10 + (*ps->p++ - '0');
    }
    *out = v;
    return ps->p != start;
}

/* The argument of :nth-child(), after '(' and whitespace: an+b, odd or even, then ')'. */
static int parse_nth(struct css_parser *ps, long long *a, long long *b)
{
    const char *start = ps->p;
    long long num = 0, sign = 1;
    int rc, digits;

    if (scr_css_match_word(ps->p, "odd")) {
        *a = 2, *b = 1;
        ps->p += 3;
    } else if (scr_css_match_word(ps->p, "even")) {
        *a = 2, *b = 0;
        ps->p += 4;
    } else {
        if (*ps->p == '+' || *ps->p == '-')
            sign = *ps->p++ == '-' ? -1 : 1;
        digits = read_number(ps, &num, &rc);
        if (rc)
            return rc;
        if (*ps->p == 'n' || *ps->p == 'N') {
            ps->p++;
            *a = sign * (digits ? num : 1);
            *b = 0;
            scr_css_skip_ws(ps);
            if (*ps->p == '+' || *ps->p == '-') {
                sign = *ps->p++ == '-' ? -1 : 1;
                scr_css_skip_ws(ps);
                if (!read_number(ps, &num, &rc))
                    return rc ? rc : scr_css_fail_unexpected(ps, ps->p, "expected a number");
                *b = sign * num;
            }
        } else if (digits) {
            *a = 0, *b = sign * num;
        } else {
            return scr_css_fail(ps, start, "expected an+b, 'odd' or 'even' in ':nth-child()'");
        }
    }
    scr_css_skip_ws(ps);
    if (*ps->p != ')')
        return scr_css_fail_unexpected(ps, ps->p, "expected ')'");
    ps->p++;
    return SCR_OK;
}

/* The position p = PRECEDING + 1 must equal a*n + b for some n >= 0.  With k = PRECEDING and
 * c = b - 1 that is: a = 0: k = c; a > 0: k >= c and k = c (mod a); a < 0: k <= c and
 * k = c (mod -a).  k is never negative, so XPath's truncating mod is a true remainder. */
static int add_nth_pred(struct css_compound *c, long long a, long long b)
{
    long long k = b - 1, m;

    if (a == 0)
        return k < 0 ? add_pred(c, "false()") : add_pred(c, PRECEDING " = %lld", k);
    if (a < 0) {
        if (k < 0)
            return add_pred(c, "false()");
        if (a == -1)
            return add_pred(c, PRECEDING " <= %lld", k);
        return add_pred(c, PRECEDING " <= %lld and " PRECEDING " mod %lld = %lld", k, -a,
                        k % -a);
    }
    m = ((k % a) + a) % a;
    if (k > 0 && a == 1)
        return add_pred(c, PRECEDING " >= %lld", k);
    if (k > 0)
        return add_pred(c, PRECEDING " >= %lld and " PRECEDING " mod %lld = %lld", k, a, m);
    if (a == 1)
        return SCR_OK; /* every position: no predicate */
    return add_pred(c, PRECEDING " mod %lld = %lld", a, m);
}

/* ':not(' compound ')'.  outer_sib is the enclosing compound's sibling test (may be empty). */
static int parse_not(struct css_parser *ps, struct css_compound *c, const char *outer_sib,
                     int depth)
{
    struct css_compound in;
    const char *at = ps->p;
    const char *body;
    int rc, ws;

    compound_init(&in);
    if (depth >= SCR_CSS_MAX_DEPTH) {
        rc = scr_css_fail(ps, at, "':not()' is nested too deeply (at most %d levels)", SCR_CSS_MAX_DEPTH);
        goto out;
    }
    ps->p++; /* '(' */
    scr_css_skip_ws(ps);
    rc = parse_compound(ps, &in, c->sib.len ? c->sib.data : outer_sib, depth + 1);
    if (rc)
        goto out;
    if (in.pseudo.len) {
        rc = scr_css_fail(ps, in.pseudo_at, "pseudo-elements are not allowed inside ':not()'");
        goto out;
    }
    ws = scr_css_skip_ws(ps);
    if (*ps->p == ',') {
        rc = scr_css_fail(ps, ps->p, "':not()' takes one compound selector, not a list");
        goto out;
    }
    if ((*ps->p && strchr(">+~", *ps->p)) || (ws && *ps->p && *ps->p != ')')) {
        rc = scr_css_fail(ps, ps->p, "':not()' takes one compound selector, without combinators");
        goto out;
    }
    if (*ps->p != ')') {
        rc = scr_css_fail_unexpected(ps, ps->p, "expected ')'");
        goto out;
    }
    ps->p++;
    if (strcmp(in.test.data, "*") != 0)
        rc = add_pred(c, "not(self::%s%s)", in.test.data, in.preds.len ? in.preds.data : "");
    else if (in.npreds == 0)
        rc = add_pred(c, "not(self::*)");
    else if (in.npreds == 1) { /* "[X]": drop the brackets */
        body = in.preds.data + 1;
        rc = add_pred(c, "not(%.*s)", (int)(in.preds.len - 2), body);
    } else {
        rc = add_pred(c, "not(self::*%s)", in.preds.data);
    }
out:
    compound_release(&in);
    return rc;
}

/* ':' name, or ':' name '(' ... ')'. */
static int parse_pseudo_class(struct css_parser *ps, struct css_compound *c,
                              const char *outer_sib, int depth)
{
    /* pred is the predicate; or, for the -of-type ones (pred NULL), the sibling axis
     * that must hold no element of the same type. */
    static const struct {
        const char *name, *pred, *axis;
    } plain[] = {
        {"first-child", "not(preceding-sibling::*)", NULL},
        {"last-child", "not(following-sibling::*)", NULL},
        {"only-child", "not(preceding-sibling::*) and not(following-sibling::*)", NULL},
        {"first-of-type", NULL, "preceding"},
        {"last-of-type", NULL, "following"},
    };
    struct scr_buf name;
    const char *at = ps->p++;
    const char *sib = c->sib.len ? c->sib.data : outer_sib;
    long long a = 0, b = 0;
    size_t i;
    int rc;

    scr_buf_init(&name);
    rc = scr_css_read_ident(ps, &name);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = scr_css_fail_unexpected(ps, ps->p, "expected a pseudo-class name after ':'");
        goto out;
    }
    scr_css_ascii_lower(name.data);
    if (*ps->p == '(') {
        if (strcmp(name.data, "not") == 0) {
            rc = parse_not(ps, c, outer_sib, depth);
        } else if (strcmp(name.data, "nth-child") == 0) {
            ps->p++;
            scr_css_skip_ws(ps);
            rc = parse_nth(ps, &a, &b);
            if (!rc)
                rc = add_nth_pred(c, a, b);
        } else {
            rc = scr_css_fail(ps, at, "unsupported pseudo-class ':%.64s()'", name.data);
        }
        goto out;
    }
    for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        if (strcmp(name.data, plain[i].name) != 0)
            continue;
        if (plain[i].pred)
            rc = add_pred(c, "%s", plain[i].pred);
        else if (!sib || !*sib)
            rc = scr_css_fail(ps, at, "':%s' needs an element name, as in 'p:%s'", plain[i].name,
                      plain[i].name);
        else
            rc = add_pred(c, "not(%s-sibling::%s)", plain[i].axis, sib);
        goto out;
    }
    if (strcmp(name.data, "not") == 0 || strcmp(name.data, "nth-child") == 0)
        rc = scr_css_fail(ps, ps->p, "expected '(' after ':%s'", name.data);
    else
        rc = scr_css_fail(ps, at, "unsupported pseudo-class ':%.64s'", name.data);
out:
    scr_buf_release(&name);
    return rc;
}

/* '::text' or '::attr(' name ')'. */
static int parse_pseudo_element(struct css_parser *ps, struct css_compound *c)
{
    struct scr_buf name;
    const char *at = ps->p;
    int rc;

    scr_buf_init(&name);
    c->pseudo_at = at;
    ps->p += 2;
    rc = scr_css_read_ident(ps, &name);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = scr_css_fail_unexpected(ps, ps->p, "expected a pseudo-element name after '::'");
        goto out;
    }
    scr_css_ascii_lower(name.data);
    if (strcmp(name.data, "text") == 0 && *ps->p != '(') {
        rc = scr_buf_puts(&c->pseudo, "/text()");
        goto out;
    }
    if (strcmp(name.data, "attr") != 0) {
        rc = scr_css_fail(ps, at, "unsupported pseudo-element '::%.64s%s'", name.data,
                  *ps->p == '(' ? "()" : "");
        goto out;
    }
    if (*ps->p != '(') {
        rc = scr_css_fail(ps, ps->p, "expected '(' after '::attr'");
        goto out;
    }
    ps->p++;
    scr_css_skip_ws(ps);
    rc = scr_css_read_ident(ps, &name);
    if (rc < 0)
        goto out;
    if (rc == 0) {
        rc = scr_css_fail_unexpected(ps, ps->p, "expected an attribute name");
        goto out;
    }
    scr_css_skip_ws(ps);
    if (*ps->p != ')') {
        rc = scr_css_fail_unexpected(ps, ps->p, "expected ')'");
        goto out;
    }
    ps->p++;
    scr_css_ascii_lower(name.data);
    rc = scr_buf_putc(&c->pseudo, '/');
    if (!rc)
        rc = put_attr_ref(&c->pseudo, name.data);
out:
    scr_buf_release(&name);
    return rc;
}

/* One compound selector: an optional type, then simple selectors, then an optional
 * pseudo-element, which ends it.  c must be freshly initialized.  outer_sib: inside :not(),
 * the enclosing element's sibling test, so "li:not(:first-of-type)" knows its type. */
static int parse_compound(struct css_parser *ps, struct css_compound *c, const char *outer_sib,
                          int depth)
{
    struct scr_buf name;
    const char *start = ps->p;
    int rc = SCR_OK;

    scr_buf_init(&name);
    if (*ps->p == '|' || (ps->p[0] == '*' && ps->p[1] == '|')) {
        rc = scr_css_fail(ps, ps->p, "namespaces are not supported");
        goto out;
    }
    if (*ps->p == '*') {
        ps->p++;
        rc = scr_buf_putc(&c->test, '*');
    } else {
        rc = scr_css_read_ident(ps, &name);
        if (rc == 1) {
            scr_css_ascii_lower(name.data);
            rc = set_type(c, name.data);
        }
    }
    if (rc)
        goto out;
    if (*ps->p == '|') {
        rc = scr_css_fail(ps, ps->p, "namespaces are not supported");
        goto out;
    }
    if (c->test.len == 0) {
        rc = scr_buf_putc(&c->test, '*');
        if (rc)
            goto out;
    }
    for (;;) {
        switch (*ps->p) {
        case '#':
            rc = parse_id(ps, c);
            break;
        case '.':
            rc = parse_class(ps, c);
            break;
        case '[':
            rc = parse_attrib(ps, c);
            break;
        case ':':
            if (ps->p[1] == ':') {
                rc = parse_pseudo_element(ps, c);
                goto out; /* a pseudo-element ends the compound */
            }
            rc = parse_pseudo_class(ps, c, outer_sib, depth);
            break;
        default:
            if (ps->p == start)
                rc = scr_css_fail_unexpected(ps, ps->p, "expected a selector");
            goto out;
        }
        if (rc)
            goto out;
    }
out:
    scr_buf_release(&name);
    return rc;
}

/* ---- selectors and groups -------------------------------------------------------------- */

/* Appends the step for compound c reached through combinator comb (0 for the first). */
static int put_step(struct scr_buf *out, const struct css_compound *c, char comb, int relative)
{
    const char *preds = c->preds.len ? c->preds.data : "";
    int star = strcmp(c->test.data, "*") == 0;

    switch (comb) {
    case 0:
        return scr_buf_printf(out, "%s%s%s", relative ? ".//" : "//", c->test.data, preds);
    case '>':
        return scr_buf_printf(out, "/%s%s", c->test.data, preds);
    case '~':
        return scr_buf_printf(out, "/following-sibling::%s%s", c->test.data, preds);
    case '+':
        if (star)
            return scr_buf_printf(out, "/following-sibling::*[1]%s", preds);
        return scr_buf_printf(out, "/following-sibling::*[1]/self::%s%s", c->test.data, preds);
    default: /* descendant */
        return scr_buf_printf(out, "//%s%s", c->test.data, preds);
    }
}

/* One selector of a group: compounds joined by combinators.  Stops at ',' or the end. */
static int parse_selector(struct css_parser *ps, struct scr_buf *out, int relative)
{
    struct css_compound c;
    char comb = 0;
    int rc, ws;

    compound_init(&c);
    for (;;) {
        compound_release(&c);
        rc = parse_compound(ps, &c, NULL, 0);
        if (rc)
            goto out;
        rc = put_step(out, &c, comb, relative);
        if (!rc)
            rc = scr_buf_puts(out, c.pseudo.len ? c.pseudo.data : "");
        if (rc)
            goto out;
        ws = scr_css_skip_ws(ps);
        if (*ps->p == '\0' || *ps->p == ',')
            goto out;
        if (c.pseudo.len) {
            rc = scr_css_fail(ps, ps->p, "a pseudo-element must end the selector ('%.*s' follows it)",
                      (int)scr_css_utf8_len(ps->p), ps->p);
            goto out;
        }
        if (*ps->p == '>' || *ps->p == '+' || *ps->p == '~') {
            comb = *ps->p++;
            scr_css_skip_ws(ps);
        } else if (ws) {
            comb = ' ';
        } else {
            rc = scr_css_fail(ps, ps->p, "unexpected '%.*s'", (int)scr_css_utf8_len(ps->p), ps->p);
            goto out;
        }
    }
out:
    compound_release(&c);
    return rc;
}

int scr_css_to_xpath(const char *css, int relative, char **xpath_out, char *err, size_t errlen)
{
    struct css_parser ps;
    struct scr_buf out;
    int rc;

    scr_buf_init(&out);
    if (err && errlen)
        err[0] = '\0';
    if (xpath_out)
        *xpath_out = NULL;
    if (!css || !xpath_out) {
        if (err && errlen)
            snprintf(err, errlen, "no selector");
        return SCR_EINVAL;
    }
    if (strnlen(css, SCR_CSS_MAX_LEN + 1) > SCR_CSS_MAX_LEN) {
        if (err && errlen)
            snprintf(err, errlen, "selector is longer than %d bytes", SCR_CSS_MAX_LEN);
        return SCR_ETOOBIG;
    }
    ps.src = ps.p = css;
    ps.err = err;
    ps.errlen = errlen;
    rc = scr_css_check_text(&ps);
    if (rc)
        goto out;
    scr_css_skip_ws(&ps);
    if (*ps.p == '\0') {
        rc = scr_css_fail(&ps, ps.p, "empty selector");
        goto out;
    }
    for (;;) {
        rc = parse_selector(&ps, &out, relative != 0);
        if (rc || *ps.p == '\0')
            break;
        ps.p++; /* ',' */
        scr_css_skip_ws(&ps);
        rc = scr_buf_puts(&out, " | ");
        if (rc)
            break;
    }
    if (rc)
        goto out;
    *xpath_out = scr_buf_detach(&out, NULL); /* never NULL */
out:
    scr_buf_release(&out);
    return rc;
}
