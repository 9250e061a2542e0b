#!/usr/bin/env python
"""Build the docs site (`tools/build_docs.py`, what `make docs` runs) and read every page in headless Chromium.

Each page must have a title and the sidebar, no unrendered `$...$` math and no KaTeX error, every `<img>` loaded, every
link into the site pointing at a page and anchor that exist, and no request leaving the machine. Each public function
and class that a module exports (its `__all__`) must have its `show_doc` entry, a heading with its name, on the page
nbdev's index (`normbook/_modidx.py`) names for it. Screenshots of the math page and one experiment page are saved as
`_docs/screenshot-*.png`. Skips (exit 0) only when Chromium is missing and apt-get can't install it."""
import functools, importlib, urllib.parse, inspect, json, re, shutil, subprocess, sys, threading, time
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT/'_docs'
ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--no-first-run', '--disable-sync', '--disable-quic']

def find_chromium():
    exe = shutil.which('chromium') or next((p for p in ('/usr/bin/chromium', '/usr/bin/chromium-browser') if Path(p).exists()), None)
    if exe or not shutil.which('apt-get'): return exe
    subprocess.run(['bash', str(ROOT/'tools'/'setup_system.sh'), '--browser'])
    return shutil.which('chromium')

# Text outside code, scripts and rendered math; what's left must hold no `$...$`
RAW_MATH_JS = """() => { const out = [], w = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  while (w.nextNode()) { const n = w.currentNode;
    if (!n.parentElement.closest('pre, code, script, style, .katex, math, .cell-output')) out.push(n.textContent); }
  return out.join(' '); }"""

PAGE_JS = """() => ({
  title: document.title,
  sidebar: document.querySelectorAll('#sidebar a[href], #quarto-sidebar a[href]').length,
  math: document.querySelectorAll('.katex, math').length,
  katex_errors: [...document.querySelectorAll('.katex-error')].map(e => e.title || e.textContent),
  imgs: [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0})),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  headings: [...document.querySelectorAll('h1, h2, h3, h4')].map(h => h.textContent.trim()),
})"""

def exported(pages):
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
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv

def main():
    exe = find_chromium()
    if not exe: return print('SKIP: no chromium and no apt-get to install it; the docs were not checked in a browser')
    try: from playwright.sync_api import sync_playwright
    except ImportError: sys.exit('playwright is missing: `pip install -e ".[dev]"`')
    t0 = time.time()
    # always the offline fallback: it is what CI builds, and Quarto's site would load KaTeX from a CDN
    b = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--fallback'], cwd=ROOT, capture_output=True, text=True)
    print(b.stdout[-4000:], b.stderr[-4000:], sep='\n')
    fails = [] if b.returncode == 0 else [f'make docs failed (exit {b.returncode}); the pages that were built are checked below']
    print(f'built the site in {time.time()-t0:.0f}s')
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob('*.html'))
    if 'index.html' not in pages: sys.exit('\n'.join(fails + ['no _docs/index.html']))
    srv = serve(DOCS)
    base = f'http://127.0.0.1:{srv.server_address[1]}/'
    info, outside = {}, []
    with sync_playwright() as pw:
        br = pw.chromium.launch(executable_path=exe, args=ARGS)
        ctx = br.new_context(viewport={'width': 1400, 'height': 1000})
        def route(r):
            if r.request.url.startswith(base) or r.request.url.startswith('data:'): return r.continue_()
            outside.append(r.request.url); r.abort()
        ctx.route('**/*', route)
        pg = ctx.new_page()
        errors = []
        pg.on('pageerror', lambda e: errors.append(str(e)))
        pg.on('requestfailed', lambda r: errors.append(f'failed to load {r.url}') if r.url.startswith(base) else None)
        for rel in pages:
            errors.clear()
            resp = pg.goto(base + rel, wait_until='load')
            i = info[rel] = pg.evaluate(PAGE_JS)
            raw = re.findall(r'\$\$.+?\$\$|\$[^\s$][^$]*?\$', pg.evaluate(RAW_MATH_JS), flags=re.S)
            where = f'{rel}:'
            if not resp or resp.status != 200: fails.append(f'{where} HTTP {resp and resp.status}')
            if not i['title'].strip(): fails.append(f'{where} no <title>')
            if not i['sidebar']: fails.append(f'{where} no sidebar')
            if raw: fails.append(f'{where} unrendered math {raw[:3]}')
            if i['katex_errors']: fails.append(f'{where} KaTeX errors {i["katex_errors"][:3]}')
            fails += [f'{where} image does not load: {m["src"][:120]}' for m in i['imgs'] if not m['ok']]
            fails += [f'{where} {e}' for e in errors]
        exps = sorted((p for p in pages if p.startswith('experiments/')), key=lambda p: p != 'experiments/batch_size.html')
        shots = [p for p in ('math.html',) if p in pages] + exps[:1]
        for rel in shots:
            pg.goto(base + rel, wait_until='load')
            name = Path(rel).stem
            pg.screenshot(path=str(DOCS/f'screenshot-{name}.png'))
            if pg.locator('main img').count():  # the first plot, for the experiment pages
                pg.locator('main img').first.scroll_into_view_if_needed()
                pg.screenshot(path=str(DOCS/f'screenshot-{name}-plot.png'))
        br.close()
    srv.shutdown()
    # links into the site: the page exists and so does the anchor
    nlinks = 0
    for rel, i in info.items():
        for href in i['links']:
            if not href.startswith(base): continue
            path, _, frag = href[len(base):].partition('#')
            frag = urllib.parse.unquote(frag)
            path = path.split('?')[0] or 'index.html'
            if path.endswith('/'): path += 'index.html'
            nlinks += 1
            if not (DOCS/path).is_file(): fails.append(f'{rel}: broken link {href[len(base):]}')
            elif frag and path in info and frag not in info[path]['ids']: fails.append(f'{rel}: missing anchor {href[len(base):]}')
    fails += [f'request to outside the site: {u}' for u in sorted(set(outside))]
    # show_doc entries
    want = exported(pages)
    for page, names in sorted(want.items()):
        if page not in info: fails.append(f'{page}: no such page, but _modidx puts {", ".join(names)} there'); continue
        fails += [f'{page}: no show_doc entry for {n}' for n in names if n not in info[page]['headings']]
    if 'math.html' in info and not info['math.html']['math']: fails.append('math.html: no rendered equations')
    noplot = [p for p in info if p.startswith('experiments/') and not info[p]['imgs']]
    if noplot: print('note: no plots (notebook saved without outputs?) on ' + ', '.join(noplot))
    print(f'checked {len(info)} pages, {nlinks} internal links, {sum(len(v) for v in want.values())} show_doc entries '
          f'in {time.time()-t0:.0f}s; screenshots: ' + ', '.join(p.name for p in sorted(DOCS.glob('screenshot-*.png'))))
    if fails: sys.exit('FAILED:\n  ' + '\n  '.join(fails))
    print('docs OK')

if __name__ == '__main__': main()
