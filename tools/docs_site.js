// Search box, copy buttons and the narrow screens' sidebar toggle for the docs site built by tools/build_docs.py without Quarto (Quarto has its own).
(function () {
  const root = document.currentScript.dataset.root;
  document.addEventListener('DOMContentLoaded', () => {
    document.querySelectorAll('main div.sourceCode').forEach(div => {
      const b = document.createElement('button');
      b.className = 'code-copy'; b.type = 'button'; b.title = 'Copy to clipboard'; b.textContent = 'Copy';
      b.addEventListener('click', () => navigator.clipboard.writeText(div.querySelector('pre').innerText)
        .then(() => { b.textContent = 'Copied'; setTimeout(() => b.textContent = 'Copy', 1500); }));
      div.appendChild(b);
    });
    const tog = document.getElementById('sidebar-toggle'), side = document.getElementById('sidebar');
    if (tog && side) tog.addEventListener('click', () => {
      const open = side.classList.toggle('open');
      tog.setAttribute('aria-expanded', String(open));
    });
    // wide tables and equations scroll in their own box (the builder's `.scroll-box`); the ones that overflow show a hint
    const boxes = () => document.querySelectorAll('main .scroll-box').forEach(b => b.classList.toggle('overflowing', b.scrollWidth > b.clientWidth + 1));
    boxes(); window.addEventListener('resize', boxes); window.addEventListener('load', boxes);
    const box = document.getElementById('search'), out = document.getElementById('search-results');
    if (!box || !window.SEARCH) return;
    const esc = s => s.replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
    box.addEventListener('input', () => {
      const words = box.value.toLowerCase().split(/\s+/).filter(w => w.length > 1);
      if (!words.length) { out.hidden = true; return; }
      const hits = [];
      for (const e of window.SEARCH) {
        const hay = (e.title + ' ' + e.text).toLowerCase();
        if (!words.every(w => hay.includes(w))) continue;
        const t = e.title.toLowerCase(), q = words.join(' ');
        const score = (e.title === box.value.trim() ? 1000 : 0) + (t === q ? 100 : 0) +
          words.reduce((s, w) => s + (t.includes(w) ? 10 : 0) + (e.kind === 'page' ? 1 : 0), 0);
        hits.push([score, e]);
      }
      hits.sort((a, b) => b[0] - a[0]);
      out.innerHTML = hits.slice(0, 12).map(([, e]) => `<a href="${root}${e.href}"><b>${esc(e.title)}</b>` +
        (e.page !== e.title ? `<span>${esc(e.page)}</span>` : '') + '</a>').join('') || '<p>No results</p>';
      out.hidden = false;
    });
    document.addEventListener('click', ev => { if (!ev.target.closest('#search-wrap')) out.hidden = true; });
    // keyboard: arrows move through the results, Enter opens the chosen one (the first by default), Escape closes them
    let cur = -1;
    const mark = k => { const as = [...out.querySelectorAll('a')]; if (!as.length) return;
      cur = (k + as.length) % as.length; as.forEach((a, j) => a.classList.toggle('active', j === cur));
      as[cur].scrollIntoView({block: 'nearest'}); box.setAttribute('aria-activedescendant', as[cur].id); };
    box.addEventListener('input', () => { cur = -1; out.querySelectorAll('a').forEach((a, j) => { a.id = `search-hit-${j}`; a.setAttribute('role', 'option'); }); });
    box.addEventListener('keydown', ev => {
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') { if (out.hidden) return; ev.preventDefault(); mark(cur + (ev.key === 'ArrowDown' ? 1 : -1)); }
      else if (ev.key === 'Enter') { const a = out.querySelectorAll('a')[Math.max(cur, 0)]; if (a && !out.hidden) { ev.preventDefault(); window.location.href = a.href; } }
      else if (ev.key === 'Escape') { out.hidden = true; cur = -1; box.blur(); }
    });
    out.setAttribute('role', 'listbox');
  });
})();
