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
  });
})();
