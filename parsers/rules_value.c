/* rules_value.c - a rules field's values and their transforms (see rules_value.h).
 *
 * The transforms work in place on UTF-8 text: whitespace is ASCII whitespace or U+00A0;
 * lower and upper change ASCII letters only, so a value never changes length except by
 * trimming.  `number` reads what people write on pages ("1 234,50 €", "$1,234.50", ".5",
 * "−3") with the decimal separator guessed from the digits (docs/rules.md, "number"), in the
 * "C" locale whatever the process's locale is.
 *
 * Called by the compiler (rules_compile.c: a `default` of a number field) and the evaluator
 * (rules_eval.c); calls neither.  Keeps no state: safe from any thread.
 */
#include "parsers/rules_value.h"

#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/json.h"
#include "parsers/builtin.h" /* scr_html_isspace */

/* Most digits `number` reads; a longer run of digits is not a price. */
#define NUMBER_MAX_DIGITS 400

/* ---- values ------------------------------------------------------------------------------ */

void scr_rules_values_clear(struct scr_rules_values *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        free(vs->v[i].s);
    vs->n = 0;
}

void scr_rules_values_release(struct scr_rules_values *vs)
{
    scr_rules_values_clear(vs);
    free(vs->v);
    vs->v = NULL;
    vs->cap = 0;
}

void scr_rules_values_push_owned(struct scr_rules_values *vs, char *s, size_t len)
{
    SCR_GROW(vs->v, vs->cap, vs->n + 1, 4);
    vs->v[vs->n].s = s;
    vs->v[vs->n].len = len;
    vs->n++;
}

void scr_rules_values_push(struct scr_rules_values *vs, const char *s, size_t len)
{
    scr_rules_values_push_owned(vs, scr_xmemdup0(s, len), len);
}

void scr_rules_values_push_xml(struct scr_rules_values *vs, xmlChar *x)
{
    if (!x)
        return;
    scr_rules_values_push(vs, (const char *)x, strlen((const char *)x));
    xmlFree(x);
}

/* ---- regex ------------------------------------------------------------------------------- */

/* Appends the first capture group of the first match of re in s[0..len), or with all, of
 * every non-overlapping match (at most SCR_RULES_LIST_MAX values).  A match whose first group
 * did not take part gives nothing.  A match error (a limit of mc on a hostile page) ends the
 * search and is returned. */
int scr_rules_values_regex(pcre2_match_data *md, pcre2_match_context *mc, const pcre2_code *re,
                           const char *s, size_t len, int all, struct scr_rules_values *vs)
{
    PCRE2_SIZE off = 0, *ov;
    int rc;

    while (off <= len) {
        rc = pcre2_match(re, (PCRE2_SPTR)s, len, off, 0, md, mc);
        if (rc < 0)
            return rc == PCRE2_ERROR_NOMATCH ? 0 : rc;
        ov = pcre2_get_ovector_pointer(md);
        if (rc >= 2 && ov[2] != PCRE2_UNSET && ov[3] >= ov[2])
            scr_rules_values_push(vs, s + ov[2], ov[3] - ov[2]);
        if (!all || vs->n >= SCR_RULES_LIST_MAX)
            break;
        if (ov[1] > ov[0] && ov[1] > off) {
            off = ov[1];
        } else { /* an empty match: step over one character */
            off = (ov[1] > off ? ov[1] : off) + 1;
            while (off < len && ((unsigned char)s[off] & 0xC0) == 0x80)
                off++;
        }
    }
    return 0;
}

/* ---- transforms -------------------------------------------------------------------------- */

/* Length of the whitespace character at s[0..len): ASCII whitespace or U+00A0; 0 if none. */
static size_t space_at(const char *s, size_t len)
{
    if (len >= 1 && (scr_html_isspace((unsigned char)s[0]) || s[0] == '\v'))
        return 1;
    if (len >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
        return 2;
    return 0;
}

/* Length of the whitespace character that ends s[0..len); 0 if none. */
static size_t space_before(const char *s, size_t len)
{
    if (len >= 2 && (unsigned char)s[len - 2] == 0xC2 && (unsigned char)s[len - 1] == 0xA0)
        return 2;
    return len >= 1 ? space_at(s + len - 1, 1) : 0;
}

/* trim: drops leading and trailing whitespace, in place. */
static void trim(struct scr_rules_value *v)
{
    size_t a = 0, k;

    while ((k = space_at(v->s + a, v->len - a)) > 0)
        a += k;
    while (v->len > a && (k = space_before(v->s, v->len)) > 0)
        v->len -= k;
    memmove(v->s, v->s + a, v->len - a);
    v->len -= a;
    v->s[v->len] = '\0';
}

/* collapse: every run of whitespace becomes one space, then trim; in place. */
static void collapse(struct scr_rules_value *v)
{
    size_t i = 0, o = 0, k;
    int pending = 0;

    while (i < v->len) {
        if ((k = space_at(v->s + i, v->len - i)) > 0) {
            pending = o > 0;
            i += k;
            continue;
        }
        if (pending)
            v->s[o++] = ' ';
        pending = 0;
        v->s[o++] = v->s[i++];
    }
    v->len = o;
    v->s[o] = '\0';
}

static void change_case(struct scr_rules_value *v, int upper)
{
    for (size_t i = 0; i < v->len; i++) {
        char ch = v->s[i];
        if (upper && ch >= 'a' && ch <= 'z')
            v->s[i] = (char)(ch - 'a' + 'A');
        else if (!upper && ch >= 'A' && ch <= 'Z')
            v->s[i] = (char)(ch - 'A' + 'a');
    }
}

/* Applies one step to every value in *vs; a value the step cannot handle is dropped. */
int scr_rules_values_transform(const struct scr_rules_step *st, int all, const char *base,
                               const struct scr_url_opts *url_opts, pcre2_match_data *md,
                               pcre2_match_context *mc, struct scr_rules_values *vs,
                               struct scr_rules_values *tmp)
{
    size_t i, o = 0;
    int rc = 0;

    switch (st->op) {
    case SCR_RULES_OP_TRIM:
    case SCR_RULES_OP_COLLAPSE:
        for (i = 0; i < vs->n; i++) {
            if (st->op == SCR_RULES_OP_TRIM)
                trim(&vs->v[i]);
            else
                collapse(&vs->v[i]);
        }
        return 0;
    case SCR_RULES_OP_LOWER:
    case SCR_RULES_OP_UPPER:
        for (i = 0; i < vs->n; i++)
            change_case(&vs->v[i], st->op == SCR_RULES_OP_UPPER);
        return 0;
    case SCR_RULES_OP_NUMBER:
        return 0; /* done when the JSON is made */
    case SCR_RULES_OP_URL:
        for (i = 0; i < vs->n; i++) {
            char *u = NULL;
            if (strlen(vs->v[i].s) == vs->v[i].len &&
                scr_url_normalize(base, vs->v[i].s, url_opts, &u, NULL, NULL, 0) ==
                    SCR_OK) {
                free(vs->v[i].s);
                vs->v[o].s = u;
                vs->v[o++].len = strlen(u);
            } else {
                free(vs->v[i].s);
            }
        }
        vs->n = o;
        return 0;
    case SCR_RULES_OP_REGEX:
        scr_rules_values_clear(tmp);
        for (i = 0; i < vs->n && rc == 0; i++)
            rc = scr_rules_values_regex(md, mc, st->re, vs->v[i].s, vs->v[i].len, all, tmp);
        { /* swap: the captures become the values */
            struct scr_rules_values t = *vs;
            *vs = *tmp;
            *tmp = t;
        }
        return rc;
    }
    return 0;
}

/* ---- number ------------------------------------------------------------------------------ */

/* Length of a thousands-grouping character at s: space, U+00A0, U+2009, U+202F, apostrophe,
 * U+2019; 0 if none. */
static size_t grouper_at(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    if (len >= 1 && (u[0] == ' ' || u[0] == '\''))
        return 1;
    if (len >= 2 && u[0] == 0xC2 && u[1] == 0xA0)
        return 2;
    if (len >= 3 && u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0x89 || u[2] == 0xAF || u[2] == 0x99))
        return 3;
    return 0;
}

static int is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* How many digits start at s[0..len). */
static size_t digits_at(const char *s, size_t len)
{
    size_t n = 0;

    while (n < len && is_digit(s[n]))
        n++;
    return n;
}

json_t *scr_rules_value_number(const char *s, size_t len, void *c_locale)
{
    struct scr_buf b;
    size_t i = 0, ndig = 0, j;
    size_t dots = 0, commas = 0, last_comma_tail = 0;
    char last = 0, dec = 0;
    int neg = 0, lead_dot = 0;
    json_t *out = NULL;
    /* The run of the number: digit groups and the separators between them. */
    struct {
        size_t at, n; /* a digit group: s[at..at+n) */
        char sep;     /* the separator after it: '.', ',', 'g' (grouping) or 0 (the end) */
    } g[64];
    size_t ng = 0;

    scr_buf_init(&b);
    while (i < len && !is_digit(s[i]))
        i++;
    if (i == len)
        goto out;
    j = i;
    if (j > 0 && s[j - 1] == '.' && (j < 2 || !is_digit(s[j - 2]))) {
        lead_dot = 1; /* ".5" */
        j--;
    }
    if (j > 0 && s[j - 1] == '-')
        neg = 1;
    else if (j >= 3 && memcmp(s + j - 3, "\xE2\x88\x92", 3) == 0) /* U+2212 minus sign */
        neg = 1;

    /* Collect the groups.  A separator belongs to the number only when a digit follows it; a
     * grouping character only when exactly three digits follow it. */
    while (ng < sizeof(g) / sizeof(*g)) {
        size_t n = digits_at(s + i, len - i), k;
        g[ng].at = i;
        g[ng].n = n;
        g[ng].sep = 0;
        ng++;
        i += n;
        if (lead_dot || i == len)
            break;
        if ((s[i] == '.' || s[i] == ',') && i + 1 < len && is_digit(s[i + 1])) {
            g[ng - 1].sep = s[i];
            i++;
            continue;
        }
        k = grouper_at(s + i, len - i);
        if (k && digits_at(s + i + k, len - i - k) == 3) {
            g[ng - 1].sep = 'g';
            i += k;
            continue;
        }
        break;
    }
    if (ng == sizeof(g) / sizeof(*g))
        g[ng - 1].sep = 0;

    for (j = 0; j + 1 < ng; j++) {
        if (g[j].sep == '.')
            dots++;
        else if (g[j].sep == ',') {
            commas++;
            last_comma_tail = g[j + 1].n;
        }
        if (g[j].sep == '.' || g[j].sep == ',')
            last = g[j].sep;
    }
    /* Which of '.' and ',' is the decimal separator (see docs/rules.md, "number"). */
    if (dots && commas) {
        if ((last == '.' ? dots : commas) > 1)
            goto out; /* "1.234.5,6.7": not a number anyone writes */
        dec = last;
    } else if (dots == 1) {
        dec = '.';
    } else if (commas == 1 && (last_comma_tail != 3 || (g[0].n == 1 && s[g[0].at] == '0'))) {
        dec = ','; /* "12,50", "0,125"; but "1,234" is a thousand and more */
    }

    if (scr_buf_puts(&b, neg ? "-" : "") || (lead_dot && scr_buf_puts(&b, "0.")))
        goto out;
    for (j = 0; j < ng; j++) {
        if (scr_buf_append(&b, s + g[j].at, g[j].n))
            goto out;
        ndig += g[j].n;
        if (g[j].sep && g[j].sep == dec && scr_buf_putc(&b, '.'))
            goto out;
    }
    if (ndig > NUMBER_MAX_DIGITS)
        goto out;
    if (!dec && !lead_dot && ndig <= 18) {
        out = json_integer((json_int_t)strtoll(b.data, NULL, 10));
    } else {
        double d = strtod_l(b.data, NULL, (locale_t)c_locale);
        if (isfinite(d))
            out = json_real(d);
    }
out:
    scr_buf_release(&b);
    return out;
}