#!/usr/bin/env python3
"""sitegen: write a deterministic small web shop as static files.

    sitegen.py --out DIR --pages N [--seed S] [--page-kb K] [--write-manifest] [--force]

The same arguments give byte-identical output. Exactly N pages are written
(every .html file counts; robots.txt, sitemap.xml and manifest.json do not).
N must be at least 20. Absolute links are written as @ORIGIN@/..., which
tests/server/siteserver.py replaces with its own http://host:port.

Layout (URL path -> file):

    /                       index.html: home, new arrivals, categories
    /about.html, /contact.html
    /info/shipping.html, /info/returns.html
                            info pages; the /info/ ones carry
                            <base href="@ORIGIN@/"> and relative links that
                            resolve against it (a crawler that ignores <base>
                            asks for /info/c/... and gets 404s)
    /c/<slug>/              c/<slug>/index.html: category, first listing page
    /c/<slug>/page-K.html   listing page K (K >= 2), linked only from pages
                            K-1 and K+1, so page K sits at depth K
    /p/<id>.html            product page: <h1> name, <p class="price">£1,234.56,
                            <tr><th>SKU</th><td>SKU-00012</td></tr>, JSON-LD
                            Product (name, sku, offers.price)
    /archive/K.html         news archive; K+1 is linked only from K
                            ("Older posts"), so /archive/K.html is at depth K
    /robots.txt             allows everything; Sitemap: @ORIGIN@/sitemap.xml
    /sitemap.xml            every page
    /manifest.json          (--write-manifest) pages, files and product data

Every page has a full head (title, meta description, canonical, Open Graph and
twitter tags, lang) and a large navigation menu linking home, every
category, the info pages, /archive/1.html and six featured products, written
in a mix of relative, root-relative and absolute forms, with duplicates,
fragments (#reviews), surrounding whitespace and dot segments; plus inline
<script> and <style> noise (holding link-like text that is not a link), an
HTML comment holding a link, and links that must not be followed: mailto:,
tel:, javascript: and http(s)://elsewhere.invalid/.

Products are spread round-robin over the categories, 12 to a listing page, so
the products of listing page K are at depth K+1; six featured products (in
the menu) are at depth 1, as are the six newest (linked from home).
"""

import argparse
import html
import json
import os
import posixpath
import random
import shutil
import sys

PER_PAGE = 12
N_FEATURED = 6
N_NEW = 6
MIN_PAGES = 20

CATEGORIES = [
    ("garden-outdoor", "Garden & Outdoor"),
    ("kitchen", "Kitchen"),
    ("lighting", "Lighting"),
    ("furniture", "Furniture"),
    ("books", "Books"),
    ("toys-games", "Toys & Games"),
    ("bath", "Bath"),
    ("stationery", "Stationery"),
]

ADJECTIVES = ["Classic", "Rustic", "Modern", "Compact", "Deluxe", "Handmade", "Vintage",
              "Nordic", "Crème", "Essential", "Premium", "Smart", "Folding", "Café",
              "Heritage", "Minimal", "Cosy", "Bright", "Sturdy", "Elegant"]
MATERIALS = ["Oak", "Walnut", "Brass", "Ceramic", "Linen", "Bamboo", "Steel", "Copper",
             "Glass", "Wool", "Cotton", "Slate", "Marble", "Pine", "Rattan"]
NOUNS = ["Lamp", "Chair", "Table", "Mug", "Kettle", "Notebook", "Planter", "Shelf",
         "Blanket", "Salt & Pepper Mill", "Bowl", "Clock", "Mirror", "Vase", "Stool",
         "Tray", "Board Game", "Journal", "Towel Set", "Pen Set", "Bench", "Lantern"]
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud "
         "exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure "
         "in reprehenderit voluptate velit esse cillum fugiat nulla pariatur").split()


# ---------------------------------------------------------------------------
# Plan: which pages exist


class Plan:
    """The site's pages and data, computed from (pages, seed) alone."""

    def __init__(self, n_pages, seed):
        if n_pages < MIN_PAGES:
            raise ValueError("--pages must be at least %d" % MIN_PAGES)
        self.rng = random.Random(seed)
        self.seed = seed
        self.info = ["/about.html", "/contact.html", "/info/shipping.html", "/info/returns.html"]
        self.n_archive = max(6, min(40, n_pages // 25))
        n_cat = max(2, min(len(CATEGORIES), n_pages // 60))
        self.categories = CATEGORIES[:n_cat]
        rest = n_pages - 1 - len(self.info) - self.n_archive
        # Largest product count M whose listing pages L(M) fit: M + L(M) <= rest.
        # M + L(M) grows by 1 or 2 per product, so at most one page is left
        # over; it becomes one more archive page.
        m = rest
        while m > 0 and m + self._listing_pages_total(m) > rest:
            m -= 1
        self.n_products = m
        self.n_archive += rest - m - self._listing_pages_total(m)
        assert 1 + len(self.info) + self.n_archive + m + self._listing_pages_total(m) == n_pages

        self.products = []  # index id-1
        for pid in range(1, m + 1):
            cents = self.rng.choice([self.rng.randint(99, 9999), self.rng.randint(1000, 99999),
                                     self.rng.randint(100000, 250000)])
            name = "%s %s %s" % (self.rng.choice(ADJECTIVES), self.rng.choice(MATERIALS),
                                 self.rng.choice(NOUNS))
            cat = (pid - 1) % n_cat
            self.products.append({
                "id": pid,
                "name": name,
                "sku": "SKU-%05d" % pid,
                "cents": cents,
                "price": "%d.%02d" % (cents // 100, cents % 100),
                "price_text": "£{:,}.{:02d}".format(cents // 100, cents % 100),
                "category": self.categories[cat][0],
                "position": (pid - 1) // n_cat,
                "stock": self.rng.choice(["InStock", "InStock", "InStock", "OutOfStock"]),
            })
        self.featured = sorted(self.rng.sample(range(1, m + 1), min(N_FEATURED, m)))
        self.newest = list(range(m, max(0, m - N_NEW), -1))

    def _cat_counts(self, m):
        n_cat = len(self.categories)
        return [len(range(i + 1, m + 1, n_cat)) for i in range(n_cat)]

    def _listing_pages_total(self, m):
        return sum(self.listing_pages(c) for c in self._cat_counts(m))

    @staticmethod
    def listing_pages(count):
        """Listing pages for a category of count products (at least one)."""
        return max(1, -(-count // PER_PAGE))

    def cat_products(self, slug):
        return [p for p in self.products if p["category"] == slug]

    def pages(self):
        """Every page's URL path, in a stable order."""
        out = ["/"] + list(self.info)
        for slug, _ in self.categories:
            out.append("/c/%s/" % slug)
            for k in range(2, self.listing_pages(len(self.cat_products(slug))) + 1):
                out.append("/c/%s/page-%d.html" % (slug, k))
        out += ["/p/%d.html" % p["id"] for p in self.products]
        out += ["/archive/%d.html" % k for k in range(1, self.n_archive + 1)]
        return out


def url_to_file(path):
    """URL path -> file path relative to the site root."""
    return (path + "index.html" if path.endswith("/") else path).lstrip("/")


# ---------------------------------------------------------------------------
# Links


class Linker:
    """Writes hrefs from one page, rotating through link styles so every page
    mixes relative, up-and-down relative, root-relative and absolute forms."""

    STYLES = ("rel", "root", "abs", "uprel")

    def __init__(self, page_path, base_dir=None, offset=0):
        self.page_dir = base_dir or posixpath.dirname(page_path) or "/"
        self.n = offset

    def href(self, target, style=None, fragment=""):
        if style is None:
            style = self.STYLES[self.n % len(self.STYLES)]
            self.n += 1
        if style == "abs":
            h = "@ORIGIN@" + target
        elif style == "root":
            h = target
        elif style == "uprel":
            depth = len([p for p in self.page_dir.split("/") if p])
            h = "../" * depth + target.lstrip("/")
            if h == "":
                h = "./"
        else:
            if target.endswith("/"):
                h = posixpath.relpath(target, self.page_dir) + "/"
                if h == "./":
                    h = "./"
            else:
                h = posixpath.relpath(target, self.page_dir)
        return html.escape(h + fragment, quote=True)


# ---------------------------------------------------------------------------
# Page pieces


def esc(text):
    return html.escape(text, quote=True)


def head(path, title, description, og_type="website", base=False, extra=""):
    canon = "@ORIGIN@" + path
    return """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{t} | Acme Home Shop</title>
<meta name="description" content="{d}">
<link rel="canonical" href="{c}">
{base}<meta property="og:type" content="{ot}">
<meta property="og:title" content="{t}">
<meta property="og:description" content="{d}">
<meta property="og:url" content="{c}">
<meta property="og:site_name" content="Acme Home Shop">
<meta name="twitter:card" content="summary">
<meta name="twitter:title" content="{t}">
<meta name="twitter:description" content="{d}">
<style>
  body {{ font-family: Georgia, serif; margin: 0 auto; max-width: 72em; }}
  .nav a[href^="/p/"]::after {{ content: " \\2192"; }}
  .hero {{ background: url(/img/hero-does-not-exist.jpg) no-repeat; }}
  .price {{ font-weight: bold; color: #a30; }}
</style>
<script>
  window.dataLayer = window.dataLayer || [];
  var tracker = {{ page: "{p}", template: '<a href="/p/999999.html">not a link</a>' }};
  if (1 < 2 && tracker.page) {{ dataLayer.push(tracker); }}
</script>
{extra}</head>
""".format(t=esc(title), d=esc(description), c=esc(canon), ot=og_type, p=esc(path),
           base='<base href="@ORIGIN@/">\n' if base else "", extra=extra)


def nav(plan, lk):
    """The large navigation menu shared by every page."""
    out = ['<header class="nav">',
           '<a class="logo" href="%s">Acme Home Shop</a>' % lk.href("/"),
           '<nav><ul class="menu">',
           '<li><a href="%s">Home</a></li>' % lk.href("/")]
    for slug, name in plan.categories:
        out.append('<li class="cat"><a href="%s">%s</a></li>' % (lk.href("/c/%s/" % slug),
                                                               esc(name)))
    out.append('<li class="featured">Featured<ul>')
    for i, pid in enumerate(plan.featured):
        p = plan.products[pid - 1]
        frag = "#reviews" if i == 0 else ""
        out.append('<li><a href="%s">%s</a></li>' % (lk.href("/p/%d.html" % pid, fragment=frag),
                                                     esc(p["name"])))
    out.append("</ul></li>")
    for path, label in (("/about.html", "About us"), ("/contact.html", "Contact"),
                        ("/info/shipping.html", "Shipping"), ("/info/returns.html", "Returns"),
                        ("/archive/1.html", "News")):
        out.append('<li><a href="%s">%s</a></li>' % (lk.href(path), label))
    out += ['<li><a href="javascript:void(0)" onclick="openCart()">Basket (0)</a></li>',
            '<li><a href="http://elsewhere.invalid/partners/">Partners</a></li>',
            "</ul></nav>",
            '<form class="search" action="/search" method="get"><input name="q">'
            '<button>Search</button></form>',
            "<!-- old menu: <a href=\"/hidden/old-menu.html\">Old</a> -->",
            "</header>"]
    return "\n".join(out) + "\n"


def footer(plan, lk):
    return "\n".join([
        '<footer>',
        '<p><a href="%s">Back to top</a> | <a href=" %s ">About</a> | '
        '<a href="@ORIGIN@/info/../contact.html">Contact us</a> | '
        '<a href="mailto:shop@example.com">shop@example.com</a> | '
        '<a href="tel:+441234567890">Call us</a></p>' % (lk.href("/", fragment="#top"),
                                                         lk.href("/about.html", "root")),
        '<p>Follow us: <a href="https://elsewhere.invalid/social/acme">Social</a> '
        '<a href="http://elsewhere.invalid/blog/%d">Blog</a></p>' % len(plan.products),
        '<p>&copy; 2024 Acme Home Shop Ltd. Prices include VAT.</p>',
        '<script>document.addEventListener("click", function (e) { '
        'if (e.target.href && e.target.href.indexOf("</p>") > 0) { e.preventDefault(); } });'
        '</script>',
        "</footer>\n</body>\n</html>\n"])


def filler(rng, n_words):
    words = [rng.choice(WORDS) for _ in range(n_words)]
    if words:
        words[0] = words[0].capitalize()
    return " ".join(words) + "."


def pad(body, rng, page_kb):
    """Add filler paragraphs until the page is about page_kb KiB."""
    if page_kb <= 0:
        return body
    parts = []
    size = len(body.encode("utf-8"))
    while size < page_kb * 1024:
        para = "<p class=\"filler\">%s</p>\n" % filler(rng, 60)
        parts.append(para)
        size += len(para)
    return body + '<section class="more">\n' + "".join(parts) + "</section>\n"


def product_card(p, lk):
    href = lk.href("/p/%d.html" % p["id"])
    return ('<div class="card"><a href="%s"><h3>%s</h3></a><p class="card-price">%s</p>'
            '<a class="view" href="%s">View</a></div>'
            % (href, esc(p["name"]), esc(p["price_text"]), href))


# ---------------------------------------------------------------------------
# Pages


def page_home(plan, rng, kb):
    path = "/"
    lk = Linker(path)
    body = ['<body id="top">', nav(plan, lk), "<main>",
            '<section class="hero"><h1>Welcome to Acme Home Shop</h1><p>%s</p></section>'
            % filler(rng, 30),
            '<section class="new"><h2>New arrivals</h2>']
    body += [product_card(plan.products[pid - 1], lk) for pid in plan.newest]
    body.append('</section><section class="cats"><h2>Shop by category</h2><ul>')
    for slug, name in plan.categories:
        body.append('<li><a href="%s">%s</a></li>' % (lk.href("/c/%s/" % slug), esc(name)))
    body.append("</ul></section></main>")
    text = head(path, "Home", "Acme Home Shop: homeware, furniture and gifts.") + \
        "\n".join(body) + "\n"
    return pad(text, rng, kb) + footer(plan, lk)


def page_info(plan, rng, kb, path):
    base = path.startswith("/info/")
    title = {"/about.html": "About us", "/contact.html": "Contact",
             "/info/shipping.html": "Shipping", "/info/returns.html": "Returns"}[path]
    lk = Linker(path, base_dir="/" if base else None, offset=len(path))
    body = ['<body id="top">', nav(plan, lk), "<main>", "<h1>%s</h1>" % title]
    body += ["<p>%s</p>" % filler(rng, 50) for _ in range(3)]
    if path == "/contact.html":
        body.append('<p>Write to <a href="mailto:help@example.com?subject=Order">help@example.com'
                    '</a>.</p><form action="/contact/send" method="post"><textarea name="m">'
                    '</textarea><button>Send</button></form>')
    if base:
        # Relative to <base href="@ORIGIN@/">, not to /info/.
        body.append('<p>See our <a href="c/%s/">%s</a> range and the '
                    '<a href="about.html">story of the shop</a>.</p>'
                    % (plan.categories[0][0], esc(plan.categories[0][1])))
    body.append("</main>")
    text = head(path, title, "%s - Acme Home Shop." % title, base=base) + "\n".join(body) + "\n"
    return pad(text, rng, kb) + footer(plan, lk)


def page_listing(plan, rng, kb, slug, name, k, n_pages):
    path = "/c/%s/" % slug if k == 1 else "/c/%s/page-%d.html" % (slug, k)
    lk = Linker(path, offset=k)
    prods = plan.cat_products(slug)[(k - 1) * PER_PAGE:k * PER_PAGE]
    body = ['<body id="top">', nav(plan, lk), "<main>",
            '<p class="crumbs"><a href="%s">Home</a> &rsaquo; %s</p>' % (lk.href("/"), esc(name)),
            "<h1>%s%s</h1>" % (esc(name), "" if k == 1 else " &ndash; page %d" % k),
            '<div class="grid">']
    body += [product_card(p, lk) for p in prods]
    body.append('</div><nav class="pagination">')
    if k > 1:
        body.append('<a href="%s">First</a>' % lk.href("/c/%s/" % slug))
        prev = "/c/%s/" % slug if k == 2 else "/c/%s/page-%d.html" % (slug, k - 1)
        body.append('<a rel="prev" href="%s">&laquo; Previous</a>' % lk.href(prev))
    body.append("<span>Page %d of %d</span>" % (k, n_pages))
    if k < n_pages:
        body.append('<a rel="next" href="%s">Next &raquo;</a>'
                    % lk.href("/c/%s/page-%d.html" % (slug, k + 1)))
    body.append("</nav></main>")
    title = name if k == 1 else "%s - page %d" % (name, k)
    text = head(path, title, "Shop %s at Acme Home Shop." % name) + "\n".join(body) + "\n"
    return pad(text, rng, kb) + footer(plan, lk)


def page_product(plan, rng, kb, p):
    path = "/p/%d.html" % p["id"]
    lk = Linker(path, offset=p["id"])
    cat_name = dict(plan.categories)[p["category"]]
    ld = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": p["name"],
        "sku": p["sku"],
        "description": "The %s from Acme Home Shop." % p["name"],
        "url": "@ORIGIN@" + path,
        "offers": {"@type": "Offer", "price": p["price"], "priceCurrency": "GBP",
                   "availability": "https://schema.org/" + p["stock"]},
    }
    ld_text = json.dumps(ld, ensure_ascii=False, indent=1, sort_keys=True).replace("</", "<\\/")
    extra = '<script type="application/ld+json">\n%s\n</script>\n' % ld_text
    n_cat = len(plan.categories)
    related = [q for q in (p["id"] - n_cat, p["id"] + n_cat) if 1 <= q <= len(plan.products)]
    body = ['<body id="top">', nav(plan, lk), '<main class="product">',
            '<p class="crumbs"><a href="%s">Home</a> &rsaquo; <a href="%s">%s</a> &rsaquo; %s</p>'
            % (lk.href("/"), lk.href("/c/%s/" % p["category"]), esc(cat_name), esc(p["name"])),
            "<h1>%s</h1>" % esc(p["name"]),
            '<p class="price">%s</p>' % esc(p["price_text"]),
            '<p class="stock">%s</p>' % ("In stock" if p["stock"] == "InStock" else "Sold out"),
            '<table class="specs">',
            "<tr><th>SKU</th><td>%s</td></tr>" % p["sku"],
            "<tr><th>Category</th><td>%s</td></tr>" % esc(cat_name),
            "<tr><th>Weight</th><td>%.1f kg</td></tr>" % (rng.randint(1, 200) / 10.0),
            "</table>",
            '<div class="description"><p>%s</p><p>%s</p></div>' % (filler(rng, 40),
                                                                  filler(rng, 40)),
            '<section id="reviews"><h2>Reviews</h2><p>%s</p></section>' % filler(rng, 25)]
    if related:
        body.append('<section class="related"><h2>You may also like</h2>')
        body += [product_card(plan.products[q - 1], lk) for q in related]
        body.append("</section>")
    body.append("</main>")
    text = head(path, p["name"], "Buy the %s for %s at Acme Home Shop."
                % (p["name"], p["price_text"]), og_type="product", extra=extra)
    text += "\n".join(body) + "\n"
    return pad(text, rng, kb) + footer(plan, lk)


def page_archive(plan, rng, kb, k):
    path = "/archive/%d.html" % k
    lk = Linker(path, offset=k)
    body = ['<body id="top">', nav(plan, lk), "<main>", "<h1>News archive &ndash; %d</h1>" % k]
    for i in range(3):
        body.append("<article><h2>News item %d.%d</h2><p>%s</p></article>"
                    % (k, i + 1, filler(rng, 40)))
    body.append('<nav class="older">')
    if k > 1:
        body.append('<a href="%s">Newer posts</a>' % lk.href("/archive/%d.html" % (k - 1)))
    if k < plan.n_archive:
        body.append('<a href="%s">Older posts</a>' % lk.href("/archive/%d.html" % (k + 1)))
    body.append("</nav></main>")
    text = head(path, "News archive %d" % k, "Acme Home Shop news, part %d." % k)
    text += "\n".join(body) + "\n"
    return pad(text, rng, kb) + footer(plan, lk)


def sitemap(plan):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for i, path in enumerate(plan.pages()):
        out.append("  <url><loc>@ORIGIN@%s</loc><lastmod>2024-%02d-%02d</lastmod></url>"
                   % (esc(path), i % 12 + 1, i % 28 + 1))
    out.append("</urlset>")
    return "\n".join(out) + "\n"


ROBOTS = """# Acme Home Shop
User-agent: *
Allow: /

Sitemap: @ORIGIN@/sitemap.xml
"""


# ---------------------------------------------------------------------------
# Driver


def generate(out_dir, n_pages, seed=1, page_kb=0, write_manifest=False):
    """Write the site into out_dir (created if missing). Returns the manifest
    dict. Each page draws its filler text from its own seeded generator, so
    the output depends on (n_pages, seed, page_kb) only."""
    plan = Plan(n_pages, seed)
    files = {}

    def rng_for(key):
        return random.Random("%d/%s" % (seed, key))

    files["/"] = page_home(plan, rng_for("/"), page_kb)
    for path in plan.info:
        files[path] = page_info(plan, rng_for(path), page_kb, path)
    for slug, name in plan.categories:
        n = plan.listing_pages(len(plan.cat_products(slug)))
        for k in range(1, n + 1):
            path = "/c/%s/" % slug if k == 1 else "/c/%s/page-%d.html" % (slug, k)
            files[path] = page_listing(plan, rng_for(path), page_kb, slug, name, k, n)
    for p in plan.products:
        path = "/p/%d.html" % p["id"]
        files[path] = page_product(plan, rng_for(path), page_kb, p)
    for k in range(1, plan.n_archive + 1):
        path = "/archive/%d.html" % k
        files[path] = page_archive(plan, rng_for(path), page_kb, k)

    pages = plan.pages()
    assert sorted(pages) == sorted(files) and len(pages) == n_pages

    def write(rel, text):
        full = os.path.join(out_dir, *rel.split("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)

    for path in pages:
        write(url_to_file(path), files[path])
    write("robots.txt", ROBOTS)
    write("sitemap.xml", sitemap(plan))

    manifest = {
        "generator": "sitegen",
        "pages_total": n_pages,
        "seed": seed,
        "page_kb": page_kb,
        "pages": pages,
        "files": [url_to_file(p) for p in pages],
        "categories": [{"slug": s, "name": n, "path": "/c/%s/" % s,
                        "listing_pages": plan.listing_pages(len(plan.cat_products(s)))}
                       for s, n in plan.categories],
        "archive": ["/archive/%d.html" % k for k in range(1, plan.n_archive + 1)],
        "featured": ["/p/%d.html" % i for i in plan.featured],
        "newest": ["/p/%d.html" % i for i in plan.newest],
        "products": {"/p/%d.html" % p["id"]: {
            "id": p["id"], "name": p["name"], "sku": p["sku"], "price": p["price"],
            "price_text": p["price_text"], "currency": "GBP", "category": p["category"],
        } for p in plan.products},
    }
    if write_manifest:
        write("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1,
                                          sort_keys=True) + "\n")
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate a deterministic static web shop.")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--pages", type=int, required=True, help="number of .html pages (>= %d)"
                    % MIN_PAGES)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--page-kb", type=int, default=0,
                    help="pad every page with filler text to about this many KiB (0: no padding)")
    ap.add_argument("--write-manifest", action="store_true", help="also write manifest.json")
    ap.add_argument("--force", action="store_true",
                    help="empty --out first when it is not empty")
    args = ap.parse_args(argv)
    if args.pages < MIN_PAGES:
        ap.error("--pages must be at least %d" % MIN_PAGES)
    if os.path.isdir(args.out) and os.listdir(args.out):
        if not args.force:
            ap.error("%s is not empty (use --force to replace it)" % args.out)
        shutil.rmtree(args.out)
    os.makedirs(args.out, exist_ok=True)
    generate(args.out, args.pages, args.seed, args.page_kb, args.write_manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
