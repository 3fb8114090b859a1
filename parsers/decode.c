/* decode.c - a page's bytes to UTF-8 the way a browser decodes them (see decode.h).
 *
 * libxml2 2.9 decodes with the encoding it is told, or finds, and stops at the first byte that
 * encoding cannot decode: a UTF-8 page labelled gb2312 lost every link after its first Chinese
 * character.  A browser never stops (WHATWG Encoding: U+FFFD for a bad sequence, and on).  So
 * the extractor decodes here, to UTF-8, and hands libxml2 UTF-8 that it is told is UTF-8.
 *
 * The labels table is data (LABELS below), taken from the Encoding standard's list of labels
 * for every encoding glibc's iconv can decode, plus the two the standard defines by a rule
 * ("replacement": the whole input is one U+FFFD; x-user-defined: bytes 0x80-0xFF are
 * U+F780-U+F7FF), which are done here.  UTF-8 is checked and repaired here too (one U+FFFD per
 * maximal bad subpart, as the standard says), without iconv: it is every page's path, and a
 * well-formed UTF-8 page is not copied.
 *
 * Differences from the standard, all in the legacy multi-byte decoders: glibc's tables, not
 * the standard's indexes, decide what a byte pair means (they agree on all but a few code
 * points); after a bad sequence decoding resumes at the next byte, so a bad two-byte pair may
 * give two U+FFFD where the standard gives one.  windows-1252's five bytes glibc leaves
 * undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are U+0081... as the standard says.
 *
 * Cost: a page is mostly ASCII markup, and glibc's converters take about 30 instructions a
 * byte (a 38 KB windows-1252 page cost 1.4 M instructions, a quarter of its extraction).  So
 * a single-byte encoding goes through a table of its upper half that iconv fills once per
 * process, and in an ASCII-compatible multi-byte one only the non-ASCII stretches go through
 * iconv; ASCII is copied 8 bytes at a time.  UTF-16 and the stateful ISO-2022-JP go through
 * iconv whole.
 *
 * Thread-safe: the single-byte tables are made under a mutex and never change after; iconv
 * descriptors are opened per page.
 */
#include "parsers/decode.h"

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "parsers/builtin.h"

/* The prescan's window (HTML: 1,024 bytes) and how far a late <meta> is still honoured. */
#define PRESCAN_WINDOW 1024
#define LATE_META_WINDOW (64 * 1024)

/* An encoding of the Encoding standard and how it is decoded. */
/* HOW_SINGLE: a single-byte encoding, through a table of its upper 128 bytes that iconv fills
 * once per process; HOW_MULTI: an ASCII-compatible multi-byte encoding, ASCII copied and the
 * rest through iconv; HOW_ICONV: all through iconv (UTF-16, the stateful ISO-2022-JP). */
enum how { HOW_UTF8, HOW_SINGLE, HOW_MULTI, HOW_ICONV, HOW_REPLACEMENT, HOW_USER_DEFINED };

struct encoding {
    const char *name;  /* the standard's name */
    const char *iconv; /* glibc's name, for HOW_ICONV */
    enum how how;
    const char *labels; /* the standard's labels, '|'-separated, lower case */
};

/* The Encoding standard's table (https://encoding.spec.whatwg.org/#names-and-labels), every
 * encoding in it.  GBK is decoded as gb18030 (the standard's GBK decoder is gb18030's); Big5 is
 * Big5-HKSCS, Shift_JIS is windows-31j (CP932) and EUC-KR is windows-949 (CP949), as the
 * standard defines them; ISO-8859-8-I decodes as ISO-8859-8 (only the display order differs). */
static const struct encoding ENCODINGS[] = {
    {"UTF-8", NULL, HOW_UTF8,
     "unicode-1-1-utf-8|unicode11utf8|unicode20utf8|utf-8|utf8|x-unicode20utf8"},
    {"IBM866", "IBM866", HOW_SINGLE, "866|cp866|csibm866|ibm866"},
    {"ISO-8859-2", "ISO-8859-2", HOW_SINGLE,
     "csisolatin2|iso-8859-2|iso-ir-101|iso8859-2|iso88592|iso_8859-2|iso_8859-2:1987|l2|latin2"},
    {"ISO-8859-3", "ISO-8859-3", HOW_SINGLE,
     "csisolatin3|iso-8859-3|iso-ir-109|iso8859-3|iso88593|iso_8859-3|iso_8859-3:1988|l3|latin3"},
    {"ISO-8859-4", "ISO-8859-4", HOW_SINGLE,
     "csisolatin4|iso-8859-4|iso-ir-110|iso8859-4|iso88594|iso_8859-4|iso_8859-4:1988|l4|latin4"},
    {"ISO-8859-5", "ISO-8859-5", HOW_SINGLE,
     "csisolatincyrillic|cyrillic|iso-8859-5|iso-ir-144|iso8859-5|iso88595|iso_8859-5|"
     "iso_8859-5:1988"},
    {"ISO-8859-6", "ISO-8859-6", HOW_SINGLE,
     "arabic|asmo-708|csiso88596e|csiso88596i|csisolatinarabic|ecma-114|iso-8859-6|"
     "iso-8859-6-e|iso-8859-6-i|iso-ir-127|iso8859-6|iso88596|iso_8859-6|iso_8859-6:1987"},
    {"ISO-8859-7", "ISO-8859-7", HOW_SINGLE,
     "csisolatingreek|ecma-118|elot_928|greek|greek8|iso-8859-7|iso-ir-126|iso8859-7|iso88597|"
     "iso_8859-7|iso_8859-7:1987|sun_eu_greek"},
    {"ISO-8859-8", "ISO-8859-8", HOW_SINGLE,
     "csiso88598e|csisolatinhebrew|hebrew|iso-8859-8|iso-8859-8-e|iso-ir-138|iso8859-8|"
     "iso88598|iso_8859-8|iso_8859-8:1988|visual"},
    {"ISO-8859-8-I", "ISO-8859-8", HOW_SINGLE, "csiso88598i|iso-8859-8-i|logical"},
    {"ISO-8859-10", "ISO-8859-10", HOW_SINGLE,
     "csisolatin6|iso-8859-10|iso-ir-157|iso8859-10|iso885910|l6|latin6"},
    {"ISO-8859-13", "ISO-8859-13", HOW_SINGLE, "iso-8859-13|iso8859-13|iso885913"},
    {"ISO-8859-14", "ISO-8859-14", HOW_SINGLE, "iso-8859-14|iso8859-14|iso885914"},
    {"ISO-8859-15", "ISO-8859-15", HOW_SINGLE,
     "csisolatin9|iso-8859-15|iso8859-15|iso885915|iso_8859-15|l9"},
    {"ISO-8859-16", "ISO-8859-16", HOW_SINGLE, "iso-8859-16"},
    {"KOI8-R", "KOI8-R", HOW_SINGLE, "cskoi8r|koi|koi8|koi8-r|koi8_r"},
    {"KOI8-U", "KOI8-U", HOW_SINGLE, "koi8-ru|koi8-u"},
    {"macintosh", "MACINTOSH", HOW_SINGLE, "csmacintosh|mac|macintosh|x-mac-roman"},
    {"windows-874", "CP874", HOW_SINGLE,
     "dos-874|iso-8859-11|iso8859-11|iso885911|tis-620|windows-874"},
    {"windows-1250", "CP1250", HOW_SINGLE, "cp1250|windows-1250|x-cp1250"},
    {"windows-1251", "CP1251", HOW_SINGLE, "cp1251|windows-1251|x-cp1251"},
    {"windows-1252", "CP1252", HOW_SINGLE,
     "ansi_x3.4-1968|ascii|cp1252|cp819|csisolatin1|ibm819|iso-8859-1|iso-ir-100|iso8859-1|"
     "iso88591|iso_8859-1|iso_8859-1:1987|l1|latin1|us-ascii|windows-1252|x-cp1252"},
    {"windows-1253", "CP1253", HOW_SINGLE, "cp1253|windows-1253|x-cp1253"},
    {"windows-1254", "CP1254", HOW_SINGLE,
     "cp1254|csisolatin5|iso-8859-9|iso-ir-148|iso8859-9|iso88599|iso_8859-9|iso_8859-9:1989|"
     "l5|latin5|windows-1254|x-cp1254"},
    {"windows-1255", "CP1255", HOW_SINGLE, "cp1255|windows-1255|x-cp1255"},
    {"windows-1256", "CP1256", HOW_SINGLE, "cp1256|windows-1256|x-cp1256"},
    {"windows-1257", "CP1257", HOW_SINGLE, "cp1257|windows-1257|x-cp1257"},
    {"windows-1258", "CP1258", HOW_SINGLE, "cp1258|windows-1258|x-cp1258"},
    {"x-mac-cyrillic", "MAC-CYRILLIC", HOW_SINGLE, "x-mac-cyrillic|x-mac-ukrainian"},
    {"GBK", "GB18030", HOW_MULTI,
     "chinese|csgb2312|csiso58gb231280|gb2312|gb_2312|gb_2312-80|gbk|iso-ir-58|x-gbk"},
    {"gb18030", "GB18030", HOW_MULTI, "gb18030"},
    {"Big5", "BIG5-HKSCS", HOW_MULTI, "big5|big5-hkscs|cn-big5|csbig5|x-x-big5"},
    {"EUC-JP", "EUC-JP", HOW_MULTI, "cseucpkdfmtjapanese|euc-jp|x-euc-jp"},
    {"ISO-2022-JP", "ISO-2022-JP", HOW_ICONV, "csiso2022jp|iso-2022-jp"},
    {"Shift_JIS", "CP932", HOW_MULTI,
     "csshiftjis|ms932|ms_kanji|shift-jis|shift_jis|sjis|windows-31j|x-sjis"},
    {"EUC-KR", "CP949", HOW_MULTI,
     "cseuckr|csksc56011987|euc-kr|iso-ir-149|korean|ks_c_5601-1987|ks_c_5601-1989|ksc5601|"
     "ksc_5601|windows-949"},
    {"replacement", NULL, HOW_REPLACEMENT,
     "csiso2022kr|hz-gb-2312|iso-2022-cn|iso-2022-cn-ext|iso-2022-kr|replacement"},
    {"UTF-16BE", "UTF-16BE", HOW_ICONV, "unicodefffe|utf-16be"},
    {"UTF-16LE", "UTF-16LE", HOW_ICONV,
     "csunicode|iso-10646-ucs-2|ucs-2|unicode|unicodefeff|utf-16|utf-16le"},
    {"x-user-defined", NULL, HOW_USER_DEFINED, "x-user-defined"},
};
#define N_ENCODINGS (sizeof(ENCODINGS) / sizeof(ENCODINGS[0]))

static const char FFFD[] = "\xEF\xBF\xBD";

static const struct encoding *find_label(const char *label, size_t len)
{
    while (len && scr_html_isspace((unsigned char)label[0])) {
        label++;
        len--;
    }
    while (len && scr_html_isspace((unsigned char)label[len - 1]))
        len--;
    if (len == 0)
        return NULL;
    for (size_t i = 0; i < N_ENCODINGS; i++) {
        const char *p = ENCODINGS[i].labels;
        for (;;) {
            size_t n = strcspn(p, "|");
            if (n == len && strncasecmp(p, label, len) == 0)
                return &ENCODINGS[i];
            if (!p[n])
                break;
            p += n + 1;
        }
    }
    return NULL;
}

static const struct encoding *find_name(const char *name)
{
    for (size_t i = 0; i < N_ENCODINGS; i++)
        if (strcmp(ENCODINGS[i].name, name) == 0)
            return &ENCODINGS[i];
    return NULL;
}

const char *scr_encoding_for_label(const char *label, size_t len)
{
    const struct encoding *e = label ? find_label(label, len) : NULL;
    return e ? e->name : NULL;
}

/* ---- HTML's prescan (https://html.spec.whatwg.org/#prescan-a-byte-stream-to-determine-its-encoding) */

/* Names and values longer than this are cut; the prescan only compares short ones. */
#define ATTR_MAX 64

struct attr {
    char name[ATTR_MAX + 1], value[ATTR_MAX + 1];
    size_t nlen, vlen;
};

static void attr_put(char *s, size_t *n, unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        c = (unsigned char)(c | 0x20);
    if (*n < ATTR_MAX)
        s[(*n)++] = (char)c;
    s[*n] = '\0';
}

/* "Get an attribute": 1 with *a filled and *pp past it; 0 when there is none: *pp is then at
 * the tag's '>', or at the end of the window. */
static int get_attr(const unsigned char **pp, const unsigned char *end, struct attr *a)
{
    const unsigned char *p = *pp;

    a->nlen = a->vlen = 0;
    a->name[0] = a->value[0] = '\0';
    while (p < end && (scr_html_isspace(*p) || *p == '/'))
        p++;
    if (p < end && *p == '>') {
        *pp = p; /* the caller goes on after the tag */
        return 0;
    }
    if (p >= end)
        goto none;
    for (;;) { /* the name */
        if (p >= end)
            goto none;
        if (*p == '=' && a->nlen > 0) {
            p++;
            goto value;
        }
        if (scr_html_isspace(*p))
            break;
        if (*p == '/' || *p == '>')
            goto done;
        attr_put(a->name, &a->nlen, *p++);
    }
    while (p < end && scr_html_isspace(*p))
        p++;
    if (p >= end)
        goto none;
    if (*p != '=')
        goto done;
    p++;
value:
    while (p < end && scr_html_isspace(*p))
        p++;
    if (p >= end)
        goto none;
    if (*p == '"' || *p == '\'') {
        unsigned char q = *p++;
        while (p < end && *p != q)
            attr_put(a->value, &a->vlen, *p++);
        if (p >= end)
            goto none;
        p++;
        goto done;
    }
    if (*p == '>')
        goto done;
    while (p < end && !scr_html_isspace(*p) && *p != '>')
        attr_put(a->value, &a->vlen, *p++);
    if (p >= end)
        goto none;
done:
    *pp = p;
    return 1;
none:
    *pp = end;
    return 0;
}

/* "Extract a character encoding from a meta element" (its content attribute). */
static const struct encoding *content_charset(const char *s)
{
    const char *p = s;

    while ((p = strstr(p, "charset")) != NULL) { /* the value is lower-cased already */
        const char *v = p + 7, *q;
        while (scr_html_isspace((unsigned char)*v))
            v++;
        if (*v != '=') {
            p = v;
            continue;
        }
        v++;
        while (scr_html_isspace((unsigned char)*v))
            v++;
        if (*v == '"' || *v == '\'') {
            q = strchr(v + 1, *v);
            return q ? find_label(v + 1, (size_t)(q - v - 1)) : NULL;
        }
        return find_label(v, strcspn(v, " \t\n\f\r;"));
    }
    return NULL;
}

/* The attributes of one <meta>: its charset, or NULL (the standard's steps, in order). */
static const struct encoding *meta_charset(const unsigned char **pp, const unsigned char *end)
{
    struct attr a;
    char seen[16][ATTR_MAX + 1];
    size_t nseen = 0;
    int got_pragma = 0, need_pragma = -1; /* -1: null */
    const struct encoding *cs = NULL;

    while (get_attr(pp, end, &a)) {
        size_t i;
        for (i = 0; i < nseen; i++)
            if (strcmp(seen[i], a.name) == 0)
                break;
        if (i < nseen)
            continue;
        if (nseen < sizeof(seen) / sizeof(seen[0]))
            memcpy(seen[nseen++], a.name, a.nlen + 1);
        if (strcmp(a.name, "http-equiv") == 0) {
            if (strcmp(a.value, "content-type") == 0)
                got_pragma = 1;
        } else if (strcmp(a.name, "content") == 0) {
            const struct encoding *e = content_charset(a.value);
            if (e && !cs) {
                cs = e;
                need_pragma = 1;
            }
        } else if (strcmp(a.name, "charset") == 0) {
            cs = find_label(a.value, a.vlen);
            need_pragma = 0;
        }
    }
    if (need_pragma == -1 || (need_pragma == 1 && !got_pragma) || !cs)
        return NULL;
    if (strncmp(cs->name, "UTF-16", 6) == 0)
        return find_name("UTF-8");
    if (cs->how == HOW_USER_DEFINED)
        return find_name("windows-1252");
    return cs;
}

static int is_alpha(unsigned char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static const struct encoding *prescan(const char *body, size_t len, size_t window)
{
    const unsigned char *p = (const unsigned char *)body;
    const unsigned char *end = p + (len < window ? len : window);
    struct attr a;

    while (p < end) {
        size_t left = (size_t)(end - p);
        if (*p != '<') {
            const unsigned char *q = memchr(p, '<', left);
            if (!q)
                break;
            p = q;
            continue;
        }
        if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
            const unsigned char *q = memmem(p + 2, left - 2, "-->", 3);
            if (!q)
                break;
            p = q + 3;
        } else if (left >= 6 && strncasecmp((const char *)p, "<meta", 5) == 0 &&
                   (scr_html_isspace(p[5]) || p[5] == '/')) {
            const struct encoding *e;
            p += 6;
            if ((e = meta_charset(&p, end)) != NULL)
                return e;
        } else if (left >= 2 && (is_alpha(p[1]) || (left >= 3 && p[1] == '/' && is_alpha(p[2])))) {
            while (p < end && !scr_html_isspace(*p) && *p != '>')
                p++;
            while (get_attr(&p, end, &a))
                ;
        } else if (left >= 2 && (p[1] == '!' || p[1] == '/' || p[1] == '?')) {
            const unsigned char *q = memchr(p, '>', left);
            if (!q)
                break;
            p = q + 1;
        } else {
            p++;
        }
    }
    return NULL;
}

const char *scr_decode_prescan(const char *body, size_t len, size_t window)
{
    const struct encoding *e = body ? prescan(body, len, window) : NULL;
    return e ? e->name : NULL;
}

/* ---- the Content-Type header's charset ------------------------------------------------ */

static const struct encoding *header_charset(const char *ct)
{
    const char *p = ct ? strchr(ct, ';') : NULL;

    while (p) {
        p++;
        while (scr_html_isspace((unsigned char)*p))
            p++;
        if (strncasecmp(p, "charset", 7) == 0) {
            const char *v = p + 7;
            while (scr_html_isspace((unsigned char)*v))
                v++;
            if (*v == '=') {
                v++;
                while (scr_html_isspace((unsigned char)*v))
                    v++;
                if (*v == '"' || *v == '\'')
                    v++;
                return find_label(v, strcspn(v, "\"'; \t\r\n"));
            }
        }
        p = strchr(p, ';');
    }
    return NULL;
}

/* ---- decoders ------------------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s[0..n) (n > 0), or 0 when it is not one;
 * then *bad is the length of its maximal subpart (the bytes one U+FFFD replaces). */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need, i;

    *bad = 1;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    for (i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *bad = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

/* Is s[0..n) well-formed UTF-8 (NUL allowed)?  *nonascii is set when it has a byte >= 0x80. */
static int utf8_valid(const char *s, size_t n, int *nonascii)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    size_t k, bad;

    *nonascii = 0;
    while (p < end) {
        /* eight ASCII bytes at a time: most of a page is markup */
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & 0x8080808080808080ULL)
                break;
            p += 8;
        }
        if (p >= end)
            break;
        if (*p < 0x80) {
            p++;
            continue;
        }
        *nonascii = 1;
        if ((k = utf8_seq(p, (size_t)(end - p), &bad)) == 0)
            return 0;
        p += k;
    }
    return 1;
}

/* Appends s[0..n) to out with each maximal bad subpart replaced by U+FFFD. */
static void utf8_repair(const char *s, size_t n, struct scr_buf *out)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
    size_t k, bad;

    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        if ((k = utf8_seq(p, (size_t)(end - p), &bad)) != 0) {
            p += k;
            continue;
        }
        scr_buf_append(out, run, (size_t)(p - run));
        scr_buf_append(out, FFFD, 3);
        p += bad;
        run = p;
    }
    scr_buf_append(out, run, (size_t)(p - run));
}

static void put_cp(struct scr_buf *out, unsigned cp)
{
    char u[3];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    }
    scr_buf_append(out, u, n);
}

/* Converts s[0..n) with cd into out, putting U+FFFD for each bad sequence (on from the next
 * byte) and for an incomplete one at the end; with c1 (windows-1252), a byte glibc leaves
 * undefined is the C1 control of that number, as the standard says.  Returns the U+FFFD
 * put.  Leaves cd in its initial state. */
static long iconv_run(iconv_t cd, const char *s, size_t n, struct scr_buf *out, int c1)
{
    char *in = (char *)s, *op;
    size_t il = n, ol, r;
    long repl = 0;
    int flush, err;

    scr_buf_reserve(out, n + n / 2 + 64);
    for (;;) {
        op = out->data + out->len;
        ol = out->cap - out->len - 1; /* scr_buf keeps a byte for the NUL */
        flush = il == 0; /* the input is used up: write the shift state's end */
        r = flush ? iconv(cd, NULL, NULL, &op, &ol) : iconv(cd, &in, &il, &op, &ol);
        err = errno;
        out->len = (size_t)(op - out->data);
        if (r != (size_t)-1) {
            if (flush)
                break;
            continue;
        }
        if (err == E2BIG) {
            scr_buf_reserve(out, il + 64);
            continue;
        }
        if (flush)
            break;
        if (err == EINVAL) { /* the input ends inside a sequence */
            scr_buf_append(out, FFFD, 3);
            repl++;
            in += il;
            il = 0;
            continue;
        }
        /* EILSEQ: one U+FFFD, and on from the next byte */
        if (c1 && (unsigned char)*in >= 0x80 && (unsigned char)*in <= 0x9F) {
            put_cp(out, (unsigned char)*in);
        } else {
            scr_buf_append(out, FFFD, 3);
            repl++;
        }
        in++;
        il--;
    }
    iconv(cd, NULL, NULL, NULL, NULL);
    out->data[out->len] = '\0';
    return repl;
}

/* A single-byte encoding's upper half in UTF-8: n[b] bytes u[b] for byte 0x80 + b, n[b] == 0
 * for a byte it leaves undefined. */
struct single_table {
    unsigned char u[128][3];
    unsigned char n[128];
};

static struct single_table *single_tables[N_ENCODINGS];
static pthread_mutex_t single_lock = PTHREAD_MUTEX_INITIALIZER;

/* e's table, made with iconv the first time (one byte at a time, so glibc's CP1258 does not
 * compose characters as the standard's windows-1258 does not), or NULL when iconv has no such
 * converter.  The tables live as long as the process. */
static const struct single_table *single_table(const struct encoding *e)
{
    size_t idx = (size_t)(e - ENCODINGS);
    struct single_table *t;

    pthread_mutex_lock(&single_lock);
    t = single_tables[idx];
    if (!t) {
        iconv_t cd = iconv_open("UTF-8", e->iconv);
        if (cd != (iconv_t)-1) {
            t = scr_xcalloc(1, sizeof(*t));
            for (unsigned b = 0; b < 128; b++) {
                char in = (char)(0x80 + b), buf[8], *ip = &in, *op = buf;
                size_t il = 1, ol = sizeof(buf);
                if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 &&
                    iconv(cd, NULL, NULL, &op, &ol) != (size_t)-1 && op - buf >= 1 &&
                    op - buf <= 3) {
                    memcpy(t->u[b], buf, (size_t)(op - buf));
                    t->n[b] = (unsigned char)(op - buf);
                } else if (strcmp(e->name, "windows-1252") == 0 && b < 0x20) {
                    t->u[b][0] = 0xC2; /* the C1 control U+0080 + b */
                    t->u[b][1] = (unsigned char)(0x80 + b);
                    t->n[b] = 2;
                }
                iconv(cd, NULL, NULL, NULL, NULL);
            }
            iconv_close(cd);
            single_tables[idx] = t;
        }
    }
    pthread_mutex_unlock(&single_lock);
    return t;
}

/* Decodes s[0..n) through a single-byte table: ASCII runs copied as they are. */
static long decode_single(const struct single_table *t, const char *s, size_t n,
                          struct scr_buf *out)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
    long repl = 0;

    scr_buf_reserve(out, n + n / 4 + 64);
    while (p < end) {
        while (end - p >= 8) { /* eight ASCII bytes at a time */
            uint64_t w;
            memcpy(&w, p, 8);
            if (w & 0x8080808080808080ULL)
                break;
            p += 8;
        }
        if (p >= end)
            break;
        if (*p < 0x80) {
            p++;
            continue;
        }
        scr_buf_append(out, run, (size_t)(p - run));
        if (t->n[*p - 0x80]) {
            scr_buf_append(out, t->u[*p - 0x80], t->n[*p - 0x80]);
        } else {
            scr_buf_append(out, FFFD, 3);
            repl++;
        }
        run = ++p;
    }
    scr_buf_append(out, run, (size_t)(p - run));
    return repl;
}

/* Decodes s[0..n) from an ASCII-compatible multi-byte encoding: ASCII runs are copied, and
 * each stretch from a non-ASCII byte on, taken in pairs (a lead byte and its trail, which may
 * be ASCII) until an ASCII byte follows a pair, goes through iconv.  So no character is cut,
 * and a page that is mostly markup is mostly copied.  -1 when iconv cannot open e. */
static long decode_multi(const struct encoding *e, const char *s, size_t n, struct scr_buf *out)
{
    iconv_t cd = iconv_open("UTF-8", e->iconv);
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p, *q;
    long repl = 0;

    if (cd == (iconv_t)-1)
        return -1;
    scr_buf_reserve(out, n + n / 2 + 64);
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        scr_buf_append(out, run, (size_t)(p - run));
        for (q = p; q < end && *q >= 0x80;)
            q += (size_t)(end - q) >= 2 ? 2 : 1;
        repl += iconv_run(cd, (const char *)p, (size_t)(q - p), out, 0);
        run = p = q;
    }
    scr_buf_append(out, run, (size_t)(p - run));
    iconv_close(cd);
    return repl;
}

/* Decodes s[0..n) from e into out (not UTF-8); returns the replacements made, or -1 when e
 * cannot be decoded on this system (iconv without that converter). */
static long decode_with(const struct encoding *e, const char *s, size_t n, struct scr_buf *out)
{
    const struct single_table *t;
    iconv_t cd;
    long repl;

    switch (e->how) {
    case HOW_SINGLE:
        if ((t = single_table(e)) == NULL)
            return -1;
        return decode_single(t, s, n, out);
    case HOW_MULTI:
        return decode_multi(e, s, n, out);
    case HOW_ICONV:
        if ((cd = iconv_open("UTF-8", e->iconv)) == (iconv_t)-1)
            return -1;
        repl = iconv_run(cd, s, n, out, 0);
        iconv_close(cd);
        return repl;
    case HOW_REPLACEMENT:
        if (n == 0)
            return 0;
        scr_buf_append(out, FFFD, 3);
        return 1;
    case HOW_USER_DEFINED:
        scr_buf_reserve(out, n * 3);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            put_cp(out, c < 0x80 ? c : 0xF780u + c - 0x80);
        }
        return 0;
    case HOW_UTF8:
        break;
    }
    return -1;
}

/* Has the decoding lost the markup: '<' in the first 1,024 bytes but none in the first 1,024
 * bytes of the text?  (UTF-16 read from an ASCII-compatible page.) */
static int markup_lost(const char *body, size_t len, const char *text, size_t tlen)
{
    size_t b = len < PRESCAN_WINDOW ? len : PRESCAN_WINDOW;
    size_t t = tlen < PRESCAN_WINDOW ? tlen : PRESCAN_WINDOW;
    return memchr(body, '<', b) != NULL && memchr(text, '<', t) == NULL;
}

void scr_decoded_release(struct scr_decoded *out)
{
    free(out->buf);
    out->buf = NULL;
    out->text = NULL;
    out->len = 0;
}

/* Sets out to body[0..len) as UTF-8: the body itself when well-formed, else a repaired copy. */
static void as_utf8(const char *body, size_t len, int valid, struct scr_decoded *out)
{
    struct scr_buf b;

    out->encoding = "UTF-8";
    if (valid) {
        out->text = body;
        out->len = len;
        return;
    }
    scr_buf_init(&b);
    scr_buf_reserve(&b, len + 64);
    utf8_repair(body, len, &b);
    out->buf = b.data;
    out->text = b.data ? b.data : "";
    out->len = b.len;
}

void scr_decode_html(const char *content_type, const char *body, size_t len,
                     struct scr_decoded *out)
{
    const struct encoding *e = NULL;
    const char *src = NULL;
    struct scr_buf b;
    int valid = -1, nonascii = 0;
    long repl;

    memset(out, 0, sizeof(*out));
    if (!body)
        len = 0;
    /* 1. a BOM: certain */
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) {
        e = &ENCODINGS[0];
        body += 3;
        len -= 3;
    } else if (len >= 2 && memcmp(body, "\xFE\xFF", 2) == 0) {
        e = find_name("UTF-16BE");
        body += 2;
        len -= 2;
    } else if (len >= 2 && memcmp(body, "\xFF\xFE", 2) == 0) {
        e = find_name("UTF-16LE");
        body += 2;
        len -= 2;
    }
    if (e)
        src = "bom";
    /* 2. the header, 3. the prescan */
    if (!e && (e = header_charset(content_type)) != NULL)
        src = "header";
    if (!e && (e = prescan(body, len, PRESCAN_WINDOW)) != NULL)
        src = "meta";
    /* 4. well-formed UTF-8, 5. a late <meta>, 6. windows-1252 */
    if (!e) {
        valid = utf8_valid(body, len, &nonascii);
        if (valid) {
            e = &ENCODINGS[0];
            src = "utf-8";
        } else if (len > PRESCAN_WINDOW &&
                   (e = prescan(body, len, LATE_META_WINDOW)) != NULL) {
            src = "meta";
        } else {
            e = find_name("windows-1252");
            src = "default";
        }
    }
    out->source = src;
    if (e->how == HOW_UTF8) {
        if (valid < 0)
            valid = utf8_valid(body, len, &nonascii);
        as_utf8(body, len, valid, out);
        return;
    }
    scr_buf_init(&b);
    repl = decode_with(e, body, len, &b);
    if (repl < 0) { /* not decodable here (iconv without that module): as windows-1252 */
        scr_buf_release(&b);
        e = find_name("windows-1252");
        repl = decode_with(e, body, len, &b);
        if (repl < 0) {
            scr_buf_release(&b);
            if (valid < 0)
                valid = utf8_valid(body, len, &nonascii);
            as_utf8(body, len, valid, out);
            return;
        }
    }
    /* A declaration plainly wrong, over a well-formed UTF-8 body: UTF-8. */
    if (strcmp(src, "bom") != 0 && strcmp(src, "default") != 0 &&
        (repl > 0 || markup_lost(body, len, b.data ? b.data : "", b.len))) {
        if (valid < 0)
            valid = utf8_valid(body, len, &nonascii);
        if (valid) {
            scr_buf_release(&b);
            out->overridden = e->name;
            as_utf8(body, len, 1, out);
            return;
        }
    }
    out->encoding = e->name;
    out->buf = b.data;
    out->text = b.data ? b.data : "";
    out->len = b.len;
}
