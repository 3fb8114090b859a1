// warc_dump.mjs - reads WARC files with warcio.js (the npm package "warcio", written by
// Webrecorder, not here) and prints one JSON line per record for test_warc.py: its offset and
// compressed length as warcio found them, the WARC headers, the parsed HTTP head, the payload
// (base64), and the SHA-1 digests (base32) this script computes over the raw block and the
// payload, so the test can compare them with WARC-Block-Digest and WARC-Payload-Digest.
//
// Usage: node warc_dump.mjs NODE_MODULES_DIR FILE...
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.argv[2], "x.js"));
const { WARCParser } = require("warcio");

function base32(buf) {
    const al = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let bits = 0, acc = 0, out = "";
    for (const b of buf) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 5) {
            out += al[(acc >>> (bits - 5)) & 31];
            bits -= 5;
        }
        acc &= 0xff;
    }
    if (bits > 0) out += al[(acc << (5 - bits)) & 31];
    return out;
}
const sha1 = (buf) => "sha1:" + base32(createHash("sha1").update(buf).digest());

async function dump(file) {
    // pass 1: raw blocks (no HTTP parsing), for the block digest and the offsets
    const raw = new Map();
    let parser = new WARCParser(createReadStream(file), { parseHttp: false });
    for await (const rec of parser) {
        const block = Buffer.from(await rec.readFully());
        raw.set(parser.offset, { block, length: parser.recordLength });
    }
    // pass 2: with the HTTP head parsed, for the payload and the headers
    parser = new WARCParser(createReadStream(file));
    for await (const rec of parser) {
        const payload = Buffer.from(await rec.readFully(false));
        const offset = parser.offset;
        const r = raw.get(offset);
        const h = {};
        for (const [k, v] of rec.warcHeaders.headers) h[k.toLowerCase()] = v;
        const http = rec.httpHeaders ? {
            statusline: rec.httpHeaders.statusline,
            headers: Object.fromEntries([...rec.httpHeaders.headers].map(([k, v]) => [k.toLowerCase(), v])),
        } : null;
        console.log(JSON.stringify({
            file, offset, length: parser.recordLength, rawLength: r ? r.length : null,
            type: rec.warcType, warc: h, http,
            payload: payload.toString("base64"),
            blockSha1: r ? sha1(r.block) : null,
            payloadSha1: sha1(payload),
        }));
    }
}

for (const f of process.argv.slice(3)) await dump(f);
