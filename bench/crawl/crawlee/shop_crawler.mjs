// shop_crawler.mjs - the Crawlee side of the crawl benchmark (bench/crawl/run.sh).
//
//   node bench/crawl/crawlee/shop_crawler.mjs --start http://127.0.0.1:PORT/ \
//       --out items.jsonl [--stats stats.json] [--concurrency 64]
//
// Crawlee 3.x's CheerioCrawler (package @crawlee/cheerio, pinned in package-lock.json) crawls
// the scripts/sitegen.py shop from its home page, follows every link on the start origin
// (enqueueLinks, strategy 'same-origin': <base href> is honoured, fragments dropped by
// Crawlee's unique key), and for each product page (/p/ID.html) writes one JSON line
// {url, name, price, sku} - the fields, from the same elements, that bench/crawl/shop.rules
// extracts for scrape and bench/crawl/shop_spider.py for Scrapy:
//
//     name   main.product h1                   (its own text, whitespace-trimmed)
//     price  main.product p.price -> number    ("£1,234.56" -> 1234.56)
//     sku    table.specs row whose th is SKU   (text, trimmed)
//
// Settings match the other two: 64 requests in flight (min = max concurrency, so the
// autoscaled pool does not ramp up), no delay, robots.txt obeyed (respectRobotsTxtFile),
// depth limit 100, 2 retries as Scrapy's default.  Everything else is Crawlee's default
// (session pool, browser-like headers from got-scraping, the system-status snapshots).
//
// Storage: nothing is persisted.  CRAWLEE_STORAGE_DIR points at a fresh temporary folder
// (on /dev/shm when there is one), persistStorage is off and purgeOnStart on, so the request
// queue and the statistics live in memory; the folder is removed at exit.  Items go
// straight to --out (JSON lines), not through a Dataset.  --stats writes the page count and
// Crawlee's final statistics as JSON.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function parseArgs(argv) {
    const a = { start: 'http://127.0.0.1:8080/', out: 'items.jsonl', stats: null, concurrency: 64 };
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i];
        const v = argv[i + 1];
        if (k === '--start') a.start = v;
        else if (k === '--out') a.out = v;
        else if (k === '--stats') a.stats = v;
        else if (k === '--concurrency') a.concurrency = parseInt(v, 10);
        else {
            process.stderr.write(`shop_crawler: unknown argument ${k}\n`);
            process.exit(2);
        }
        i++;
    }
    return a;
}

const args = parseArgs(process.argv.slice(2));

// Open the output first: a bad --out fails here, before anything is made.
const items = fs.createWriteStream(null, { fd: fs.openSync(args.out, 'w') });

// The storage folder must be set before crawlee reads its configuration from the environment;
// it goes away however the process ends.
const tmpParent = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const storageDir = fs.mkdtempSync(path.join(tmpParent, 'crawlee-bench-'));
process.on('exit', () => fs.rmSync(storageDir, { recursive: true, force: true }));
process.env.CRAWLEE_STORAGE_DIR = storageDir;
process.env.CRAWLEE_PERSIST_STORAGE = 'false';
process.env.CRAWLEE_PURGE_ON_START = 'true';

const { CheerioCrawler, Configuration, log } = await import('@crawlee/cheerio');

log.setLevel(log.LEVELS.WARNING);

const PRODUCT = /^https?:\/\/[^/]+\/p\/\d+\.html$/;
const NUMBER = /-?\d[\d,]*(?:\.\d+)?/;

function toNumber(text) {
    const m = NUMBER.exec(text || '');
    if (!m) return null;
    return Number(m[0].replace(/,/g, ''));
}

// The element's own text nodes, as Scrapy's "::text" takes them (first one).
function ownText($, el) {
    const node = $(el).first().contents().filter((_, n) => n.type === 'text').first();
    return node.length ? node.text() : null;
}

let pages = 0;
let failed = 0;
let products = 0;

const config = new Configuration({ persistStorage: false, purgeOnStart: true });
const crawler = new CheerioCrawler({
    minConcurrency: args.concurrency,
    maxConcurrency: args.concurrency,
    maxRequestRetries: 2,
    maxCrawlDepth: 100,
    respectRobotsTxtFile: true,
    sameDomainDelaySecs: 0,
    async requestHandler({ request, $, enqueueLinks }) {
        pages++;
        // A request keeps the fragment of the first link that found it (its unique key does
        // not): "/p/7.html#reviews" is product 7.
        const url = (request.loadedUrl ?? request.url).replace(/#.*$/s, '');
        if (PRODUCT.test(url)) {
            const name = ownText($, 'main.product h1');
            if (name !== null && name.trim()) {
                // //table[contains(@class,'specs')]//tr[th='SKU']/td/text()
                const skuCell = $('table[class*="specs"] tr')
                    .filter((_, tr) => $(tr).children('th').filter((_, th) => $(th).text() === 'SKU').length > 0)
                    .first()
                    .children('td')
                    .first();
                const sku = (skuCell.length ? ownText($, skuCell) ?? '' : '').trim();
                items.write(JSON.stringify({
                    url,
                    name: name.trim(),
                    price: toNumber(ownText($, 'main.product p.price')),
                    sku: sku || null,
                }) + '\n');
                products++;
            }
        }
        await enqueueLinks({ strategy: 'same-origin' });
    },
    failedRequestHandler({ request }, error) {
        failed++;
        process.stderr.write(`shop_crawler: ${request.url}: ${error.message}\n`);
    },
}, config);

const t0 = Date.now();
const finalStats = await crawler.run([args.start]);
const seconds = (Date.now() - t0) / 1000;
await new Promise((resolve) => items.end(resolve));
if (args.stats) {
    fs.writeFileSync(args.stats, JSON.stringify({
        pages, failed, products, seconds, storage_dir: storageDir, final: finalStats,
    }, null, 1));
}
process.stderr.write(`shop_crawler: ${pages} pages, ${products} products, ${failed} failed ` +
                     `in ${seconds.toFixed(1)} s\n`);
