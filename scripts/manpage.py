#!/usr/bin/env python3
"""manpage.py - writes the scrape(1) manual page from the binary's own help, so that it cannot
miss a command or a setting: the commands are the ones `scrape` alone lists, each with the text
of `scrape COMMAND --help`; the settings are every `--name` line of `scrape help` (printed from
the settings table, common/settings.c), with their defaults; the exit codes are the binary's.

    scripts/manpage.py -o scrape.1[.gz] [--date YYYY-MM-DD] -- [EMULATOR...] path/to/scrape

The arguments after -- run the binary (a cross build puts qemu-user first).  A name ending in
.gz is written gzip-compressed, reproducibly (no name, no time in the header).  The date is
--date, else SOURCE_DATE_EPOCH's, else today's (UTC).  Exit 0, or 1 with a message when the
binary's output does not have the expected shape (then no file is written).
"""
import argparse
import datetime
import gzip
import os
import re
import subprocess
import sys

SETTING = re.compile(r"^  (--[a-z0-9][a-z0-9-]*)( VALUE)?\s+(.*)$")
# The run-through commands: the crawl's help is `scrape help` itself, shown in full below.
SKIP_HELP = {"crawl", "help"}

DESCRIPTION = r"""\fBscrape\fR is a distributed web-scraping work queue for home-built and lab clusters
(Raspberry Pis, Linux desktops, Windows machines under WSL) tied together with MPI.
.PP
Rank 0 is the \fIcoordinator\fR: it owns the frontier in PostgreSQL, leases batches of URLs to
the workers, enforces politeness for the whole cluster and stores every result.  Every other
rank is a \fIworker\fR: it fetches many URLs at once with libcurl, parses each page with
libxml2, runs the parsers (links, metadata, JSON\-LD, text, extraction rules) and sends the
records back.  Only rank 0 talks to PostgreSQL; settings travel over MPI, so a worker node
needs the binary at the same path (\fI/usr/bin/scrape\fR when installed from the package) and
nothing else.  Without mpiexec, \fBscrape \-\-seed\fR \fIFILE\fR runs the coordinator with
worker threads.
.PP
Every setting below is an option of the crawl (\fBscrape\fR [\fBcrawl\fR]), and can also be
written in a \fB\-\-config\fR \fIFILE\fR as \fIname\fR = \fIvalue\fR.  Durations take a unit
(250ms, 2s, 5m, 12h, 7d): a bare number is refused, except 0.  Sizes take K, M or G."""

ENVIRONMENT = r""".TP
.B SCRAPE_DB
The database conninfo when neither \fB\-\-db\fR nor \fB\-\-db\-file\fR is given; read on rank 0
only.
.TP
.BR PGHOST ", " PGUSER ", " PGSERVICE ", " PGPASSFILE ", ..."
libpq's own defaults, the last resort for the connection; read on rank 0 only.  Keep the
password in \fI~/.pgpass\fR, a service file or \fB\-\-db\-file\fR: under mpiexec every node sees
the command line."""

SEE_ALSO = r"""\fBmpiexec\fR(1), \fBpsql\fR(1).
The guides installed in \fI/usr/share/doc/scrape/\fR: \fBREADME.md\fR, \fBdocs/cluster.md\fR
(setting up the cluster and PostgreSQL), \fBdocs/cron.md\fR, \fBdocs/rules.md\fR (the rules
language), \fBdocs/queries.md\fR, \fBdocs/report.md\fR, \fBdocs/schema.md\fR."""


def esc(text):
    """Roff-escape a line of plain text: backslashes, minus signs, a leading . or '."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    if text.startswith((".", "'")):
        text = "\\&" + text
    return text


def run(cmd, *args):
    # only the help text matters: a sanitizer build's leak report at exit must not fail it
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
    r = subprocess.run(cmd + list(args), stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=300, env=env)
    return r.returncode, r.stdout, r.stderr


def fail(msg):
    sys.stderr.write("manpage.py: %s\n" % msg)
    sys.exit(1)


def parse_help(text):
    """(title, usage lines, settings [(name, takes_value, help)], exit code lines)."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("scrape "):
        fail("`scrape help` does not start with 'scrape VERSION - ...'")
    title = lines[0]
    try:
        u = lines.index("usage:")
        s = next(i for i, l in enumerate(lines) if l.startswith("settings"))
        e = next(i for i, l in enumerate(lines) if l.startswith("exit codes:"))
    except (ValueError, StopIteration):
        fail("`scrape help` lacks its usage:, settings or exit codes: part")
    usage = [l for l in lines[u + 1:s] if l.strip()]
    while s < e and not lines[s].rstrip().endswith(":"):  # the heading may wrap
        s += 1
    settings = []
    for l in lines[s + 1:e]:
        if not l.strip():
            continue
        m = SETTING.match(l)
        if m:
            settings.append((m.group(1), bool(m.group(2)), m.group(3).strip()))
        elif not settings and not l.startswith(" "):  # the "settings (...)" title wrapped
            continue
        elif settings and l.startswith("   "):  # a help text wrapped onto more lines
            name, takes, text = settings[-1]
            settings[-1] = (name, takes, text + " " + l.strip())
        else:
            fail("a settings line of `scrape help` has an unknown shape: %r" % l)
    exits = [l.strip() for l in lines[e:] if l.strip()]
    return title, usage, settings, exits


def commands(cmd):
    code, out, err = run(cmd)
    m = re.search(r"^commands: (.*)$", out + err, re.M)
    if not m:
        fail("`scrape` alone did not list its commands (exit %d): %s" % (code, (out + err)[-500:]))
    return [c.strip() for c in m.group(1).split(",") if c.strip()]


def nofill(text):
    out = [".nf"]
    out += [esc(l) if l else "" for l in text.rstrip("\n").splitlines()]
    out.append(".fi")
    return "\n".join(out)


def exit_codes(exits):
    """The exit codes line(s) as a list: '0 done', '1 internal error', ..."""
    text = " ".join(exits)
    text = re.sub(r"^exit codes:\s*", "", text)
    return text


def build(cmd, date):
    code, out, err = run(cmd, "help")
    if code != 0:
        fail("`scrape help` exited %d: %s" % (code, err[-500:]))
    title, usage, settings, exits = parse_help(out)
    version = title.split()[1]
    summary = title.split(" - ", 1)[1] if " - " in title else "a distributed web-scraping work queue"
    names = commands(cmd)
    page = []
    page.append('.TH SCRAPE 1 "%s" "scrape %s" "User Commands"' % (date, version))
    page.append(".\\\" Generated by scripts/manpage.py from the binary's help: do not edit.")
    page.append(".SH NAME")
    page.append("scrape \\- " + esc(summary))
    page.append(".SH SYNOPSIS")
    page.append(nofill("\n".join(usage)))
    page.append(".SH DESCRIPTION")
    page.append(DESCRIPTION)
    page.append(".SH COMMANDS")
    page.append("With no command, \\fBscrape\\fR runs \\fBcrawl\\fR.")
    for name in names:
        page.append(".SS %s" % esc(name))
        if name == "crawl":
            page.append("Crawls the seeds into the job's frontier in the database, under mpiexec"
                        " (rank 0 coordinates, the others fetch) or alone with worker threads."
                        "  Takes every setting in \\fBSETTINGS\\fR.")
            continue
        if name == "help":
            page.append("Prints every command and every setting (the text of this page's"
                        " \\fBSYNOPSIS\\fR and \\fBSETTINGS\\fR).  \\fBscrape\\fR \\fICOMMAND\\fR"
                        " \\fB\\-\\-help\\fR prints one command's help.")
            continue
        code, out, err = run(cmd, name, "--help")
        if code != 0 or not out.strip():
            fail("`scrape %s --help` exited %d: %s" % (name, code, err[-500:]))
        page.append(nofill(out))
    page.append(".SH SETTINGS")
    page.append("Each is a command\\-line option \\fB\\-\\-\\fR\\fIname\\fR, or a line"
                " \\fIname\\fR = \\fIvalue\\fR of a \\fB\\-\\-config\\fR file; the default is"
                " in brackets.")
    for opt, takes, text in settings:
        page.append(".TP")
        page.append("\\fB%s\\fR%s" % (esc(opt), " \\fIVALUE\\fR" if takes else ""))
        page.append(esc(text))
    page.append(".SH EXIT STATUS")
    page.append(esc(exit_codes(exits)))
    page.append(".SH ENVIRONMENT")
    page.append(ENVIRONMENT)
    page.append(".SH SEE ALSO")
    page.append(SEE_ALSO)
    return "\n".join(page) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--date")
    ap.add_argument("binary", nargs="+", help="[EMULATOR...] path/to/scrape")
    args = ap.parse_args()
    date = args.date
    if not date:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        t = (datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc) if epoch
             else datetime.datetime.now(datetime.timezone.utc))
        date = t.strftime("%Y-%m-%d")
    page = build(args.binary, date).encode("utf-8")
    tmp = args.output + ".part"
    if args.output.endswith(".gz"):
        with open(tmp, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9,
                               mtime=0) as f:
                f.write(page)
    else:
        with open(tmp, "wb") as f:
            f.write(page)
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
