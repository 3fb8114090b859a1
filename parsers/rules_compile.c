/* rules_compile.c - reads a rules file and compiles it (see rules.h; the language is
 * docs/rules.md).
 *
 * The file is read line by line.  A line's indentation (spaces only) says where it belongs:
 *   column 0            site NAME
 *   the site's body     match REGEX | record NAME [each css|xpath SELECTOR]
 *   the record's body   FIELD css|xpath|regex SELECTOR {OPTION}
 * The first indented line of a site fixes that site's body indentation, the first field of a
 * record fixes its fields' indentation; any other depth is an error.  Blank lines and lines
 * whose first non-blank character is '#' are skipped (a '#' elsewhere is data: CSS ids and
 * regexes need it).  Arguments are bare words or quoted: "..." (\" and \\ are escapes, any
 * other backslash is kept, so regexes read as written) or '...' (no escapes).
 *
 * Everything that can be compiled is compiled here, once per run: URL and field regexes
 * (PCRE2, JIT when the platform has it), XPath (libxml2, plus rules_xpath.c's lint for what
 * libxml2 only finds out when it evaluates: unknown functions, variables, namespace
 * prefixes), CSS (css.c, then XPath).  The first mistake stops the compile with
 * "NAME:LINE: what is wrong" and frees everything.
 *
 * Invariants of the result (relied on by rules_eval.c): every site has at least one match
 * regex and one record, every record at least one field; names are unique where they must be
 * and are plain ASCII ([A-Za-z0-9_][A-Za-z0-9_.-]*); a field regex has a capture group;
 * `number` is only ever the last step.  Called by the rules parser's setup (rules.c) and the
 * tests; calls rules_value.c (a number field's default) and rules_xpath.c, never the
 * evaluator.
 */
#include "parsers/rules.h"

#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>
#include <libxml/xpathInternals.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "common/sha256.h"
#include "parsers/css.h"
#include "parsers/rules_value.h"
#include "parsers/rules_xpath.h"

/* Longest site, record or field name. */
#define NAME_MAX_LEN 100
/* How much of a selector a message quotes. */
#define SHOW "%.80s"

#ifdef PCRE2_MATCH_INVALID_UTF
/* Pages are not always valid UTF-8: match them anyway (PCRE2 10.34 and later).  PCRE2_UCP
 * makes \d \s \w, their negations and the POSIX classes Unicode properties: without it they
 * are ASCII-only, and PCRE2 10.42's JIT then matches no non-ASCII character with \D, \S or
 * \W at all (the interpreter does: `^(\D+)` on `£756.06` gave nothing with the JIT).  So \d
 * takes any decimal digit (Nd); PCRE2 10.42 cannot keep it ASCII under UCP, and one meaning on
 * every node of a mixed cluster beats a per-version one.  docs/rules.md, "regex". */
#define REGEX_OPTIONS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_UCP)
#else
#define REGEX_OPTIONS 0 /* bytes: a non-ASCII character is several units to `.` */
#endif

struct token {
    char *s; /* unquoted and unescaped; NUL-terminated */
};

struct compiler {
    const char *name; /* the file's name, for messages */
    char *err;
    size_t errlen;
    int line;
    struct scr_rules *r;
    struct token *tok; /* the current line's words */
    size_t ntok, captok;
    long site_indent;  /* the open site's body indentation; -1 until its first line */
    long field_indent; /* the open record's field indentation; -1 until its first field */
    struct scr_rules_site *site;  /* the open site, or NULL */
    struct scr_rules_record *rec; /* the open record, or NULL */
    xmlXPathContextPtr xpc;       /* compiles XPath with errors routed to xpath_error() */
    char xperr[256];              /* libxml2's message for the last XPath error */
};

/* The words a field line accepts after its selector, for the "unknown transform" message. */
#define KNOWN_OPTIONS                                                                       \
    "known: trim, collapse, lower, upper, url, number, regex RE; options: text, html, "   \
    "attr NAME, all, required, default VALUE"

/* ---- messages ---------------------------------------------------------------------------- */

static int fail_at(struct compiler *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes "NAME:LINE: message" into c->err; returns SCR_EPARSE. */
static int fail_at(struct compiler *c, int line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!c->err || !c->errlen)
        return SCR_EPARSE;
    n = snprintf(c->err, c->errlen, "%s:%d: ", c->name, line);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return SCR_EPARSE;
}

#define fail(c, ...) fail_at((c), (c)->line, __VA_ARGS__)

/* ---- freeing ----------------------------------------------------------------------------- */

static void free_field(struct scr_rules_field *f)
{
    free(f->name);
    free(f->selector);
    if (f->xp)
        xmlXPathFreeCompExpr(f->xp);
    pcre2_code_free(f->re);
    free(f->attr);
    for (size_t i = 0; i < f->nsteps; i++)
        pcre2_code_free(f->steps[i].re);
    free(f->steps);
    free(f->def);
    json_decref(f->def_json);
}

void scr_rules_free(struct scr_rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nsites; i++) {
        struct scr_rules_site *s = &r->sites[i];
        free(s->name);
        for (size_t j = 0; j < s->nmatch; j++)
            pcre2_code_free(s->match[j]);
        free(s->match);
        for (size_t j = 0; j < s->nrecords; j++) {
            struct scr_rules_record *rec = &s->records[j];
            free(rec->name);
            if (rec->each)
                xmlXPathFreeCompExpr(rec->each);
            for (size_t k = 0; k < rec->nfields; k++)
                free_field(&rec->fields[k]);
            free(rec->fields);
        }
        free(s->records);
    }
    free(r->sites);
    if (r->c_locale)
        freelocale((locale_t)r->c_locale);
    free(r);
}

/* ---- small helpers ----------------------------------------------------------------------- */

/* Appends one zeroed element to the array arr of n elements and capacity cap (all three
 * lvalues, evaluated more than once); the new element is arr[n - 1] afterwards. */
#define APPEND_ZEROED(arr, n, cap)                                                          \
    do {                                                                                    \
        SCR_GROW((arr), (cap), (n) + 1, 4);                                                 \
        memset(&(arr)[(n)], 0, sizeof(*(arr)));                                             \
        (n)++;                                                                              \
    } while (0)

static int is_name_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
}

/* Checks a site, record or field name; 0 when it is fine. */
static int check_name(struct compiler *c, const char *what, const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > NAME_MAX_LEN || name[0] == '-' || name[0] == '.')
        goto bad;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char((unsigned char)name[i]))
            goto bad;
    return SCR_OK;
bad:
    return fail(c,
                "invalid %s name '" SHOW "': use letters, digits, '_', '-' and '.' (at most %d, "
                "not starting with '-' or '.')",
                what, name, NAME_MAX_LEN);
}

static int is_word(const struct token *t, const char *w)
{
    return strcmp(t->s, w) == 0;
}

/* ---- the lexer --------------------------------------------------------------------------- */

static void clear_tokens(struct compiler *c)
{
    for (size_t i = 0; i < c->ntok; i++)
        free(c->tok[i].s);
    c->ntok = 0;
}

static int push_token(struct compiler *c, struct scr_buf *b)
{
    struct token *t;

    SCR_GROW(c->tok, c->captok, c->ntok + 1, 8);
    t = &c->tok[c->ntok];
    t->s = scr_buf_detach(b, NULL);
    if (!t->s)
        return SCR_ENOMEM;
    c->ntok++;
    return SCR_OK;
}

/* Splits p[0..end) into words (see the top of the file for quoting); line is where the line
 * starts, for columns in messages. */
static int tokenize(struct compiler *c, const char *line, const char *p, const char *end)
{
    struct scr_buf b;
    int rc = SCR_OK;

    scr_buf_init(&b);
    clear_tokens(c);
    for (;;) {
        char q;

        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            break;
        scr_buf_reset(&b);
        q = *p;
        if (q == '"' || q == '\'') {
            const char *open = p++;
            for (;;) {
                if (p == end) {
                    rc = fail(c, "unterminated string: the %c opened at column %ld is never "
                                 "closed",
                              q, (long)(open - line) + 1);
                    goto out;
                }
                if (*p == q) {
                    p++;
                    break;
                }
                if (q == '"' && *p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
                    p++; /* \" and \\ */
                if ((rc = scr_buf_putc(&b, *p++)) != SCR_OK)
                    goto out;
            }
            if (p < end && *p != ' ' && *p != '\t') {
                rc = fail(c, "expected a space after the closing %c", q);
                goto out;
            }
            if (!b.data && (rc = scr_buf_puts(&b, "")) != SCR_OK)
                goto out;
        } else {
            const char *w = p;
            while (p < end && *p != ' ' && *p != '\t')
                p++;
            if ((rc = scr_buf_append(&b, w, (size_t)(p - w))) != SCR_OK)
                goto out;
        }
        if ((rc = push_token(c, &b)) != SCR_OK)
            goto out;
    }
out:
    scr_buf_release(&b);
    return rc;
}

/* ---- compiling selectors ----------------------------------------------------------------- */

#if LIBXML_VERSION >= 21200
static void xpath_error(void *ctx, const xmlError *e)
#else
static void xpath_error(void *ctx, xmlErrorPtr e)
#endif
{
    struct compiler *c = ctx;

    if (e && !c->xperr[0]) /* keep the first message */
        scr_rules_xpath_message(e, c->xperr, sizeof(c->xperr));
}

/* Compiles the XPath text xpath; shown is what the user wrote (for messages), check says
 * whether to check the function names (not needed for css.c's output). */
static int compile_xpath(struct compiler *c, const char *shown, const char *xpath, int check,
                         xmlXPathCompExprPtr *out)
{
    char bad[160];

    c->xperr[0] = '\0';
    *out = xmlXPathCtxtCompile(c->xpc, (const xmlChar *)xpath);
    if (!*out)
        return fail(c, "bad xpath '" SHOW "': %s", shown,
                    c->xperr[0] ? c->xperr : "it does not compile");
    if (check && scr_rules_xpath_lint(xpath, bad, sizeof(bad))) {
        xmlXPathFreeCompExpr(*out);
        *out = NULL;
        return fail(c, "bad xpath '" SHOW "': %s", shown, bad);
    }
    return SCR_OK;
}

/* Compiles a selector given as `kind arg` (kind "css" or "xpath"); relative for the fields
 * of an `each` record. */
static int compile_selector(struct compiler *c, const char *kind, const char *arg,
                            int relative, xmlXPathCompExprPtr *out)
{
    char cerr[200], *xp = NULL;
    int rc;

    if (strcmp(kind, "xpath") == 0)
        return compile_xpath(c, arg, arg, 1, out);
    rc = scr_css_to_xpath(arg, relative, &xp, cerr, sizeof(cerr));
    if (rc == SCR_ENOMEM)
        return rc;
    if (rc)
        return fail(c, "bad css selector '" SHOW "': %s", arg,
                    rc == SCR_ETOOBIG ? "too long" : cerr);
    rc = compile_xpath(c, arg, xp, 0, out);
    free(xp);
    return rc;
}

/* Compiles a regex; with need_group it must have a capture group (its first is the value). */
static int compile_regex(struct compiler *c, const char *pattern, int need_group,
                         pcre2_code **out)
{
    PCRE2_UCHAR msg[256];
    PCRE2_SIZE off;
    uint32_t groups = 0;
    int code;

    *out = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, REGEX_OPTIONS, &code, &off,
                         NULL);
    if (!*out) {
        if (code == PCRE2_ERROR_NOMEMORY)
            return SCR_ENOMEM;
        pcre2_get_error_message(code, msg, sizeof(msg));
        return fail(c, "bad regex '" SHOW "': %s at offset %zu", pattern, (const char *)msg,
                    (size_t)off);
    }
    pcre2_pattern_info(*out, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (need_group && groups == 0) {
        pcre2_code_free(*out);
        *out = NULL;
        return fail(c,
                    "regex '" SHOW "' has no capture group: the value is what its first "
                    "(...) captures",
                    pattern);
    }
    /* Where the platform has no JIT this fails and pcre2_match() interprets: still correct. */
    (void)pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE);
    if (groups + 1 > c->r->max_pairs)
        c->r->max_pairs = groups + 1;
    return SCR_OK;
}

/* ---- statements -------------------------------------------------------------------------- */

static int close_record(struct compiler *c)
{
    struct scr_rules_record *rec = c->rec;

    c->rec = NULL;
    c->field_indent = -1;
    if (rec && rec->nfields == 0)
        return fail_at(c, rec->line, "record '%s' has no field", rec->name);
    return SCR_OK;
}

static int close_site(struct compiler *c)
{
    struct scr_rules_site *s = c->site;
    int rc = close_record(c);

    c->site = NULL;
    c->site_indent = -1;
    if (rc || !s)
        return rc;
    if (s->nmatch == 0)
        return fail_at(c, s->line, "site '%s' has no 'match' line", s->name);
    if (s->nrecords == 0)
        return fail_at(c, s->line, "site '%s' has no record", s->name);
    return SCR_OK;
}

/* site NAME */
static int site_line(struct compiler *c)
{
    struct scr_rules *r = c->r;
    struct scr_rules_site *s;
    int rc;

    if ((rc = close_site(c)) != SCR_OK)
        return rc;
    if (c->ntok < 2)
        return fail(c, "'site' needs a name");
    if (c->ntok > 2)
        return fail(c, "unexpected '" SHOW "' after the site name", c->tok[2].s);
    if ((rc = check_name(c, "site", c->tok[1].s)) != SCR_OK)
        return rc;
    for (size_t i = 0; i < r->nsites; i++)
        if (strcmp(r->sites[i].name, c->tok[1].s) == 0)
            return fail(c, "duplicate site '%s' (first on line %d)", c->tok[1].s,
                        r->sites[i].line);
    APPEND_ZEROED(r->sites, r->nsites, r->capsites);
    s = &r->sites[r->nsites - 1];
    s->line = c->line;
    s->name = c->tok[1].s;
    c->tok[1].s = NULL;
    c->site = s;
    return SCR_OK;
}

/* match REGEX */
static int match_line(struct compiler *c)
{
    struct scr_rules_site *s = c->site;
    pcre2_code *re;
    int rc;

    if (c->ntok < 2)
        return fail(c, "'match' needs a URL regex");
    if (c->ntok > 2)
        return fail(c, "unexpected '" SHOW "' after the regex (quote a regex that holds spaces)",
                    c->tok[2].s);
    if ((rc = compile_regex(c, c->tok[1].s, 0, &re)) != SCR_OK)
        return rc;
    SCR_GROW(s->match, s->capmatch, s->nmatch + 1, 4);
    s->match[s->nmatch++] = re;
    return SCR_OK;
}

/* record NAME [each css|xpath SELECTOR] */
static int record_line(struct compiler *c)
{
    struct scr_rules_site *s = c->site;
    struct scr_rules_record *rec;
    int rc;

    if (c->ntok < 2)
        return fail(c, "'record' needs a name");
    if ((rc = check_name(c, "record", c->tok[1].s)) != SCR_OK)
        return rc;
    for (size_t i = 0; i < s->nrecords; i++)
        if (strcmp(s->records[i].name, c->tok[1].s) == 0)
            return fail(c, "duplicate record '%s' in site '%s' (first on line %d)", c->tok[1].s,
                        s->name, s->records[i].line);
    if (c->ntok > 2) {
        if (!is_word(&c->tok[2], "each"))
            return fail(c, "unexpected '" SHOW "' after the record name (expected 'each')",
                        c->tok[2].s);
        if (c->ntok < 4)
            return fail(c, "'each' needs css or xpath and a selector");
        if (!is_word(&c->tok[3], "css") && !is_word(&c->tok[3], "xpath"))
            return fail(c, "'each' takes css or xpath, not '" SHOW "'", c->tok[3].s);
        if (c->ntok < 5)
            return fail(c, "'each %s' needs a selector", c->tok[3].s);
        if (c->ntok > 5)
            return fail(c, "unexpected '" SHOW "' after the selector (quote a selector that "
                           "holds spaces)",
                        c->tok[5].s);
    }
    APPEND_ZEROED(s->records, s->nrecords, s->caprecords);
    rec = &s->records[s->nrecords - 1];
    rec->line = c->line;
    rec->name = c->tok[1].s;
    c->tok[1].s = NULL;
    c->rec = rec;
    if (c->ntok > 2)
        return compile_selector(c, c->tok[3].s, c->tok[4].s, 0, &rec->each);
    return SCR_OK;
}

/* Appends a step to f; takes ownership of re (may be NULL). */
static void add_step(struct scr_rules_field *f, enum scr_rules_op op, pcre2_code *re)
{
    SCR_GROW(f->steps, f->capsteps, f->nsteps + 1, 4);
    f->steps[f->nsteps].op = op;
    f->steps[f->nsteps].re = re;
    f->nsteps++;
}

/* Reads the words after a field's selector, from c->tok[i] on, into f. */
static int field_options(struct compiler *c, struct scr_rules_field *f, size_t i)
{
    static const struct {
        const char *word;
        enum scr_rules_op op;
    } plain[] = {{"trim", SCR_RULES_OP_TRIM},   {"collapse", SCR_RULES_OP_COLLAPSE},
                 {"lower", SCR_RULES_OP_LOWER}, {"upper", SCR_RULES_OP_UPPER},
                 {"url", SCR_RULES_OP_URL},     {"number", SCR_RULES_OP_NUMBER}};
    int took = 0, rc;

    for (; i < c->ntok; i++) {
        const char *w = c->tok[i].s;
        size_t k;

        if (!strcmp(w, "text") || !strcmp(w, "html") || !strcmp(w, "attr")) {
            if (f->source == SCR_RULES_SRC_REGEX)
                return fail(c, "'%s' needs a css or xpath selector (a regex gives text)", w);
            if (took)
                return fail(c, "only one of 'text', 'html' and 'attr' may be given");
            if (f->nsteps)
                return fail(c, "'%s' must come before the transforms", w);
            took = 1;
            if (!strcmp(w, "html")) {
                f->take = SCR_RULES_TAKE_HTML;
            } else if (!strcmp(w, "attr")) {
                if (i + 1 == c->ntok)
                    return fail(c, "'attr' needs an attribute name");
                f->take = SCR_RULES_TAKE_ATTR;
                f->attr = c->tok[++i].s;
                c->tok[i].s = NULL;
                for (char *p = f->attr; *p; p++) /* the HTML parser lower-cases names */
                    if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p | 0x20);
            }
            continue;
        }
        if (!strcmp(w, "all") || !strcmp(w, "required")) {
            int *flag = w[0] == 'a' ? &f->all : &f->required;
            if (*flag)
                return fail(c, "'%s' given twice", w);
            *flag = 1;
            continue;
        }
        if (!strcmp(w, "default")) {
            if (f->def)
                return fail(c, "'default' given twice");
            if (i + 1 == c->ntok)
                return fail(c, "'default' needs a value");
            f->def = c->tok[++i].s;
            c->tok[i].s = NULL;
            continue;
        }
        for (k = 0; k < sizeof(plain) / sizeof(*plain); k++)
            if (!strcmp(w, plain[k].word))
                break;
        if (k == sizeof(plain) / sizeof(*plain) && strcmp(w, "regex") != 0)
            return fail(c, "unknown transform '" SHOW "' (" KNOWN_OPTIONS ")", w);
        if (f->number)
            return fail(c, "'number' must be the last transform ('%s' follows it)", w);
        if (k < sizeof(plain) / sizeof(*plain)) {
            if (plain[k].op == SCR_RULES_OP_NUMBER)
                f->number = 1;
            add_step(f, plain[k].op, NULL);
        } else {
            pcre2_code *re;
            if (i + 1 == c->ntok)
                return fail(c, "'regex' needs a pattern");
            if ((rc = compile_regex(c, c->tok[++i].s, 1, &re)) != SCR_OK)
                return rc;
            add_step(f, SCR_RULES_OP_REGEX, re);
        }
    }
    return SCR_OK;
}

/* Checks the field's default and makes the JSON value it stands for. */
static int field_default(struct compiler *c, struct scr_rules_field *f)
{
    json_t *v;

    if (!f->def)
        return SCR_OK;
    if (f->required)
        return fail(c, "'required' and 'default' exclude each other: a field with a default "
                       "is never missing");
    if (f->number) {
        v = scr_rules_value_number(f->def, strlen(f->def), c->r->c_locale);
        if (!v)
            return fail(c, "default '" SHOW "' is not a number (the field ends with 'number')",
                        f->def);
    } else {
        v = json_string(f->def); /* the file is valid UTF-8: checked line by line */
        if (!v)
            return SCR_ENOMEM;
    }
    if (f->all) {
        json_t *a = json_array();
        if (!a || json_array_append_new(a, v) != 0) { /* takes v even on failure */
            json_decref(a);
            return SCR_ENOMEM;
        }
        v = a;
    }
    f->def_json = v;
    return SCR_OK;
}

/* FIELD css|xpath|regex SELECTOR {OPTION} */
static int field_line(struct compiler *c)
{
    struct scr_rules_record *rec = c->rec;
    struct scr_rules_field *f;
    const char *name = c->tok[0].s, *src;
    int rc;

    if ((rc = check_name(c, "field", name)) != SCR_OK)
        return rc;
    for (size_t i = 0; i < rec->nfields; i++)
        if (strcmp(rec->fields[i].name, name) == 0)
            return fail(c, "duplicate field '%s' in record '%s' (first on line %d)", name,
                        rec->name, rec->fields[i].line);
    if (c->ntok < 2)
        return fail(c, "field '%s' needs a selector: css, xpath or regex", name);
    src = c->tok[1].s;
    if (strcmp(src, "css") && strcmp(src, "xpath") && strcmp(src, "regex"))
        return fail(c, "field '%s': expected css, xpath or regex after the name, not '" SHOW "'",
                    name, src);
    if (c->ntok < 3)
        return fail(c, "'%s' needs a %s", src, src[0] == 'r' ? "pattern" : "selector");

    APPEND_ZEROED(rec->fields, rec->nfields, rec->capfields);
    f = &rec->fields[rec->nfields - 1]; /* from here on, scr_rules_free() frees what f holds */
    f->line = c->line;
    f->name = c->tok[0].s;
    c->tok[0].s = NULL;
    f->selector = scr_xstrdup(c->tok[2].s);
    if (src[0] == 'r') {
        f->source = SCR_RULES_SRC_REGEX;
        rc = compile_regex(c, f->selector, 1, &f->re);
    } else {
        f->source = SCR_RULES_SRC_XPATH;
        rc = compile_selector(c, src, f->selector, rec->each != NULL, &f->xp);
    }
    if (rc)
        return rc;
    if ((rc = field_options(c, f, 3)) != SCR_OK)
        return rc;
    return field_default(c, f);
}

/* Dispatches one non-blank line, whose words are in c->tok, by its indentation. */
static int statement(struct compiler *c, long indent)
{
    const char *kw = c->tok[0].s;
    int rc;

    if (indent == 0) {
        if (!strcmp(kw, "site"))
            return site_line(c);
        if (!strcmp(kw, "record") || !strcmp(kw, "match"))
            return fail(c, "'%s' outside a site: indent it under a 'site NAME' line", kw);
        return fail(c, "unknown keyword '" SHOW "' (a rules file is made of 'site NAME' blocks)",
                    kw);
    }
    if (!c->site)
        return fail(c, "indented line before the first 'site NAME' line");
    if (c->site_indent < 0)
        c->site_indent = indent;
    if (indent == c->site_indent) {
        if ((rc = close_record(c)) != SCR_OK)
            return rc;
        if (!strcmp(kw, "match"))
            return match_line(c);
        if (!strcmp(kw, "record"))
            return record_line(c);
        if (!strcmp(kw, "site"))
            return fail(c, "'site' must start at the beginning of the line");
        return fail(c, "unknown keyword '" SHOW "' in site '%s' (expected 'match' or 'record')",
                    kw, c->site->name);
    }
    if (indent < c->site_indent)
        return fail(c, "bad indentation: %ld spaces, but the lines of site '%s' have %ld", indent,
                    c->site->name, c->site_indent);
    if (!c->rec)
        return fail(c, "unexpected indentation: fields go under a 'record' line");
    if (c->field_indent < 0)
        c->field_indent = indent;
    if (indent != c->field_indent)
        return fail(c, "bad indentation: %ld spaces, but the fields of record '%s' have %ld",
                    indent, c->rec->name, c->field_indent);
    return field_line(c);
}

/* Reads the text line by line. */
static int compile_text(struct compiler *c, const char *text)
{
    const char *p = text, *next;
    int rc;

    if (strncmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3; /* a UTF-8 byte order mark */
    for (c->line = 1; *p; c->line++, p = next) {
        const char *eol = strchr(p, '\n'), *end, *q;

        next = eol ? eol + 1 : p + strlen(p);
        end = eol ? eol : next;
        if (end > p && end[-1] == '\r')
            end--;
        if (!scr_utf8_valid(p, (size_t)(end - p)))
            return fail(c, "invalid UTF-8 (a rules file is UTF-8 text)");
        for (q = p; q < end && (*q == ' ' || *q == '\t'); q++)
            if (*q == '\t')
                return fail(c, "tab in indentation: indent with spaces");
        if (q == end || *q == '#')
            continue;
        if ((rc = tokenize(c, p, q, end)) != SCR_OK)
            return rc;
        if ((rc = statement(c, (long)(q - p))) != SCR_OK)
            return rc;
    }
    if ((rc = close_site(c)) != SCR_OK)
        return rc;
    if (c->r->nsites == 0)
        return fail_at(c, 1, "no site defined: a rules file is made of 'site NAME' blocks");
    return SCR_OK;
}

int scr_rules_compile(struct scr_rules **out, const char *text, const char *name, char *err,
                      size_t errlen)
{
    struct compiler c;
    char hex[65];
    int rc;

    memset(&c, 0, sizeof(c));
    c.name = name && *name ? name : "rules";
    c.err = err;
    c.errlen = errlen;
    c.site_indent = c.field_indent = -1;
    if (err && errlen)
        err[0] = '\0';
    if (!out || !text) {
        rc = SCR_EINVAL;
        goto out;
    }
    xmlInitParser(); /* idempotent; the extractor has done it already */
    c.r = scr_xcalloc(1, sizeof(*c.r));
    c.xpc = xmlXPathNewContext(NULL);
    if (!c.xpc) {
        rc = SCR_ENOMEM;
        goto out;
    }
    c.xpc->error = xpath_error; /* libxml2 would print compile errors on stderr */
    c.xpc->userData = &c;
    c.r->c_locale = (void *)newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!c.r->c_locale) {
        rc = SCR_ENOMEM;
        goto out;
    }
    scr_sha256_hex(text, strlen(text), hex);
    memcpy(c.r->hash, hex, 16);
    c.r->hash[16] = '\0';
    rc = compile_text(&c, text);
    if (rc)
        goto out;
    *out = c.r;
    c.r = NULL;
out:
    if (rc == SCR_ENOMEM && err && errlen && !err[0])
        snprintf(err, errlen, "%s: out of memory", c.name);
    clear_tokens(&c);
    free(c.tok);
    if (c.xpc)
        xmlXPathFreeContext(c.xpc);
    scr_rules_free(c.r);
    return rc;
}
