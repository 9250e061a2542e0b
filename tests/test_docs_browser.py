#!/usr/bin/env python
"""Build the docs site (`tools/build_docs.py`, what `make docs` runs) and read every page in headless Chromium.

Every page, at 1280 px and at 390 px, must have:
- a title, the sidebar, every `<img>` loaded, no script error, no request leaving the machine (the offline site);
- rendered math only: no `$...$`, no raw TeX (`\\frac`), no KaTeX error, and no raw markdown link syntax (`[a](b)`);
- outputs without a traceback or a warning on stderr, and prose without notes for developers (issue numbers, notebook
  file names such as `00_math`);
- the outputs of the examples: a page whose example cells show no output fails, and so does any example cell that ends
  in an expression (`brn`, `e[:3]`, `learn.fit(1)`) and shows nothing;
- no private name documented (`_FRNBase.effective_eps`), no entry documented twice, empty, or before its class, no two ids that differ only by case, and every link into the site pointing at a page and anchor that
  exist; a link whose text names an entry (`FRN`) must land on that entry's heading, not on another (`frn`);
- no horizontal scrolling at 390 px, and the content near the top (the sidebar collapses on narrow screens);
- training outputs as fastai shows them (an epoch table, no progress-bar frames); API entries as on docs.fast.ai (a
  `class`/`def`/`property` label, no `NoneType` and no comments in the signature, `**kwargs` described);
- every table or display equation wider than its column scrolls in its own box that shows a hint; at 390 px, an anchor
  lands below the sticky bars, a table of verdicts shows each verdict first with nothing off the screen, and the search
  results stay on the screen and answer the arrows, Enter and Escape;
- no list rendered as one paragraph, no paragraph ending with a colon and nothing after it, no talk of the build's
  machines, each paper cited with one year, a sidebar in reading order (no group of one page, a group's own page
  first), and a favicon.
Each public function and class a module exports (its `__all__`) must have its `show_doc` entry on the page nbdev's index
(`normbook/_modidx.py`) names, and the site's search must find it there.

Then the test proves that each of these checks can fail: it breaks a copy of the built site, one defect at a time,
and checks that the defect is reported. Screenshots of the math page and one experiment page, and of the front page,
`layers.html#frntlu` and the reproductions at both widths, are saved as `_docs/screenshot-*.png`.

Usage: test_docs_browser.py [--site DIR] [--no-build] [--no-selftest] [--require-browser]. `--no-build` tests the site already in DIR
(default `_docs/`), as the deploy workflow does with what it publishes, whether Quarto or the fallback built it.
Skips (exit 0) only when Chromium is missing and apt-get can't install it."""
import argparse, ast, functools, importlib, inspect, json, re, shutil, subprocess, sys, tempfile, threading, time, urllib.parse
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--no-first-run', '--disable-sync', '--disable-quic']
WIDE, NARROW = 1280, 390

def find_chromium():
    find = lambda: next((e for n in ('chromium', 'chromium-browser', 'google-chrome') if (e := shutil.which(n))), None)
    if (exe := find()) or not shutil.which('apt-get'): return exe
    subprocess.run(['bash', str(ROOT/'tools'/'setup_system.sh'), '--browser'])
    return find()

# wide tables and display equations: each one wider than its column scrolls in a `.scroll-box` that shows a hint
BOXES = """main => [...main.querySelectorAll('table, .katex-display')].map(e => {
    const b = e.closest('.scroll-box'), avail = (b || e.parentElement).clientWidth;
    if (e.scrollWidth <= avail + 1 || e.closest('.doc-params, table.stack') && !b) return null;
    const what = e.tagName === 'TABLE' ? 'a table' : 'an equation', txt = e.textContent.trim().slice(0, 40);
    if (!b || !['auto', 'scroll'].includes(getComputedStyle(b).overflowX)) return `${what} is cut off: ${txt}`;
    const hint = getComputedStyle(b, '::before');
    if (!b.classList.contains('overflowing') || hint.content === 'none' || hint.display === 'none') return `${what} scrolls with no hint: ${txt}`;
    return null; }).filter(Boolean)"""

PAGE_JS = """() => { const BOXES_JS = """ + BOXES + """;
  const main = document.querySelector('main') || document.body;
  const prose = skip => { const out = [], w = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    while (w.nextNode()) { const n = w.currentNode; if (!n.parentElement.closest(skip)) out.push(n.textContent); }
    return out.join(' '); };
  const outSel = '.cell-output, .cell-output-display, .cell-output-stdout, .cell-output-stderr, .cell-output-error';
  // show_doc entries: the fallback's `h3.doc-entry` in `.showdoc`; Quarto moves the id and class to a wrapping <section>
  const docH = [...new Set(main.querySelectorAll(':is(h2, h3, h4).doc-entry, section.doc-entry > :is(h2, h3, h4), :is(.showdoc, .cell) :is(h2, h3, h4)'))];
  const hid = h => h.id || h.dataset.anchorId || (h.parentElement.tagName === 'SECTION' ? h.parentElement.id : '');
  const said = h => { let t = '', e = h.nextElementSibling;  // what the entry says besides its signature
    for (; e && !e.matches(':is(h2, h3, h4)'); e = e.nextElementSibling) if (!e.matches('div.sourceCode, pre, hr, .doc-signature')) t += e.textContent;
    return t.trim().length > 0; };
  return {
    title: document.title,
    quarto: /quarto/i.test((document.querySelector('meta[name=generator]') || {}).content || ''),
    sidebar: document.querySelectorAll('#sidebar a[href], #quarto-sidebar a[href]').length,
    math: document.querySelectorAll('.katex, math').length,
    katex_errors: [...document.querySelectorAll('.katex-error')].map(e => e.title || e.textContent),
    imgs: [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    code_links: [...main.querySelectorAll('a[href]')].filter(a => a.children.length === 1 && a.firstElementChild.tagName === 'CODE'
      && a.textContent.trim() === a.firstElementChild.textContent.trim()).map(a => ({text: a.textContent.trim(), href: a.href})),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    headings: [...document.querySelectorAll('h1, h2, h3, h4')].map(h => h.textContent.trim()),
    doc_headings: docH.map(h => ({id: hid(h), text: h.textContent.trim(), said: said(h)})),
    raw_dollar: prose('pre, code, script, style, .katex, math, .cell-output'),
    prose: prose('pre, code, script, style, .katex, math, mjx-container, #sidebar-bar'),
    cells: [...main.querySelectorAll('div.cell')].map(c => {
      const pre = c.querySelector(':scope > div.sourceCode pre, :scope > details div.sourceCode pre, :scope > .cell-code pre');
      return {code: pre ? pre.innerText : null, outs: c.querySelectorAll(outSel).length, flagged: [...c.classList].some(k => k.startsWith('cell-flag-'))}; }),
    outputs: [...main.querySelectorAll(outSel)].map(o => ({cls: o.className, text: o.innerText.slice(0, 4000)})),
    // API entries: the kind label, the signature, and the parameter table (`**kwargs` row) that follow each heading
    entries: docH.map(h => { let kind = '', sig = '', kw = null, details = false;
      for (let e = h.nextElementSibling; e && !e.matches(':is(h2, h3, h4)'); e = e.nextElementSibling) {
        const k = e.querySelector('.doc-kind'); if (k && !kind) kind = k.textContent.trim();
        if (!sig && e.matches('.doc-signature, div.sourceCode, pre')) sig = e.textContent;
        for (const th of e.querySelectorAll('th')) if (th.textContent.trim() === 'Details') details = true;
        for (const tr of e.querySelectorAll('tr')) if (tr.cells.length > 1 && tr.cells[0].textContent.trim().startsWith('**'))
          kw = tr.cells[tr.cells.length - 1].textContent.trim(); }
      return {name: h.textContent.trim(), kind, sig, kw, details}; }),
    paras: [...main.querySelectorAll('p')].map(p => { const n = p.nextElementSibling;
      return {text: p.textContent, last: !n || n.matches('h1, h2, h3, h4, h5, h6, hr, nav, footer')}; }),
    sections: [...document.querySelectorAll('#sidebar .sidebar-section')].map(s => ({title: (s.querySelector('.sidebar-section-title') || {}).textContent,
      pages: [...s.querySelectorAll(':scope > ul > li > a')].map(a => a.textContent.trim())})),
    icon: (document.querySelector('link[rel~="icon"]') || {}).href || '',
    anchor: (docH.find(h => hid(h)) && hid(docH.find(h => hid(h)))) || ((main.querySelector('h2[id], h3[id]') || {}).id || ''),
    boxes: BOXES_JS(main),
  }; }"""

NARROW_JS = """anchor => { const BOXES_JS = """ + BOXES + """; const main = document.querySelector('main') || document.body;
  const bars = [...document.querySelectorAll('body *')].filter(e => ['sticky', 'fixed'].includes(getComputedStyle(e).position)
    && getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().height > 0 && e.getBoundingClientRect().height < 150
    && e.getBoundingClientRect().top < 150 && !e.closest('#sidebar, #margin, #search-results'));
  const h = anchor && document.getElementById(anchor);
  const below = Math.max(0, ...bars.map(e => e.getBoundingClientRect().bottom));
  const vt = [...main.querySelectorAll('table')].filter(t => [...t.querySelectorAll('th')].some(th => th.textContent.trim().toLowerCase() === 'verdict'));
  return {width: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    top: Math.round(main.getBoundingClientRect().top + window.scrollY),
    anchor: h ? {top: Math.round(h.getBoundingClientRect().top), below: Math.round(below)} : null,
    boxes: BOXES_JS(main),
    verdicts: vt.map(t => { const vi = [...t.querySelectorAll('th')].findIndex(th => th.textContent.trim().toLowerCase() === 'verdict');
      const rows = [...t.querySelectorAll('tbody tr')].filter(r => r.cells[vi]);
      return {wide: t.getBoundingClientRect().width > main.clientWidth + 1 || t.scrollWidth > main.clientWidth + 1,
        first: rows.every(r => [...r.cells].every(c => c === r.cells[vi] || !c.getBoundingClientRect().height
          || c.getBoundingClientRect().top >= r.cells[vi].getBoundingClientRect().bottom - 1))}; })}; }"""

RAW_TEX = re.compile(r'\\[A-Za-z]{2,}|\\[(\[]')
RAW_LINK = re.compile(r'\]\([^()\s]*\)?|\[\[')
BAD_OUT = re.compile(r'Traceback \(most recent call last\)|<ipython-input-|/tmp/ipykernel|File "/tmp/|^[WE]\d{4} \d\d:\d\d|'
                     r'\w+Warning:|\bwarnings\.warn\(', re.M)
NOISE = re.compile(r'\bissues? #?\d+\b|\b\d\d_[a-z]\w*(?:\.ipynb)?\b|\bthis task\b|\bbuilt offline\b|'  # and talk about the build's machines
                   r'\b(?:other )?jobs? of ours\b|\bshared machine\b|\bour (?:machine|runner|server)s?\b|\bthe time of this grid\b', re.I)
# an example that ends in one of these shows something (a table, a plot, a printout)
SHOWS = {'print', 'display', 'fit', 'fit_one_cycle', 'fit_flat_cos', 'fine_tune', 'plot', 'show', 'show_batch',
         'show_results', 'summary', 'lr_find', 'plot_loss'}

def shows_output(code):
    "Whether a cell's code ends in an expression whose value or printout Jupyter shows"
    try: tree = ast.parse(code)
    except (SyntaxError, ValueError): return False
    if not tree.body or code.rstrip().endswith(';'): return False
    last = tree.body[-1]
    if not isinstance(last, ast.Expr): return False
    v = last.value
    if isinstance(v, ast.Constant): return not isinstance(v.value, str) and v.value is not None
    if isinstance(v, (ast.Name, ast.Attribute, ast.Subscript, ast.Tuple, ast.List, ast.Dict, ast.Set, ast.Compare,
                      ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.ListComp, ast.DictComp)): return True
    if isinstance(v, ast.Call):
        f = v.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, 'id', '')
        return name in SHOWS or name.endswith('summary') or name.startswith(('plot', 'show', 'fit'))
    return False

def private(name): return any(p.startswith('_') and not (p.startswith('__') and p.endswith('__')) for p in name.split('.'))

def exported():
    "{page: [names]}: each public function/class in a module's `__all__`, on the page `_modidx` gives it"
    sys.path.insert(0, str(ROOT))
    from normbook._modidx import d
    want = {}
    for mod, syms in d['syms'].items():
        m = importlib.import_module(mod)
        for name in getattr(m, '__all__', []):
            obj, key = getattr(m, name, None), f'{mod}.{name}'
            if key in syms and (inspect.isclass(obj) or inspect.isfunction(obj)) and getattr(obj, '__module__', mod) == mod:
                want.setdefault(syms[key][0].split('#')[0], []).append(name)
    return want

def serve(root):
    handler = functools.partial(type('Quiet', (SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}), directory=str(root))
    srv = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    srv.handle_error = lambda *a: None  # a request the browser dropped (a favicon when the next page loads) is no failure
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv

class Site:
    "A built site served on localhost and read by one Chromium"
    def __init__(self, br, root):
        self.root, self.srv = Path(root), serve(root)
        self.base = f'http://127.0.0.1:{self.srv.server_address[1]}/'
        self.outside, self.errors, self.ctx = [], [], {}
        for w in (WIDE, NARROW):
            ctx = br.new_context(viewport={'width': w, 'height': 900})
            ctx.route('**/*', self.route)
            pg = ctx.new_page()
            pg.on('pageerror', lambda e: self.errors.append(str(e)))
            pg.on('requestfailed', lambda r: self.errors.append(f'failed to load {r.url}')  # not one cut short by the next page
                  if r.url.startswith(self.base) and 'ERR_ABORTED' not in (r.failure or '') else None)
            self.ctx[w] = (ctx, pg)
    def route(self, r):
        u = r.request.url
        if u.startswith(self.base) or u.startswith('data:'): return r.continue_()
        self.outside.append(u); r.abort()
    def pages(self): return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob('*.html'))
    def close(self):
        for ctx, _ in self.ctx.values(): ctx.close()
        self.srv.shutdown(); self.srv.server_close()

def check_pages(site, rels, want, follow=True):
    "Check pages `rels` of `site` (and, with `follow`, the pages their links go to); returns (failures, info per page, links)"
    fails, info, narrow = [], {}, {}
    pg = site.ctx[WIDE][1]
    def load(rel):
        if rel in info or not (site.root/rel).is_file(): return info.get(rel)
        site.errors.clear()
        resp = pg.goto(site.base + rel, wait_until='load')
        i = info[rel] = pg.evaluate(PAGE_JS)
        i['status'], i['js_errors'] = resp and resp.status, list(site.errors)
        return i
    for rel in rels: load(rel)
    for rel in rels:  # 390 px
        site.errors.clear()
        npg = site.ctx[NARROW][1]
        anchor = info[rel].get('anchor') or ''
        npg.goto(site.base + rel + (f'#{anchor}' if anchor else ''), wait_until='load')
        narrow[rel] = info[rel]['narrow'] = npg.evaluate(NARROW_JS, anchor)
        info[rel]['js_errors'] += site.errors
    for rel in rels:
        i, w = info[rel], f'{rel}:'
        if i['status'] != 200: fails.append(f'{w} HTTP {i["status"]}')
        if not i['title'].strip(): fails.append(f'{w} no <title>')
        if not i['sidebar']: fails.append(f'{w} no sidebar')
        raw = re.findall(r'\$\$.+?\$\$|\$[^\s$][^$]*?\$', i['raw_dollar'], flags=re.S)
        if raw: fails.append(f'{w} [raw-text] unrendered math {raw[:3]}')
        if (m := RAW_TEX.findall(i['prose'])): fails.append(f'{w} [raw-text] raw TeX in the text: {m[:3]}')
        if (m := RAW_LINK.findall(i['prose'])): fails.append(f'{w} [raw-text] raw markdown link syntax in the text: {m[:3]}')
        if (m := NOISE.findall(i['prose'])): fails.append(f'{w} [noise] notes for developers in the text: {sorted(set(m))[:4]}')
        if i['katex_errors']: fails.append(f'{w} KaTeX errors {i["katex_errors"][:3]}')
        fails += [f'{w} image does not load: {m["src"][:120]}' for m in i['imgs'] if not m['ok']]
        fails += [f'{w} {e}' for e in dict.fromkeys(i['js_errors'])]
        for o in i['outputs']:
            if 'cell-output-error' in o['cls'] or (m := BAD_OUT.search(o['text'])):
                line = next((l for l in o['text'].splitlines() if BAD_OUT.search(l)), o['text'].strip().splitlines()[0] if o['text'].strip() else '')
                fails.append(f'{w} [traceback] traceback or warning in an output: {line.strip()[:160]!r}')
        ex = [c for c in i['cells'] if c['code'] is not None]  # the examples show their outputs
        if ex:
            if len(ex) > 1 and not any(c['outs'] for c in i['cells']):
                fails.append(f'{w} [no-output] no example on this {"API " * bool(i["doc_headings"])}page shows an output ({len(ex)} examples)')
            else:
                # a cell `make test` skips (`#| slow`, `#| cuda`) may show nothing; the page says what runs it
                silent = [c['code'].strip().splitlines()[-1] for c in ex if not c['outs'] and not c['flagged'] and shows_output(c['code'])]
                if silent: fails.append(f'{w} [no-output] {len(silent)} example(s) end in an expression but show no output: {silent[:4]}')
        seen, dup = set(), []
        for x in i['ids']:
            if x.lower() in seen: dup.append(x)
            seen.add(x.lower())
        if dup: fails.append(f'{w} [case-ids] ids that differ only by case, or repeat: {dup[:5]}')
        names = [h['text'] for h in i['doc_headings']]
        if (d := sorted({n for n in names if names.count(n) > 1})): fails.append(f'{w} [twice] entries documented twice: {d[:5]}')
        if (e := [h['text'] for h in i['doc_headings'] if not h['said']]): fails.append(f'{w} [empty-entry] entries that say nothing: {e[:5]}')
        early = [n for k, n in enumerate(names) if '.' in n and n.rsplit('.', 1)[0] in names[k + 1:]]
        if early: fails.append(f'{w} [order] entries before their class: {early[:5]}')
        priv = [h['text'] for h in i['doc_headings'] if private(h['text'])]
        if priv: fails.append(f'{w} [private] private names documented: {priv[:5]}')
        n = narrow[rel]
        if n['width'] > NARROW: fails.append(f'{w} [too-wide] {n["width"]} px wide in a {NARROW} px viewport')
        fails += page_fails(rel, i, n, first=rel == rels[0])
        if n['top'] > 400: fails.append(f'{w} [mobile] at {NARROW} px the content starts {n["top"]} px down (sidebar not collapsed?)')
    fails += citation_fails({rel: info[rel] for rel in rels})
    if 'index.html' in rels and (site.root/'site_libs'/'site.js').exists(): fails += search_ui_fails(site)
    # links into the site: the page exists, so does the anchor, and a link that names an entry lands on it
    nlinks = 0
    for rel in rels:
        named = {l['href']: l['text'] for l in info[rel]['code_links']}
        for href in info[rel]['links']:
            if not href.startswith(site.base): continue
            path, _, frag = href[len(site.base):].partition('#')
            frag, path = urllib.parse.unquote(frag), (path.split('?')[0] or 'index.html')
            if path.endswith('/'): path += 'index.html'
            nlinks += 1
            if not (site.root/path).is_file(): fails.append(f'{rel}: broken link {href[len(site.base):]}'); continue
            t = load(path) if path.endswith('.html') and (follow or path in info) else None
            if not (frag and t): continue
            if frag not in t['ids']: fails.append(f'{rel}: missing anchor {href[len(site.base):]}'); continue
            h = next((h['text'] for h in t['doc_headings'] if h['id'] == frag), None)
            name = named.get(href, '').removesuffix('()')
            if h and name and re.fullmatch(r'[\w.]+', name) and not (h == name or name.endswith('.' + h) or h.endswith('.' + name)):
                fails.append(f'{rel}: [wrong-anchor] the link `{name}` lands on the entry `{h}` ({href[len(site.base):]})')
    # the show_doc entries of exported names, and the search finding them
    for page, names in sorted(want.items()):
        if page not in rels: continue
        fails += [f'{page}: no show_doc entry for {n}' for n in names if n not in info[page]['headings']]
    fails += search_fails(site, info, {p: n for p, n in want.items() if p in rels})
    return fails, info, nlinks

PROGRESS = re.compile(r'\|[█\-]{3,}\|\s*\d+(?:\.\d+)?%|^\s*█+\s*$|^epoch {2,}train_loss', re.M)
LIST_IN_P = re.compile(r'\n[ \t]*(?:[-*+]|\d+[.)])[ \t]+\S')
CITE = re.compile(r'\b([A-Z][a-z]+(?: (?:&|and) [A-Z][a-z]+| et al\.))(?:,? \(?|, [A-Z][A-Za-z]* |,? \((?:[A-Z]+ )?)((?:19|20)\d\d)\b')

def page_fails(rel, i, n, first=False):
    "The checks of docs.fast.ai's look and of a phone's screen, for page `rel` (`i`: read at 1280 px, `n`: at 390 px)"
    w, fails = f'{rel}:', []
    for o in i['outputs']:  # fastprogress's console bars instead of fastai's epoch table
        if m := PROGRESS.search(o['text']): fails.append(f'{w} [progress] progress-bar frames in an output: {m[0].strip()[:60]!r}'); break
    for e in i['entries']:  # as docs.fast.ai: a class/def/property label, readable types, docs in a table, **kwargs described
        if e['kind'] not in ('class', 'def', 'async def', 'property'): fails.append(f'{w} [api] {e["name"]}: no class/def/property label'); continue
        if re.search(r':\s*NoneType\b', e['sig']): fails.append(f'{w} [api] {e["name"]}: a type written as NoneType in {e["sig"].strip()[:60]!r}')
        if re.search(r',\s*#\s|\(\s*#\s', e['sig']): fails.append(f'{w} [api] {e["name"]}: parameter docs as comments in the signature')
        if '**' in e['sig'] and not e['kw']: fails.append(f'{w} [api] {e["name"]}: **kwargs not described')
    for b in i['boxes'] + n['boxes']: fails.append(f'{w} [scroll] {b}')
    a = n.get('anchor')
    if a and a['top'] < a['below'] - 1: fails.append(f'{w} [anchor] #{i["anchor"]} lands under a sticky bar at {NARROW} px ({a["top"]} < {a["below"]} px)')
    for v in n.get('verdicts', []):
        if v['wide'] or not v['first']: fails.append(f'{w} [verdict] at {NARROW} px the verdict table ' +
                                                    ('runs off the screen' if v['wide'] else 'does not show the verdict first'))
    for p in i['paras']:
        if LIST_IN_P.search(p['text']): fails.append(f'{w} [list] a list rendered as one paragraph: {p["text"].strip()[:60]!r}')
        if p['last'] and p['text'].strip().endswith(':'): fails.append(f'{w} [colon] a paragraph ends with a colon and nothing after it: {p["text"].strip()[-60:]!r}')
    if not i['icon']: fails.append(f'{w} [favicon] no favicon')
    if first:  # the sidebar, in reading order: a group's own page first, no group of one page ("Models › Models")
        for sec in i['sections']:
            if len(sec['pages']) == 1: fails.append(f'{w} [sidebar] a group of one page: {sec["title"]} › {sec["pages"][0]}')
            if sec['title'] in sec['pages'][1:]: fails.append(f'{w} [sidebar] the group {sec["title"]} lists {sec["pages"][0]} before its own page')
    return fails

def citation_fails(info):
    "One citation style for each paper: the same authors always with the same year"
    years = {}
    for rel, i in info.items():
        for a, y in CITE.findall(i['prose']): years.setdefault(a, {}).setdefault(y, rel)
    return [f'[citation] {a} cited with the years {", ".join(sorted(ys))} ({", ".join(sorted(set(ys.values())))})' for a, ys in years.items() if len(ys) > 1]

SEARCH_UI_JS = """async () => { const box = document.getElementById('search'), out = document.getElementById('search-results');
  box.focus(); box.value = 'FRN'; box.dispatchEvent(new Event('input'));
  const r = out.getBoundingClientRect(), width = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  const key = k => box.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true, cancelable: true}));
  key('ArrowDown'); key('ArrowDown');
  const act = [...out.querySelectorAll('a')].findIndex(a => a.classList.contains('active') || a.getAttribute('aria-selected') === 'true' || a === document.activeElement);
  key('Escape');
  return {width, left: r.left, right: r.right, vw: window.innerWidth, shown: r.width > 0, act, closed: out.hidden || !out.getBoundingClientRect().width}; }"""

def search_ui_fails(site, rel='index.html'):
    "At 390 px the search results stay on the screen, and the arrows, Enter and Escape work in them"
    npg, w = site.ctx[NARROW][1], f'{rel}:'
    npg.goto(site.base + rel, wait_until='load')
    if not npg.locator('#search').count(): return []
    r, fails = npg.evaluate(SEARCH_UI_JS), []
    if r['width'] > NARROW or r['left'] < 0 or r['right'] > r['vw']:
        fails.append(f'{w} [search-ui] at {NARROW} px the search results run off the screen ({r["left"]:.0f}..{r["right"]:.0f} px, page {r["width"]} px)')
    if r['act'] != 1: fails.append(f'{w} [search-ui] the arrow keys do not move through the search results')
    if not r['closed']: fails.append(f'{w} [search-ui] Escape does not close the search results')
    npg.fill('#search', 'FRN'); npg.press('#search', 'Enter')
    try: npg.wait_for_url(lambda u: u.split('#')[0] != site.base + rel, timeout=3000)
    except Exception: fails.append(f'{w} [search-ui] Enter does not open a search result')
    return fails

SEARCH_JS = """async names => { const box = document.getElementById('search'), res = {};
  for (const n of names) { box.value = n; box.dispatchEvent(new Event('input'));
    res[n] = [...document.querySelectorAll('#search-results a')].map(a => ({title: (a.querySelector('b') || a).textContent.trim(),
      href: a.getAttribute('href')})); }
  box.value = ''; box.dispatchEvent(new Event('input')); return res; }"""

def search_fails(site, info, want):
    "Each exported name typed into the site's search box must give a result that links to its entry"
    names = sorted({n for ns in want.values() for n in ns})
    if not names: return []
    fails = []
    if (site.root/'site_libs'/'search.js').exists():  # the fallback's own search box
        pg = site.ctx[WIDE][1]
        pg.goto(site.base + 'index.html', wait_until='load')
        hits = pg.evaluate(SEARCH_JS, names)
        for page, ns in want.items():
            ids = {h['text']: h['id'] for h in info[page]['doc_headings']}
            for n in ns:
                good = [h for h in hits[n] if h['title'] == n and urllib.parse.urljoin(site.base + 'index.html', h['href'])
                        .endswith(f'{page}#{ids.get(n, "")}')]
                if not good: fails.append(f'{page}: [search] searching for {n} finds no link to its entry')
    elif (site.root/'search.json').exists():  # Quarto's index
        idx = json.loads((site.root/'search.json').read_text())
        for page, ns in want.items():
            for n in ns:
                if not any(e.get('href', '').split('#')[0] == page and (n in e.get('title', '') or n in e.get('section', '')) for e in idx):
                    fails.append(f'{page}: [search] search.json has no entry for {n}')
    else: fails.append('[search] the site has no search index (site_libs/search.js or search.json)')
    return fails

# ---------------------------------------------------------------- each check, proved on a broken copy of the site
def mutate(site, rel, js, arg=None):
    "Change page `rel` of a copied site in the browser and save it back"
    pg = site.ctx[WIDE][1]
    pg.goto(site.base + rel, wait_until='load')
    pg.evaluate(js, arg)
    (site.root/rel).write_text('<!DOCTYPE html>\n' + pg.content())

ADD_JS = "html => (document.querySelector('main') || document.body).insertAdjacentHTML('beforeend', html)"
NO_OUTPUTS = "() => document.querySelectorAll('.cell-output, .cell-output-display, .cell-output-stdout, .cell-output-stderr').forEach(e => e.remove())"
BREAKS = [  # (what, tag the check must report, page chooser, how)
    ('example outputs removed from an API page', 'no-output', 'api', NO_OUTPUTS),
    ('outputs removed from an experiment page', 'no-output', 'plain', NO_OUTPUTS),
    ('raw TeX in the text', 'raw-text', 'any', (ADD_JS, '<p>the ratio \\frac{a}{b} of the two</p>')),
    ('a raw markdown link in the text', 'raw-text', 'any', (ADD_JS, '<p>see [the layers](layers.ipynb) for more</p>')),
    ('a broken markdown link in the text', 'raw-text', 'any', (ADD_JS, '<p>see [the layers](02_layers.ipynb for more</p>')),
    ('a traceback in an output', 'traceback', 'any', (ADD_JS, '<div class="cell"><div class="cell-output cell-output-stdout"><pre><code>'
     'Traceback (most recent call last):\n  File "x.py", line 1\nValueError: bad</code></pre></div></div>')),
    ('a warning on stderr', 'traceback', 'any', (ADD_JS, '<div class="cell"><div class="cell-output cell-output-stderr"><pre><code>'
     '/tmp/ipykernel_12/345.py:2: UserWarning: something</code></pre></div></div>')),
    ('a link to an entry retargeted to another entry', 'wrong-anchor', 'link', None),
    ('a private name documented', 'private', 'api', "() => { const h = document.querySelector("
     "':is(h2, h3, h4).doc-entry, section.doc-entry > :is(h2, h3, h4), :is(.showdoc, .cell) :is(h2, h3, h4)'); "
     "h.textContent = '_hidden_helper'; }"),
    ('two entries whose ids differ only by case', 'case-ids', 'api', "() => { const h = [...document.querySelectorAll("
     "':is(h2, h3, h4).doc-entry, section.doc-entry > :is(h2, h3, h4)')], el = x => x.id ? x : x.parentElement; "
     "el(h[1]).id = el(h[0]).id.toUpperCase(); }"),
    ('an entry documented twice', 'twice', 'api', "() => { const c = document.querySelector('.doc-entry').closest('.showdoc, section'); "
     "c.after(c.cloneNode(true)); }"),
    ('an entry that says nothing', 'empty-entry', 'api', "() => { const h = document.querySelector('.doc-entry'); "
     "for (let e = h.nextElementSibling; e; ) { const n = e.nextElementSibling; if (!e.matches('div.sourceCode, pre, hr')) e.remove(); e = n; } }"),
    ('a method before its class', 'order', 'method', "() => { const all = [...document.querySelectorAll('.doc-entry')]; "
     "const h = all.find(h => all.some(m => m.textContent.startsWith(h.textContent + '.'))); "
     "const c = h.closest('.showdoc, section'); c.parentElement.append(c); }"),
    ('a page wider than 390 px', 'too-wide', 'any', (ADD_JS, '<div style="width: 600px; height: 4px"></div>')),
    ('an exported name missing from the search index', 'search', 'search', None),
    ('fastprogress console bars in an output', 'progress', 'any', (ADD_JS, '<div class="cell"><div class="cell-output cell-output-stdout"><pre><code>'
     '█\nepoch     train_loss  valid_loss  accuracy  time\nEpoch 1/1 : |██------| 6.45% [2/31 00:00&lt;00:01]</code></pre></div></div>')),
    ('a class shown as a def with NoneType and comments', 'api', 'api', "() => { const h = document.querySelector('.doc-entry'); "
     "for (let e = h.nextElementSibling; e && !e.matches('h2, h3, h4'); ) { const n = e.nextElementSibling; if (e.matches('.doc-signature, .doc-params')) e.remove(); e = n; } "
     "h.insertAdjacentHTML('afterend', '<div class=\"sourceCode\"><pre><code>def X(\\n    n:int, # the size\\n    device:NoneType=None, # where\\n):</code></pre></div>'); }"),
    ('**kwargs without a description', 'api', 'kwargs', "() => { for (const tr of document.querySelectorAll('.doc-params tr')) "
     "if (tr.cells[0].textContent.trim().startsWith('**')) tr.cells[tr.cells.length - 1].textContent = ''; }"),
    ('a wide table cut off, outside a scroll box', 'scroll', 'any', (ADD_JS, '<table><tr><td style="white-space: nowrap; min-width: 1600px">wide</td></tr></table>')),
    ('a wide table that scrolls with no hint', 'scroll', 'any', (ADD_JS, '<style>.scroll-box.overflowing::before { content: none !important; }</style>'
     '<div class="scroll-box"><table><tr><td style="white-space: nowrap; min-width: 1600px">wide</td></tr></table></div>')),
    ('an anchor under the sticky bars', 'anchor', 'api', (ADD_JS, '<style>[id] { scroll-margin-top: 0 !important; } html { scroll-padding-top: 0 !important; }</style>')),
    ('a verdict table that runs off a phone', 'verdict', 'verdict', (ADD_JS, '<style>table.stack, table.stack * { display: revert !important; } '
     'table.stack td { white-space: nowrap; }</style>')),
    ('a list rendered as one paragraph', 'list', 'any', (ADD_JS, '<p>The settings:\n- one\n- two</p>')),
    ('a paragraph ending with a colon and nothing after', 'colon', 'any', (ADD_JS, '<p>The summary of the runs:</p>')),
    ('build and machine talk in the text', 'noise', 'any', (ADD_JS, '<p>timed with no other job of ours running on the shared machine</p>')),
    ('one paper cited with two years', 'citation', 'any', (ADD_JS, '<p>as in Ioffe &amp; Szegedy (2015), and Ioffe &amp; Szegedy, 2016</p>')),
    ('a one-page group in the sidebar', 'sidebar', 'any', "() => { const a = [...document.querySelectorAll('#sidebar > ul > li.sidebar-item')].pop(); "
     "a.outerHTML = `<li class=\"sidebar-section\"><div class=\"sidebar-section-title\">${a.textContent.trim()}</div><ul>${a.outerHTML}</ul></li>`; }"),
    ('a group listing another page before its own', 'sidebar', 'any', "() => { const s = [...document.querySelectorAll('#sidebar .sidebar-section')]"
     ".find(s => s.querySelectorAll(':scope > ul > li').length > 1 && [...s.querySelectorAll(':scope > ul > li > a')].some(a => a.textContent.trim() === "
     "s.querySelector('.sidebar-section-title').textContent.trim())); const ul = s.querySelector(':scope > ul'); ul.append(ul.firstElementChild); }"),
    ('no favicon', 'favicon', 'any', "() => document.querySelectorAll('link[rel~=icon]').forEach(l => l.remove())"),
    ('search results wider than a phone', 'search-ui', 'any', lambda copy: (copy/'site_libs'/'site.css').write_text((copy/'site_libs'/'site.css').read_text() +
     '\n#search-wrap { position: relative !important; } #search-results { position: absolute !important; left: 0 !important; right: auto !important;'
     ' width: 26rem !important; max-width: none !important; }\n')),
    ('no keyboard in the search results', 'search-ui', 'any', (ADD_JS, '<script>document.getElementById("search")'
     '.addEventListener("keydown", e => e.stopImmediatePropagation(), true)</script>')),
]

def selftest(br, site_dir, info, want, before=()):
    "Break a copy of the site once per check and make sure that check reports it; returns failures of the test itself"
    api = [p for p, i in info.items() if i['doc_headings'] and any(c['outs'] for c in i['cells'])]
    link = next(((rel, l, t) for rel, i in info.items() for l in i['code_links'] for t in [l['href'].split('#')]
                 if len(t) == 2 and t[0].startswith('http') and l['text'].removesuffix('()') in
                 [h['text'] for h in info.get(urllib.parse.urlparse(t[0]).path.lstrip('/') or 'index.html', {}).get('doc_headings', [])]), None)
    plain = sorted((p for p, i in info.items() if not i['doc_headings'] and sum(c['outs'] > 0 for c in i['cells']) > 1),
                   key=lambda p: not p.startswith('experiments/'))
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for what, tag, choose, how in BREAKS:
            copy = Path(tmp)/f'{tag}-{choose}'
            if copy.exists(): shutil.rmtree(copy)
            shutil.copytree(site_dir, copy)
            site = Site(br, copy)
            try:
                w = {}
                clean = lambda ps: ([p for p in ps if not any(f.startswith(f'{p}: [{tag}]') for f in before)] or [None])[0]  # not failing already
                if choose == 'api': rel = clean(api)
                elif choose == 'plain': rel = clean(plain)
                elif choose == 'method': rel = clean([p for p, i in info.items() if any(h['text'].rsplit('.', 1)[0] in
                                                      [g['text'] for g in i['doc_headings']] for h in i['doc_headings'] if '.' in h['text'])])
                elif choose == 'any': rel = 'index.html'
                elif choose == 'link':
                    if not link: bad.append(f'cannot test "{what}": no link to an entry on the site'); continue
                    rel, l, (url, frag) = link
                    target = urllib.parse.urlparse(url).path.lstrip('/') or 'index.html'
                    other = next((h['id'] for h in info[target]['doc_headings'] if h['text'] != l['text'].removesuffix('()') and h['id']), None)
                    js = ("([text, other]) => { const a = [...document.querySelectorAll('main a[href]')].find(a => a.textContent.trim() === text"
                          " && a.firstElementChild && a.firstElementChild.tagName === 'CODE'); a.href = a.href.split('#')[0] + '#' + other; }")
                    mutate(site, rel, js, [l['text'], other])
                elif choose == 'search':
                    page, names = next(iter(sorted(want.items())))
                    rel, w = page, {page: [names[0]]}
                    f = copy/'site_libs'/'search.js'
                    if f.exists():
                        entries = json.loads(f.read_text().removeprefix('window.SEARCH = ').rstrip().rstrip(';'))
                        f.write_text('window.SEARCH = ' + json.dumps([e for e in entries if e['title'] != names[0]]) + ';\n')
                    else:
                        f = copy/'search.json'
                        f.write_text(json.dumps([e for e in json.loads(f.read_text()) if names[0] not in e.get('title', '') + e.get('section', '')]))
                elif choose == 'kwargs': rel = clean([p for p, i in info.items() if any(e['kw'] for e in i['entries'])])
                elif choose == 'verdict': rel = clean([p for p, i in info.items() if i.get('narrow', {}).get('verdicts')])
                if rel is None: bad.append(f'cannot test "{what}": no page to break'); continue
                try:
                    if callable(how): how(copy)
                    elif isinstance(how, tuple): mutate(site, rel, *how)
                    elif isinstance(how, str): mutate(site, rel, how)
                except Exception as e: bad.append(f'cannot test "{what}": breaking {rel} failed: {str(e).splitlines()[0]}'); continue
                fails, _, _ = check_pages(site, [rel], w, follow=choose == 'link')
                hit = [f for f in fails if f'[{tag}]' in f and f not in before]
                print(f'  broken copy, {what} on {rel}: ' + (hit[0] if hit else 'NOT DETECTED'))
                if not hit: bad.append(f'the check for "{what}" did not fail on a copy of the site broken that way ({rel})')
            finally: site.close()
    return bad

def builder_checks():
    "The builder's fixes to nbdev's markdown, on the cases that broke the site once; returns failures"
    sys.path.insert(0, str(ROOT/'tools'))
    import build_docs as bd
    url, fails = 'https://normbook.github.io/normbook/', []
    ids = {'layers.html': bd.entry_ids(['frn', 'FRN', 'FRN.forward', 'tlu', 'TLU'])}
    vals = [v.lower() for v in ids['layers.html'].values()]
    if len(set(vals)) != len(vals): fails.append(f'[builder] ids that differ only by case: {ids}')
    md = bd.fix_markdown(f'[`FRN`]({url}layers.html#frn), [`frn`](02_layers.ipynb#frn), [`TLU`](layers.html#tlu)', 'index.html', ids, url)
    want = f'[`FRN`]({url}layers.html#frn-class), [`frn`](02_layers.ipynb#frn), [`TLU`](layers.html#tlu-class)'
    if md != want: fails.append(f'[builder] links to FRN/TLU do not land on the classes: {md}')
    md = bd.fix_markdown(f'the [[`mininet`]({url}models.html#mininet)](05_models.ipynb#mininet) net', 'index.html', {}, url)
    if md != 'the [`mininet`](05_models.ipynb#mininet) net': fails.append(f'[builder] a link nested in a link: {md}')
    md = bd.fix_markdown('---\n\n### FRN\n\n*over a (B, C, *spatial) input, `x * y`*', 'layers.html', ids, url, showdoc=True)
    if '(B, C, \\*spatial)' not in md or '`x * y`' not in md or '{#frn-class .doc-entry}' not in md:
        fails.append(f'[builder] show_doc markdown not fixed (star in the docstring, entry id): {md!r}')
    frames = '█\repoch     train_loss  valid_loss  time    \n█\r\rEpoch 1/1 : |██------| 6.45% [2/31 00:00<00:01... 2.4]\r0         1.23        0.82        00:01     \n'
    outs = bd.fit_outputs([{'output_type': 'stream', 'name': 'stdout', 'text': frames}])
    if len(outs) != 1 or '<td>1.23</td>' not in outs[0].get('data', {}).get('text/html', '') or '█' in json.dumps(outs):
        fails.append(f'[builder] fastprogress console text not made an epoch table: {outs}')
    if '\n\n- one' not in bd.list_breaks('The settings:\n- one\n- two'): fails.append('[builder] a list after a paragraph line stays in the paragraph')
    return fails

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--site', default=str(ROOT/'_docs'), help='the built site (default _docs/)')
    ap.add_argument('--no-build', action='store_true', help='test the site already built in --site')
    ap.add_argument('--no-selftest', action='store_true', help='skip breaking copies of the site to prove the checks')
    ap.add_argument('--require-browser', action='store_true', help='fail, instead of skipping, without Chromium (the deploy)')
    a = ap.parse_args()
    docs = Path(a.site).resolve()
    if (bad := builder_checks()): sys.exit('FAILED:\n  ' + '\n  '.join(bad))
    exe = find_chromium()
    if not exe and a.require_browser: sys.exit('FAILED: no Chromium (or Chrome) to check the site with')
    if not exe: return print('SKIP: no chromium and no apt-get to install it; the docs were not checked in a browser')
    try: from playwright.sync_api import sync_playwright
    except ImportError: sys.exit('playwright is missing: `pip install -e ".[dev]"`')
    t0, fails = time.time(), []
    if not a.no_build:  # the offline fallback: what CI builds, and Quarto's site would load KaTeX from a CDN
        b = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--fallback'], cwd=ROOT, capture_output=True, text=True)
        print(b.stdout[-4000:], b.stderr[-4000:], sep='\n')
        if b.returncode: fails.append(f'make docs failed (exit {b.returncode}); the pages that were built are checked below')
        print(f'built the site in {time.time()-t0:.0f}s')
    if not (docs/'index.html').exists(): sys.exit('\n'.join(fails + [f'no {docs}/index.html']))
    want = exported()
    with sync_playwright() as pw:
        br = pw.chromium.launch(executable_path=exe, args=ARGS)
        site = Site(br, docs)
        pages = site.pages()
        f, info, nlinks = check_pages(site, pages, want)
        fails += f
        quarto = any(i['quarto'] for i in info.values())
        out = sorted(set(site.outside))
        if quarto and out: print('note: the Quarto site loads from outside: ' + ', '.join(out[:5]))
        else: fails += [f'request to outside the site: {u}' for u in out]
        for rel in [p for p in ('math.html',) if p in pages] + sorted(p for p in pages if p.startswith('experiments/'))[:1]:
            pg = site.ctx[WIDE][1]
            pg.goto(site.base + rel, wait_until='load')
            name = Path(rel).stem
            pg.screenshot(path=str(docs/f'screenshot-{name}.png'))
            if pg.locator('main img').count():
                pg.locator('main img').first.scroll_into_view_if_needed()
                pg.screenshot(path=str(docs/f'screenshot-{name}-plot.png'))
        for rel in [p for p in ('index.html', 'layers.html#frntlu', 'reproductions.html') if p.split('#')[0] in pages]:  # both widths
            for w in (WIDE, NARROW):
                pg = site.ctx[w][1]
                pg.goto(site.base + rel, wait_until='load')
                pg.screenshot(path=str(docs/f'screenshot-{Path(rel.split("#")[0]).stem}-{w}.png'))
        if 'index.html' in pages and (docs/'site_libs'/'site.js').exists():  # the narrow screen's sidebar toggle opens the sidebar
            npg = site.ctx[NARROW][1]
            npg.goto(site.base + 'index.html', wait_until='load')
            if not npg.locator('#sidebar-toggle').is_visible(): fails.append(f'index.html: [mobile] no sidebar toggle at {NARROW} px')
            else:
                shown = npg.locator('#sidebar').is_visible()
                npg.click('#sidebar-toggle')
                if shown or not npg.locator('#sidebar').is_visible(): fails.append(f'index.html: [mobile] the sidebar toggle does not open the sidebar')
        site.close()
        for p in sorted(want): fails += [f'{p}: no such page, but _modidx puts {", ".join(want[p])} there'] if p not in info else []
        if 'math.html' in info and not info['math.html']['math']: fails.append('math.html: no rendered equations')
        print(f'checked {len(info)} pages at {WIDE} and {NARROW} px, {nlinks} internal links, '
              f'{sum(len(v) for v in want.values())} show_doc entries in {time.time()-t0:.0f}s')
        if not a.no_selftest:
            t1 = time.time()
            bad = selftest(br, docs, info, want, fails)
            fails += [f'[selftest] {b}' for b in bad]
            print(f'proved {len(BREAKS) - len(bad)} of {len(BREAKS)} checks on broken copies of the site in {time.time()-t1:.0f}s')
        br.close()
    if fails: sys.exit('FAILED:\n  ' + '\n  '.join(fails))
    print('docs OK')

if __name__ == '__main__': main()
