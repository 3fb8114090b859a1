"""shop_spider.py - the Scrapy side of the crawl benchmark (bench/crawl/run.sh).

    scrapy runspider bench/crawl/shop_spider.py -a start=http://127.0.0.1:PORT/ \
        -o items.jsonl:jsonlines

Crawls the scripts/sitegen.py shop from its home page, follows every http(s) link on the
start host (Scrapy's own dedup: the request fingerprint, fragments dropped; <base href> is
honoured by response.follow), and for each product page (/p/ID.html) yields
{url, name, price, sku} - the fields, from the same elements, that bench/crawl/shop.rules
extracts for scrape:

    name   main.product h1                   (text, whitespace-trimmed)
    price  main.product p.price -> number    ("£1,234.56" -> 1234.56)
    sku    table.specs row whose th is SKU   (text, trimmed)

Settings match scrape's run: 64 requests in flight, all on the one host, no delay,
robots.txt obeyed, depth limit 100.  Items go to the feed given with -o (JSON lines);
-a stats=FILE writes Scrapy's stats as JSON when the crawl closes.
"""

import re
from urllib.parse import urlsplit

import scrapy

PRODUCT = re.compile(r"^https?://[^/]+/p/\d+\.html$")
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def to_number(text):
    m = NUMBER.search(text or "")
    if not m:
        return None
    v = float(m.group(0).replace(",", ""))
    return int(v) if v.is_integer() else v


class ShopSpider(scrapy.Spider):
    name = "shop"
    custom_settings = {
        "CONCURRENT_REQUESTS": 64,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 64,
        "CONCURRENT_REQUESTS_PER_IP": 0,
        "DOWNLOAD_DELAY": 0,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": True,
        "DEPTH_LIMIT": 100,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "COOKIES_ENABLED": False,
        "RETRY_ENABLED": True,
        "USER_AGENT": "scrapy-bench (+https://example.invalid/bench)",
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
    }

    def __init__(self, start="http://127.0.0.1:8080/", stats=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stats_path = stats
        self.start_urls = [start]
        host = urlsplit(start).hostname
        self.allowed_domains = [host]
        self.origin = "%s://%s" % (urlsplit(start).scheme, urlsplit(start).netloc)

    def closed(self, reason):
        """With -a stats=FILE: write Scrapy's stats there as JSON (bench.py counts pages)."""
        if self.stats_path:
            import json
            with open(self.stats_path, "w") as f:
                json.dump(self.crawler.stats.get_stats(), f, default=str, indent=1)

    def parse(self, response):
        if PRODUCT.match(response.url):
            name = response.css("main.product h1::text").get()
            if name is not None and name.strip():
                yield {
                    "url": response.url,
                    "name": name.strip(),
                    "price": to_number(response.css("main.product p.price::text").get()),
                    "sku": (response.xpath(
                        "//table[contains(@class,'specs')]//tr[th='SKU']/td/text()").get()
                        or "").strip() or None,
                }
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href.strip())
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https"):
                continue
            if "%s://%s" % (parts.scheme, parts.netloc) != self.origin:
                continue
            yield scrapy.Request(url, callback=self.parse)
