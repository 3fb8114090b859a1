/* test_css.c - the CSS-to-XPath compiler (parsers/css.c).
 *
 * Three kinds of cases: a table of selectors and the exact XPath (or error) they compile to;
 * selectors evaluated by libxml2 against a fixture page, comparing the nodes matched, which
 * proves the XPath means what the CSS means; and hostile input (limits, bad bytes, a random
 * search whose every successful result must compile and evaluate in libxml2).
 */
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "common/buf.h"
#include "common/error.h"
#include "parsers/css.h"
#include "tests/unit/test.h"

/* ---- translation table ----------------------------------------------------------------- */

struct xlate_case {
    const char *css;
    int relative;
    const char *want; /* the XPath, or "!" and a substring of the error message */
};

#define CLS(x) "contains(concat(' ', normalize-space(@class), ' '), ' " x " ')"
#define PREC "count(preceding-sibling::*)"

static const struct xlate_case xlate_cases[] = {
    /* type and universal selectors */
    {"p", 0, "//p"},
    {"DIV", 0, "//div"},
    {"*", 0, "//*"},
    {"p", 1, ".//p"},
    {"  h1  ", 0, "//h1"},
    {"my-widget", 0, "//my-widget"},
    {"caf\\E9", 0, "//*[name() = 'caf\xc3\xa9']"},
    {"\\31 23", 0, "//*[name() = '123']"},
    /* id and class */
    {"#main", 0, "//*[@id = 'main']"},
    {"p#a.b", 0, "//p[@id = 'a'][" CLS("b") "]"},
    {".item", 0, "//*[" CLS("item") "]"},
    {".a.B", 0, "//*[" CLS("a") "][" CLS("B") "]"},
    {"#1a", 0, "//*[@id = '1a']"},
    {".md\\:flex", 0, "//*[" CLS("md:flex") "]"},
    {"#a\\'b\\\"c", 0, "//*[@id = concat('a', \"'\", 'b\"c')]"},
    {".a\\ b", 0, "//*[false()]"},
    /* attribute tests */
    {"[href]", 0, "//*[@href]"},
    {"[HREF]", 0, "//*[@href]"},
    {"a[href='x']", 0, "//a[@href = 'x']"},
    {"a[href=\"x\"]", 0, "//a[@href = 'x']"},
    {"a[href=x]", 0, "//a[@href = 'x']"},
    {"[ href = \"x\" ]", 0, "//*[@href = 'x']"},
    {"[Data-X=100]", 0, "//*[@data-x = '100']"},
    {"[rel~=nofollow]", 0, "//*[contains(concat(' ', normalize-space(@rel), ' '), ' nofollow ')]"},
    {"[a~=\"b c\"]", 0, "//*[false()]"},
    {"[a^=v]", 0, "//*[starts-with(@a, 'v')]"},
    {"[a^=\"\"]", 0, "//*[false()]"},
    {"[a$=v]", 0, "//*[substring(@a, string-length(@a)) = 'v']"},
    {"[a$=\".pdf\"]", 0, "//*[substring(@a, string-length(@a) - 3) = '.pdf']"},
    {"[a$=\"\xe6\x97\xa5\xe6\x9c\xac\"]", 0,
     "//*[substring(@a, string-length(@a) - 1) = '\xe6\x97\xa5\xe6\x9c\xac']"},
    {"[a*=v]", 0, "//*[contains(@a, 'v')]"},
    {"[a*='']", 0, "//*[false()]"},
    {"[lang|=en]", 0, "//*[@lang = 'en' or starts-with(@lang, 'en-')]"},
    {"[a=\"\"]", 0, "//*[@a = '']"},
    {"[title=\"it's\"]", 0, "//*[@title = \"it's\"]"},
    {"[title='say \"hi\"']", 0, "//*[@title = 'say \"hi\"']"},
    {"[title=\"it's \\\"x\\\"\"]", 0, "//*[@title = concat('it', \"'\", 's \"x\"')]"},
    {"[a='x\\\ny']", 0, "//*[@a = 'xy']"},
    {"[a=\"\\0\"]", 0, "//*[@a = '\xef\xbf\xbd']"},
    {"[\\@click]", 0, "//*[@*[name() = '@click']]"},
    /* combinators */
    {"div p", 0, "//div//p"},
    {"div > p", 0, "//div/p"},
    {"div>p", 0, "//div/p"},
    {"h1 + p", 0, "//h1/following-sibling::*[1]/self::p"},
    {"h1+*", 0, "//h1/following-sibling::*[1]"},
    {"h1 + .x", 0, "//h1/following-sibling::*[1][" CLS("x") "]"},
    {"h1 ~ p", 0, "//h1/following-sibling::p"},
    {"a>b+c~d e", 0, "//a/b/following-sibling::*[1]/self::c/following-sibling::d//e"},
    {"div\n\t p", 0, "//div//p"},
    {"ul > li", 1, ".//ul/li"},
    /* pseudo-classes */
    {"li:first-child", 0, "//li[not(preceding-sibling::*)]"},
    {"li:last-child", 0, "//li[not(following-sibling::*)]"},
    {"li:only-child", 0, "//li[not(preceding-sibling::*) and not(following-sibling::*)]"},
    {"li:first-of-type", 0, "//li[not(preceding-sibling::li)]"},
    {"li:last-of-type", 0, "//li[not(following-sibling::li)]"},
    {":FIRST-CHILD", 0, "//*[not(preceding-sibling::*)]"},
    {":nth-child(3)", 0, "//*[" PREC " = 2]"},
    {":nth-child(odd)", 0, "//*[" PREC " mod 2 = 0]"},
    {":nth-child(EVEN)", 0, "//*[" PREC " mod 2 = 1]"},
    {":nth-child(2n+1)", 0, "//*[" PREC " mod 2 = 0]"},
    {":nth-child(n)", 0, "//*"},
    {":nth-child(n+3)", 0, "//*[" PREC " >= 2]"},
    {":nth-child(-n+3)", 0, "//*[" PREC " <= 2]"},
    {":nth-child(3n+5)", 0, "//*[" PREC " >= 4 and " PREC " mod 3 = 1]"},
    {":nth-child(-2n+5)", 0, "//*[" PREC " <= 4 and " PREC " mod 2 = 0]"},
    {":nth-child( +3n - 1 )", 0, "//*[" PREC " mod 3 = 1]"},
    {":nth-child(0)", 0, "//*[false()]"},
    {":nth-child(-n)", 0, "//*[false()]"},
    {"p:not(.a)", 0, "//p[not(" CLS("a") ")]"},
    {"p:NOT(#x)", 0, "//p[not(@id = 'x')]"},
    {":not(p)", 0, "//*[not(self::p)]"},
    {":not(*)", 0, "//*[not(self::*)]"},
    {"p:not(a.b)", 0, "//p[not(self::a[" CLS("b") "])]"},
    {"p:not(.a.b)", 0, "//p[not(self::*[" CLS("a") "][" CLS("b") "])]"},
    {"p:not([a]):not(.b)", 0, "//p[not(@a)][not(" CLS("b") ")]"},
    {"li:not(:first-of-type)", 0, "//li[not(not(preceding-sibling::li))]"},
    {":not(:not(p))", 0, "//*[not(not(self::p))]"},
    /* pseudo-elements */
    {"p::text", 0, "//p/text()"},
    {"a::attr(href)", 0, "//a/@href"},
    {"a::attr( DATA-ID )", 0, "//a/@data-id"},
    {"a::Text", 0, "//a/text()"},
    {"::text", 0, "//*/text()"},
    {"a::attr(href)", 1, ".//a/@href"},
    {"div a::attr(href), img::attr(src)", 0, "//div//a/@href | //img/@src"},
    /* groups */
    {"a, b", 0, "//a | //b"},
    {"a,b ,c", 1, ".//a | .//b | .//c"},
    /* errors */
    {"", 0, "!column 1: empty selector"},
    {"   ", 0, "!column 4: empty selector"},
    {"a[href", 0, "!column 7: expected ']'"},
    {"a:hover", 0, "!column 2: unsupported pseudo-class ':hover'"},
    {"a:contains(x)", 0, "!column 2: unsupported pseudo-class ':contains()'"},
    {"a::before", 0, "!column 2: unsupported pseudo-element '::before'"},
    {"a::text()", 0, "!unsupported pseudo-element '::text()'"},
    {"a:nth-child(2n+)", 0, "!column 16: expected a number, found ')'"},
    {"a:nth-child(2n + - 1)", 0, "!column 18: expected a number, found '-'"},
    {"a:nth-child(foo)", 0, "!column 13: expected an+b, 'odd' or 'even'"},
    {"a:nth-child(1234567890)", 0, "!column 13: number too large"},
    {"a:nth-child(2 n)", 0, "!column 15: expected ')', found 'n'"},
    {"a:nth-child", 0, "!column 12: expected '(' after ':nth-child'"},
    {"a:not", 0, "!column 6: expected '(' after ':not'"},
    {"p::text a", 0, "!column 9: a pseudo-element must end the selector"},
    {"p::text.x", 0, "!column 8: a pseudo-element must end the selector"},
    {"> a", 0, "!column 1: expected a selector, found '>'"},
    {"a >", 0, "!column 4: expected a selector, found end of input"},
    {"a > > b", 0, "!column 5: expected a selector, found '>'"},
    {"a,,b", 0, "!column 3: expected a selector, found ','"},
    {"a,", 0, "!column 3: expected a selector, found end of input"},
    {"a)", 0, "!column 2: unexpected ')'"},
    {"a /* c */", 0, "!column 3: expected a selector, found '/'"},
    {"svg|rect", 0, "!column 4: namespaces are not supported"},
    {"*|a", 0, "!column 1: namespaces are not supported"},
    {"[xlink|href]", 0, "!column 7: namespaces are not supported"},
    {"[a=b i]", 0, "!column 6: attribute selector flags are not supported"},
    {"[a=\"x\"y]", 0, "!column 7: expected ']'"},
    {"[a=b]]", 0, "!column 6: unexpected ']'"},
    {"[a=\"b]", 0, "!column 4: unterminated string"},
    {"[a=\"b\n\"]", 0, "!column 4: unterminated string"},
    {"[=a]", 0, "!column 2: expected an attribute name, found '='"},
    {"[a==b]", 0, "!column 4: expected a value, found '='"},
    {"[a!=b]", 0, "!column 3: expected ']'"},
    {"[a=\"\\1\"]", 0, "!column 5: escape gives U+0001, which XPath cannot express"},
    {":first-of-type", 0, "!column 1: ':first-of-type' needs an element name"},
    {".x:not(:last-of-type)", 0, "!column 8: ':last-of-type' needs an element name"},
    {":not(a b)", 0, "!column 8: ':not()' takes one compound selector, without combinators"},
    {":not(a>b)", 0, "!column 7: ':not()' takes one compound selector, without combinators"},
    {":not(a, b)", 0, "!column 7: ':not()' takes one compound selector, not a list"},
    {":not(::text)", 0, "!column 6: pseudo-elements are not allowed inside ':not()'"},
    {":not(a", 0, "!column 7: expected ')', found end of input"},
    {":not()", 0, "!column 6: expected a selector, found ')'"},
    {".", 0, "!column 2: expected a class name after '.'"},
    {".1a", 0, "!column 2: expected a class name after '.'"},
    {"a#", 0, "!column 3: expected a name after '#'"},
    {"a:", 0, "!column 3: expected a pseudo-class name after ':', found end of input"},
    {"a::attr", 0, "!column 8: expected '(' after '::attr'"},
    {"a::attr()", 0, "!column 9: expected an attribute name, found ')'"},
    {"a\\", 0, "!column 2: unfinished escape at end of input"},
    {"a\x01", 0, "!column 2: character U+0001 is not allowed"},
    {"\xc3\xa9\xff", 0, "!column 2: invalid UTF-8"},
    {"\xed\xa0\x80", 0, "!column 1: invalid UTF-8"}, /* a surrogate */
    {"\xc0\xaf", 0, "!column 1: invalid UTF-8"},     /* overlong */
    {"\xc3\xa9 > ]", 0, "!column 5: expected a selector, found ']'"},
};

TEST(translate)
{
    char err[256], *xp;
    size_t i, failures = 0;
    int rc;

    for (i = 0; i < sizeof xlate_cases / sizeof xlate_cases[0]; i++) {
        const struct xlate_case *tc = &xlate_cases[i];
        int want_err = tc->want[0] == '!';

        rc = scr_css_to_xpath(tc->css, tc->relative, &xp, err, sizeof err);
        if (want_err && (rc != SCR_EPARSE || xp || !strstr(err, tc->want + 1))) {
            fprintf(stderr, "case %zu: css \"%s\": want error \"%s\", got rc %d, \"%s\"\n", i,
                    tc->css, tc->want + 1, rc, rc ? err : xp);
            failures++;
        } else if (!want_err && (rc != 0 || strcmp(xp, tc->want) != 0)) {
            fprintf(stderr, "case %zu: css \"%s\":\n  want %s\n  got  %s\n", i, tc->css,
                    tc->want, rc ? err : xp);
            failures++;
        } else if (!want_err) {
            /* every expected XPath is itself valid XPath */
            xmlXPathCompExprPtr comp = xmlXPathCompile((const xmlChar *)xp);
            if (!comp) {
                fprintf(stderr, "case %zu: libxml2 cannot compile %s\n", i, xp);
                failures++;
            }
            xmlXPathFreeCompExpr(comp);
        }
        free(xp);
    }
    fprintf(stderr, "   %zu translation cases\n", i);
    ASSERT_EQ(failures, 0);
}

/* ---- evaluation against a page --------------------------------------------------------- */

static const char page_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head><title id=\"title\">Fixture</title></head>\n"
    "<body id=\"body\">\n"
    "<div id=\"main\" class=\"content  main\" data-role=\"page\">\n"
    "<h1 id=\"h1\" class=\"title\">Heading</h1>\n"
    "<p id=\"p1\" class=\"intro\tlead\">First <b id=\"b1\">bold</b> para</p>\n"
    "<p id=\"p2\" class=\"x-intro\" lang=\"en-GB\">Second</p>\n"
    "<p id=\"p3\" title=\"it's &quot;quoted&quot;\" lang=\"en\">Third</p>\n"
    "<ul id=\"list\">\n"
    "<li id=\"li1\" class=\"item\">one</li>\n"
    "<li id=\"li2\" class=\"item odd\">two</li>\n"
    "<li id=\"li3\" class=\"item\">three</li>\n"
    "<li id=\"li4\" class=\"item\">four</li>\n"
    "<li id=\"li5\" class=\"item last\">five</li>\n"
    "</ul>\n"
    "<a id=\"a1\" href=\"https://example.com/page.html\" hreflang=\"en\">ext</a>\n"
    "<a id=\"a2\" href=\"/local/doc.pdf\" hreflang=\"en-GB\" rel=\"nofollow noopener\">pdf</a>\n"
    "<a id=\"a3\" href=\"#top\" hreflang=\"english\" rel=\"nofollowing\">top</a>\n"
    "<span id=\"s1\" DATA-X=\"Upper\">upper</span>\n"
    "<div id=\"inner\"><span id=\"s2\">only</span></div>\n"
    "<section id=\"sec\"><em id=\"e1\">1</em><i id=\"i1\">2</i><em id=\"e2\">3</em>"
    "<i id=\"i2\">4</i><em id=\"e3\">5</em></section>\n"
    "</div>\n"
    "<div id=\"footer\" class=\"main-footer\"><p id=\"p4\">Foot</p></div>\n"
    "</body>\n"
    "</html>\n";

struct eval_case {
    const char *css;
    const char *context; /* id of the context node for a relative selector, or NULL */
    const char *want;    /* the matched nodes, described by describe_nodes() */
};

static const struct eval_case eval_cases[] = {
    {"p", NULL, "p1,p2,p3,p4"},
    {"div p", NULL, "p1,p2,p3,p4"},
    {"#main > p", NULL, "p1,p2,p3"},
    {"body > div", NULL, "main,footer"},
    {"div div span", NULL, "s2"},
    {"html", NULL, "<html>"},
    {".main", NULL, "main"},
    {"[class*=main]", NULL, "main,footer"},
    {".intro", NULL, "p1"},
    {".lead.intro", NULL, "p1"},
    {"[class~=lead]", NULL, "p1"},
    {"[class$=intro]", NULL, "p2"},
    {"[class^=x]", NULL, "p2"},
    {"a[href$=\".pdf\"]", NULL, "a2"},
    {"a[href^=http]", NULL, "a1"},
    {"a[href*=\"/local/\"]", NULL, "a2"},
    {"a[hreflang|=en]", NULL, "a1,a2"},
    {"a[rel~=nofollow]", NULL, "a2"},
    {"[title=\"it's \\\"quoted\\\"\"]", NULL, "p3"},
    {"[lang=\"en\"]", NULL, "<html>,p3"},
    {"[id$=1]", NULL, "h1,p1,b1,li1,a1,s1,e1,i1"},
    {"[data-x=Upper]", NULL, "s1"},
    {"SPAN[DATA-X]", NULL, "s1"},
    {"*#li3", NULL, "li3"},
    {"#S1", NULL, ""},
    {".nomatch", NULL, ""},
    {"h1 + p", NULL, "p1"},
    {"h1 ~ p", NULL, "p1,p2,p3"},
    {"p + p", NULL, "p2,p3"},
    {"p ~ ul", NULL, "list"},
    {"h1 + ul", NULL, ""},
    {"section > em + i", NULL, "i1,i2"},
    {"section > i ~ em", NULL, "e2,e3"},
    {"ul li:nth-child(2) ~ li", NULL, "li3,li4,li5"},
    {"li:first-child", NULL, "li1"},
    {"li:last-child", NULL, "li5"},
    {"p:first-child", NULL, "p4"},
    {"li:nth-child(2)", NULL, "li2"},
    {"li:nth-child(odd)", NULL, "li1,li3,li5"},
    {"li:nth-child(even)", NULL, "li2,li4"},
    {"li:nth-child(-n+2)", NULL, "li1,li2"},
    {"li:nth-child(n+4)", NULL, "li4,li5"},
    {"li:nth-child(3n)", NULL, "li3"},
    {"#main > *:nth-child(1)", NULL, "h1"},
    {"span:only-child", NULL, "s2"},
    {"em:first-of-type", NULL, "e1"},
    {"em:last-of-type", NULL, "e3"},
    {"#sec > i:last-of-type", NULL, "i2"},
    {"#sec > :first-child", NULL, "e1"},
    {"#sec > :last-child", NULL, "e3"},
    {"#sec > :nth-child(2n)", NULL, "i1,i2"},
    {"li:not(.odd)", NULL, "li1,li3,li4,li5"},
    {"li:not(:first-child):not(:last-child)", NULL, "li2,li3,li4"},
    {"em:not(:first-of-type)", NULL, "e2,e3"},
    {"#sec > :not(em)", NULL, "i1,i2"},
    {"p:not([lang])", NULL, "p1,p4"},
    {"p:not(.intro.lead)", NULL, "p2,p3,p4"},
    {"h1::text", NULL, "Heading"},
    {"p#p1::text", NULL, "'First ',' para'"},
    {"a::attr(href)", NULL, "@href=https://example.com/page.html,@href=/local/doc.pdf,@href=#top"},
    {"#a2::attr(REL)", NULL, "@rel=nofollow noopener"},
    {"h1, #footer p", NULL, "h1,p4"},
    {"#p4, h1", NULL, "h1,p4"},
    {"li.item, .item", NULL, "li1,li2,li3,li4,li5"},
    /* relative to a context node: its descendants, never the node itself */
    {"div", "main", "inner"},
    {"p", "main", "p1,p2,p3"},
    {"span", "main", "s1,s2"},
    {"li.item:nth-child(2n)", "main", "li2,li4"},
    {"a::attr(hreflang)", "main", "@hreflang=en,@hreflang=en-GB,@hreflang=english"},
    {"li", "list", "li1,li2,li3,li4,li5"},
    {"li:last-child::text", "list", "five"},
    {"*", "inner", "s2"},
    {"p, h1", "footer", "p4"},
    {"ul > li:first-child + li", "main", "li2"},
};

/* Describes a node set: elements by id (or "<name>"), text nodes by their text quoted when
 * it has edge spaces, attributes as "@name=value"; joined with commas. */
static int describe_nodes(xmlNodeSetPtr ns, struct scr_buf *out)
{
    int i, rc = 0;

    scr_buf_reset(out);
    rc = scr_buf_puts(out, "");
    for (i = 0; ns && i < ns->nodeNr && !rc; i++) {
        xmlNodePtr n = ns->nodeTab[i];
        xmlChar *s = NULL;

        if (i)
            rc = scr_buf_putc(out, ',');
        if (rc)
            break;
        if (n->type == XML_ELEMENT_NODE) {
            s = xmlGetProp(n, (const xmlChar *)"id");
            rc = s ? scr_buf_puts(out, (const char *)s)
                   : scr_buf_printf(out, "<%s>", (const char *)n->name);
        } else if (n->type == XML_TEXT_NODE) {
            s = xmlNodeGetContent(n);
            const char *t = s ? (const char *)s : "";
            size_t len = strlen(t);
            int edge = len && (t[0] == ' ' || t[len - 1] == ' ');
            rc = scr_buf_printf(out, edge ? "'%s'" : "%s", t);
        } else if (n->type == XML_ATTRIBUTE_NODE) {
            s = xmlNodeGetContent(n);
            rc = scr_buf_printf(out, "@%s=%s", (const char *)n->name, s ? (const char *)s : "");
        } else {
            rc = scr_buf_printf(out, "?%d", (int)n->type);
        }
        xmlFree(s);
    }
    return rc;
}

static xmlDocPtr read_html(const char *html)
{
    return htmlReadMemory(html, (int)strlen(html), "page.html", "UTF-8",
                          HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
                              HTML_PARSE_NOWARNING);
}

static xmlNodePtr find_id(xmlXPathContextPtr ctx, const char *id)
{
    char expr[128];
    xmlXPathObjectPtr r;
    xmlNodePtr n = NULL;

    snprintf(expr, sizeof expr, "//*[@id = '%s']", id);
    r = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
    if (r && r->nodesetval && r->nodesetval->nodeNr == 1)
        n = r->nodesetval->nodeTab[0];
    xmlXPathFreeObject(r);
    return n;
}

/* Evaluates xpath (relative to node `at` when not NULL) and describes the result into out.
 * Returns 0, or -1 when libxml2 could not evaluate it. */
static int eval_describe(xmlXPathContextPtr ctx, xmlNodePtr at, const char *xpath,
                         struct scr_buf *out)
{
    xmlXPathObjectPtr r;
    int rc = -1;

    if (at)
        r = xmlXPathNodeEval(at, (const xmlChar *)xpath, ctx);
    else
        r = xmlXPathEvalExpression((const xmlChar *)xpath, ctx);
    if (r && r->type == XPATH_NODESET)
        rc = describe_nodes(r->nodesetval, out) ? -1 : 0;
    xmlXPathFreeObject(r);
    return rc;
}

TEST(evaluate)
{
    xmlDocPtr doc = read_html(page_html);
    xmlXPathContextPtr ctx;
    struct scr_buf got;
    char err[256], *xp;
    size_t i, failures = 0;

    ASSERT(doc != NULL);
    ctx = xmlXPathNewContext(doc);
    ASSERT(ctx != NULL);
    scr_buf_init(&got);
    for (i = 0; i < sizeof eval_cases / sizeof eval_cases[0]; i++) {
        const struct eval_case *tc = &eval_cases[i];
        xmlNodePtr at = NULL;
        int rc;

        if (tc->context) {
            at = find_id(ctx, tc->context);
            ASSERT(at != NULL);
        }
        rc = scr_css_to_xpath(tc->css, at != NULL, &xp, err, sizeof err);
        if (rc) {
            fprintf(stderr, "case %zu: css \"%s\": %s\n", i, tc->css, err);
            failures++;
            continue;
        }
        if (eval_describe(ctx, at, xp, &got) != 0) {
            fprintf(stderr, "case %zu: css \"%s\": libxml2 cannot evaluate %s\n", i, tc->css,
                    xp);
            failures++;
        } else if (strcmp(got.data, tc->want) != 0) {
            fprintf(stderr, "case %zu: css \"%s\" (%s):\n  want %s\n  got  %s\n", i, tc->css, xp,
                    tc->want, got.data);
            failures++;
        }
        free(xp);
    }
    fprintf(stderr, "   %zu evaluation cases\n", i);
    scr_buf_release(&got);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    ASSERT_EQ(failures, 0);
}

/* :nth-child(an+b) for every small a and b, against the definition: position p matches when
 * p = a*n + b for some integer n >= 0. */
TEST(nth_child_exhaustive)
{
    static const char html[] = "<html><body><div id=\"o\">"
                               "<b id=\"n1\"></b><i id=\"n2\"></i><b id=\"n3\"></b>"
                               "<b id=\"n4\"></b><i id=\"n5\"></i><u id=\"n6\"></u>"
                               "<b id=\"n7\"></b><i id=\"n8\"></i><b id=\"n9\"></b>"
                               "<b id=\"n10\"></b></div></body></html>";
    xmlDocPtr doc = read_html(html);
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    struct scr_buf got, want;
    char css[64], err[256], *xp;
    int a, b, p, failures = 0, count = 0;

    ASSERT(doc && ctx);
    scr_buf_init(&got);
    scr_buf_init(&want);
    for (a = -5; a <= 5; a++) {
        for (b = -7; b <= 13; b++) {
            scr_buf_reset(&want);
            ASSERT_EQ(scr_buf_puts(&want, ""), 0);
            for (p = 1; p <= 10; p++) {
                int hit = a == 0 ? p == b : (p - b) % a == 0 && (p - b) / a >= 0;
                if (hit)
                    ASSERT_EQ(scr_buf_printf(&want, "%sn%d", want.len ? "," : "", p), 0);
            }
            snprintf(css, sizeof css, "#o > :nth-child(%dn%+d)", a, b);
            ASSERT_EQ(scr_css_to_xpath(css, 0, &xp, err, sizeof err), 0);
            ASSERT_EQ(eval_describe(ctx, NULL, xp, &got), 0);
            if (strcmp(got.data, want.data) != 0) {
                fprintf(stderr, "case a=%d b=%d: css \"%s\" (%s):\n  want %s\n  got  %s\n", a,
                        b, css, xp, want.data, got.data);
                failures++;
            }
            free(xp);
            count++;
        }
    }
    fprintf(stderr, "   %d an+b cases\n", count);
    scr_buf_release(&got);
    scr_buf_release(&want);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    ASSERT_EQ(failures, 0);
}

/* ---- hostile input --------------------------------------------------------------------- */

TEST(limits)
{
    char *big = malloc(SCR_CSS_MAX_LEN + 2);
    char err[256], tiny[8], *xp = (char *)"untouched";
    struct scr_buf deep;
    int i;

    ASSERT(big != NULL);
    /* exactly the limit compiles; one byte more is refused */
    big[0] = '.';
    memset(big + 1, 'x', SCR_CSS_MAX_LEN - 1);
    big[SCR_CSS_MAX_LEN] = '\0';
    ASSERT_EQ(scr_css_to_xpath(big, 0, &xp, err, sizeof err), 0);
    ASSERT_GT(strlen(xp), SCR_CSS_MAX_LEN);
    free(xp);
    big[SCR_CSS_MAX_LEN] = 'x';
    big[SCR_CSS_MAX_LEN + 1] = '\0';
    ASSERT_EQ(scr_css_to_xpath(big, 0, &xp, err, sizeof err), SCR_ETOOBIG);
    ASSERT(xp == NULL);
    ASSERT(strstr(err, "longer than 4096 bytes") != NULL);
    /* many compounds up to the limit */
    for (i = 0; i + 2 <= SCR_CSS_MAX_LEN; i += 2)
        memcpy(big + i, "a ", 2);
    big[i] = '\0';
    ASSERT_EQ(scr_css_to_xpath(big, 1, &xp, err, sizeof err), 0);
    free(xp);
    free(big);

    /* :not() nesting: the limit compiles, one more is refused; thousands do not recurse */
    scr_buf_init(&deep);
    for (i = 0; i < SCR_CSS_MAX_DEPTH; i++)
        ASSERT_EQ(scr_buf_puts(&deep, ":not("), 0);
    ASSERT_EQ(scr_buf_puts(&deep, "a"), 0);
    for (i = 0; i < SCR_CSS_MAX_DEPTH; i++)
        ASSERT_EQ(scr_buf_putc(&deep, ')'), 0);
    ASSERT_EQ(scr_css_to_xpath(deep.data, 0, &xp, err, sizeof err), 0);
    free(xp);
    scr_buf_reset(&deep);
    for (i = 0; i <= SCR_CSS_MAX_DEPTH; i++)
        ASSERT_EQ(scr_buf_puts(&deep, ":not("), 0);
    ASSERT_EQ(scr_css_to_xpath(deep.data, 0, &xp, err, sizeof err), SCR_EPARSE);
    ASSERT(strstr(err, "nested too deeply") != NULL);
    scr_buf_reset(&deep);
    for (i = 0; i < 800; i++)
        ASSERT_EQ(scr_buf_puts(&deep, ":not("), 0);
    ASSERT_EQ(scr_css_to_xpath(deep.data, 0, &xp, err, sizeof err), SCR_EPARSE);
    scr_buf_release(&deep);

    /* bad arguments, no room for a message, a truncated message */
    ASSERT_EQ(scr_css_to_xpath(NULL, 0, &xp, err, sizeof err), SCR_EINVAL);
    ASSERT_EQ(scr_css_to_xpath("a", 0, NULL, err, sizeof err), SCR_EINVAL);
    ASSERT_EQ(scr_css_to_xpath("a[", 0, &xp, NULL, 0), SCR_EPARSE);
    ASSERT_EQ(scr_css_to_xpath("a[", 0, &xp, tiny, 0), SCR_EPARSE);
    ASSERT_EQ(scr_css_to_xpath("a[", 0, &xp, tiny, sizeof tiny), SCR_EPARSE);
    ASSERT_STR_EQ(tiny, "column ");
    ASSERT_EQ(scr_css_to_xpath("a", 0, &xp, NULL, 0), 0);
    ASSERT_STR_EQ(xp, "//a");
    free(xp);
}

/* Every byte value alone, inside a string and inside a name: no crash, and what compiles is
 * valid XPath (and what fails says where). */
static void check_one(xmlXPathContextPtr ctx, const char *css, int *failures)
{
    char err[256], *xp;
    int rc = scr_css_to_xpath(css, 0, &xp, err, sizeof err);

    if (rc == 0) {
        xmlXPathObjectPtr r = xmlXPathEvalExpression((const xmlChar *)xp, ctx);
        if (!r || r->type != XPATH_NODESET) {
            fprintf(stderr, "css \"%s\": libxml2 cannot evaluate %s\n", css, xp);
            (*failures)++;
        }
        xmlXPathFreeObject(r);
        free(xp);
    } else if ((rc != SCR_EPARSE && rc != SCR_ETOOBIG) || xp ||
               (rc == SCR_EPARSE && strncmp(err, "column ", 7) != 0)) {
        fprintf(stderr, "css \"%s\": rc %d, err \"%s\"\n", css, rc, err);
        (*failures)++;
    }
}

TEST(all_bytes)
{
    xmlDocPtr doc = read_html(page_html);
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    char css[32];
    int c, failures = 0;

    ASSERT(doc && ctx);
    for (c = 1; c < 256; c++) {
        snprintf(css, sizeof css, "%c", c);
        check_one(ctx, css, &failures);
        snprintf(css, sizeof css, "a[b='%c']", c);
        check_one(ctx, css, &failures);
        snprintf(css, sizeof css, "a[b=\"x%cy\"]", c);
        check_one(ctx, css, &failures);
        snprintf(css, sizeof css, "p%c.q", c);
        check_one(ctx, css, &failures);
        snprintf(css, sizeof css, "[a\\%c]", c);
        check_one(ctx, css, &failures);
        snprintf(css, sizeof css, ".\\%x x", c);
        check_one(ctx, css, &failures);
    }
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    ASSERT_EQ(failures, 0);
}

/* Random selectors made of CSS-significant pieces: whatever compiles must evaluate. */
#define RANDOM_ITERATIONS 100000
TEST(random_selectors)
{
    static const char *const pieces[] = {
        "a", "div", "LI", "p", "*", ".item", ".x", "#main", "#1", "[", "]", "href", "=",
        "~=", "^=", "$=", "*=", "|=", "'", "\"", "it's", "(", ")", ":", "::", "not",
        "nth-child", "first-child", "first-of-type", "only-child", "text", "attr", "odd",
        "2n+1", "-n", "+", "-", "3", " ", "  ", ">", "~", ",", "\\", "\\31 ", "\\'", "\xc3\xa9",
        "\xe6\x97\xa5", "|", "@", "\t", "\n", "n", "i",
    };
    xmlDocPtr doc = read_html(page_html);
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    struct scr_buf css;
    unsigned long long state = 0x9e3779b97f4a7c15ull;
    int iter, k, n, failures = 0, compiled = 0;

    ASSERT(doc && ctx);
    scr_buf_init(&css);
    for (iter = 0; iter < RANDOM_ITERATIONS; iter++) {
        scr_buf_reset(&css);
        ASSERT_EQ(scr_buf_puts(&css, ""), 0);
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        n = 1 + (int)((state >> 33) % 14);
        for (k = 0; k < n; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            ASSERT_EQ(scr_buf_puts(&css, pieces[(state >> 33) % (sizeof pieces / sizeof *pieces)]),
                      0);
        }
        check_one(ctx, css.data, &failures);
        {
            char err[256], *xp;
            if (scr_css_to_xpath(css.data, 1, &xp, err, sizeof err) == 0) {
                compiled++;
                free(xp);
            }
        }
    }
    fprintf(stderr, "   %d random selectors, %d compiled\n", RANDOM_ITERATIONS, compiled);
    scr_buf_release(&css);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    ASSERT_EQ(failures, 0);
}

int main(void)
{
    xmlInitParser();
    RUN(translate);
    RUN(evaluate);
    RUN(nth_child_exhaustive);
    RUN(limits);
    RUN(all_bytes);
    RUN(random_selectors);
    xmlCleanupParser();
    return 0;
}
