"""oracle: what a correct crawl of a static site fetches, computed from disk.

crawl_oracle() reads the site's files (not over HTTP), so it does not share
code or bugs with the crawler under test. Its rules:

  * links are the href of <a> and <area>; text inside <script>, <style> and
    comments is not markup (html.parser already treats it so);
  * an href is stripped of surrounding whitespace, resolved with
    urllib.parse.urljoin against the page URL or the page's first
    <base href> (itself resolved against the page URL), its "." and ".."
    segments are removed (also in absolute hrefs) and its fragment is
    dropped; @ORIGIN@ in the file is replaced by the origin first;
  * only http and https URLs count; of those, only URLs whose scheme and
    host:port equal the seed's are in scope, the others are "out of scope";
  * breadth first from the seeds (depth 0): a page at depth d < max_depth has
    its links followed at depth d+1; pages at depth <= max_depth are fetched
    (max_depth=None: no limit). Links found on pages at depth max_depth
    (and not reachable any shallower) are "too deep";
  * a URL maps to a file as the site server does: the path is percent
    decoded, a path ending in "/" means its index.html, the query is ignored.
    A URL without a file is still fetched (the server answers 404) and is
    listed in .missing; it has no links;
  * max_pages: stop after that many fetches, in BFS order (the set a parallel
    crawler fetches under a page budget is not deterministic; use the count).

The result is an OracleResult:

    pages        {url: depth} of every URL fetched (including missing ones)
    missing      set of fetched URLs with no file (404)
    out_of_scope set of http(s) URLs linked from fetched pages, other hosts
    too_deep     {url: depth} of in-scope URLs first seen at depth max_depth+1
    unreachable  {url: depth} of all in-scope URLs past the limit, with their
                 true depth (a full BFS ignoring max_depth); too_deep is the
                 part of it at depth max_depth+1
    ignored      set of non-http(s) hrefs seen (mailto:, javascript:, ...)
"""

import os
import posixpath
import urllib.parse
from collections import deque, namedtuple
from html.parser import HTMLParser

OracleResult = namedtuple("OracleResult",
                          "pages missing out_of_scope too_deep unreachable ignored")


class _LinkParser(HTMLParser):
    """Collects <base href> (the first one) and <a>/<area> hrefs, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.base = None
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        href = None
        for name, value in attrs:
            if name == "href" and value is not None:
                href = value
                break
        if href is None:
            return
        if tag == "base" and self.base is None:
            self.base = href
        elif tag in ("a", "area"):
            self.hrefs.append(href)

    handle_startendtag = handle_starttag


_STRIP = " \t\n\r\f"  # HTML whitespace, stripped around URLs


def extract_links(html_text, page_url):
    """(absolute URLs without fragments, ignored hrefs) of the <a>/<area>
    links in html_text, resolved against page_url or the page's <base>."""
    p = _LinkParser()
    p.feed(html_text)
    p.close()
    base = page_url
    if p.base is not None:
        base = urllib.parse.urljoin(page_url, p.base.strip(_STRIP))
    links, ignored = [], []
    for href in p.hrefs:
        href = href.strip(_STRIP)
        url = remove_dot_segments(urllib.parse.urljoin(base, href))
        url = urllib.parse.urldefrag(url)[0]
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme in ("http", "https"):
            links.append(url)
        else:
            ignored.append(href)
    return links, ignored


def remove_dot_segments(url):
    """url with "." and ".." path segments resolved (RFC 3986 5.2.4).
    urljoin does it for relative references but leaves an absolute
    reference's path as written."""
    s = urllib.parse.urlsplit(url)
    if not s.path:
        return url
    out = []
    segs = s.path.split("/")
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    path = "/".join(out)
    if s.path.startswith("/") and not path.startswith("/"):
        path = "/" + path
    return urllib.parse.urlunsplit((s.scheme, s.netloc, path, s.query, s.fragment))


def url_to_file(root_dir, url):
    """The file the site server serves for url, or None when there is none."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path) or "/"
    parts = [p for p in posixpath.normpath(path).split("/") if p not in ("", ".", "..")]
    full = os.path.join(root_dir, *parts)
    if path.endswith("/"):
        full = os.path.join(full, "index.html")
    return full if os.path.isfile(full) else None


def _scope_key(url):
    s = urllib.parse.urlsplit(url)
    port = s.port or {"http": 80, "https": 443}.get(s.scheme.lower())
    return (s.scheme.lower(), (s.hostname or "").lower(), port)


def crawl_oracle(root_dir, origin, seed_paths=("/",), max_depth=3, max_pages=None):
    """BFS over the static site in root_dir as served at origin
    ("http://127.0.0.1:8080"). seed_paths are paths ("/") or absolute URLs.
    Returns an OracleResult (see the module docstring)."""
    origin = origin.rstrip("/")
    seeds = [s if "://" in s else origin + (s if s.startswith("/") else "/" + s)
             for s in seed_paths]
    scopes = {_scope_key(s) for s in seeds}

    def links_of(url):
        f = url_to_file(root_dir, url)
        if f is None or not f.endswith((".html", ".htm")):
            return None, [], []
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read().replace("@ORIGIN@", origin)
        links, ignored = extract_links(text, url)
        return f, links, ignored

    # Full BFS without limits: true depth of every reachable in-scope URL.
    depth = {}
    queue = deque()
    for s in seeds:
        if s not in depth:
            depth[s] = 0
            queue.append(s)
    order = []
    out_of_scope_by_url = {}
    ignored_by_url = {}
    while queue:
        url = queue.popleft()
        order.append(url)
        _, links, ignored = links_of(url)
        ignored_by_url[url] = ignored
        outs = []
        for link in links:
            if _scope_key(link) not in scopes:
                outs.append(link)
            elif link not in depth:
                depth[link] = depth[url] + 1
                queue.append(link)
        out_of_scope_by_url[url] = outs

    fetched = [u for u in order if max_depth is None or depth[u] <= max_depth]
    if max_pages is not None:
        fetched = fetched[:max_pages]
    pages = {u: depth[u] for u in fetched}
    missing = {u for u in fetched if url_to_file(root_dir, u) is None}
    out_of_scope, ignored = set(), set()
    for u in fetched:
        out_of_scope.update(out_of_scope_by_url[u])
        ignored.update(ignored_by_url[u])
    unreachable = {u: d for u, d in depth.items() if u not in pages and
                   (max_depth is not None and d > max_depth)}
    too_deep = {u: d for u, d in unreachable.items() if d == max_depth + 1} \
        if max_depth is not None else {}
    return OracleResult(pages, missing, out_of_scope, too_deep, unreachable, ignored)


def depth_histogram(depths):
    """{depth: count} of a {url: depth} mapping, sorted by depth."""
    hist = {}
    for d in depths.values():
        hist[d] = hist.get(d, 0) + 1
    return dict(sorted(hist.items()))


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description="Print what a correct crawl fetches.")
    ap.add_argument("root")
    ap.add_argument("--origin", default="http://127.0.0.1:8080")
    ap.add_argument("--max-depth", type=int, default=3)
    ap.add_argument("--seed", action="append", default=None)
    a = ap.parse_args()
    r = crawl_oracle(a.root, a.origin, a.seed or ["/"], a.max_depth)
    print(json.dumps({
        "fetched": len(r.pages),
        "fetched_by_depth": depth_histogram(r.pages),
        "missing": sorted(r.missing),
        "too_deep": len(r.too_deep),
        "unreachable_by_depth": depth_histogram(r.unreachable),
        "out_of_scope": sorted(r.out_of_scope),
        "ignored": sorted(r.ignored),
    }, indent=1))
