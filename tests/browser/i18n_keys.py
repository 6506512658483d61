"""The UI catalogues (nginx/www/js/i18n/*.js) against each other and against
what the pages and modules use.  Run alone (python3 i18n_keys.py: prints the
problems, exits 1 if any) or through test_browser.py.

A problem is:
- a catalogue line that is not one `'key': 'text',` entry (the format this
  reader and people rely on), a key twice, an empty text;
- a key in one catalogue only, or a key whose {placeholders} differ;
- a key used in the HTML (data-i18n, data-i18n-html, data-i18n-attr) or in
  the js (t('key'), tn('key', n), or any quoted 'ns.key' whose first part is
  a catalogue namespace, e.g. cell('account.date')) that no catalogue has;
- a key built at run time (t(`backups.kind.${kind}`)) whose fixed prefix no
  key starts with.
"""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WWW = os.path.join(ROOT, "nginx", "www")
CATALOGUES = os.path.join(WWW, "js", "i18n")

ENTRY = re.compile(r"""^  '([A-Za-z0-9_.-]+)': '((?:[^'\\]|\\.)*)',$""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def read_catalogue(path, problems):
    """key -> text of one catalogue; format problems go to problems."""
    entries = {}
    inside = False
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if line == "export default {":
            inside = True
        elif line == "};":
            inside = False
        elif inside and not line.lstrip().startswith("//"):
            m = ENTRY.match(line)
            if not m:
                problems.append("%s:%d: not a 'key': 'text' entry" % (os.path.basename(path), n))
            elif m.group(1) in entries:
                problems.append("%s:%d: key '%s' twice" % (os.path.basename(path), n, m.group(1)))
            elif not m.group(2):
                problems.append("%s:%d: key '%s' has no text" % (os.path.basename(path), n, m.group(1)))
            else:
                entries[m.group(1)] = m.group(2)
    return entries


def compare(catalogues, problems):
    """Every catalogue has the same keys with the same placeholders."""
    names = sorted(catalogues)
    every = set().union(*(set(c) for c in catalogues.values()))
    for key in sorted(every):
        missing = [n for n in names if key not in catalogues[n]]
        if missing:
            problems.append("key '%s' missing from %s" % (key, ", ".join(missing)))
            continue
        holders = {n: sorted(set(PLACEHOLDER.findall(catalogues[n][key]))) for n in names}
        if len({tuple(v) for v in holders.values()}) > 1:
            problems.append("key '%s' has different placeholders: %r" % (key, holders))


def used_keys():
    """(static keys, dynamic prefixes), each with where it was seen."""
    static, prefixes = [], []
    for path in glob.glob(os.path.join(WWW, "*.html")):
        text = open(path, encoding="utf-8").read()
        where = os.path.basename(path)
        for key in re.findall(r'data-i18n(?:-html)?="([^"]+)"', text):
            static.append((key, where))
        for spec in re.findall(r'data-i18n-attr="([^"]+)"', text):
            for pair in spec.split(";"):
                static.append((pair.split(":", 1)[1].strip(), where))
    for path in glob.glob(os.path.join(WWW, "js", "*.js")):
        text = open(path, encoding="utf-8").read()
        where = os.path.basename(path)
        for fn, key in re.findall(r"\b(tn?)\('([^']+)'", text):
            static.append((key + (".other" if fn == "tn" else ""), where))
        for key in re.findall(r"'([a-z]+\.[a-z0-9_.]+)'", text):
            static.append((key, where))
        for prefix in re.findall(r"\btn?\(`([a-z0-9_.]+)\$\{", text):
            prefixes.append((prefix, where))
    return static, prefixes


def check_used(keys, problems):
    namespaces = {k.split(".", 1)[0] for k in keys}
    static, prefixes = used_keys()
    for key, where in static:
        if key.split(".", 1)[0] in namespaces and key not in keys and key + ".other" not in keys:
            problems.append("%s uses key '%s', which no catalogue has" % (where, key))
    for prefix, where in prefixes:
        if not any(k.startswith(prefix) for k in keys):
            problems.append("%s builds keys '%s…', and no catalogue key starts so" % (where, prefix))


def problems():
    found = []
    catalogues = {os.path.basename(p): read_catalogue(p, found)
                  for p in sorted(glob.glob(os.path.join(CATALOGUES, "*.js")))}
    if len(catalogues) < 2:
        found.append("expected at least two catalogues in %s" % CATALOGUES)
        return found
    compare(catalogues, found)
    check_used(set(catalogues["en.js"]), found)
    return found


if __name__ == "__main__":
    found = problems()
    for p in found:
        print(p)
    print("%d problem(s)" % len(found))
    sys.exit(1 if found else 0)
