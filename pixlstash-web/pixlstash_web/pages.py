"""Standalone pages served without login: the share recipient's view."""

RECIPIENT_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>Shared pictures</title><link rel="icon" href="data:,">
<style>
body{margin:0;font:15px/1.4 system-ui,sans-serif;background:#0f172a;color:#e2e8f0}
header{padding:14px 20px;display:flex;gap:12px;align-items:baseline}h1{font-size:20px;margin:0}
#count{color:#94a3b8}#grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:6px;padding:6px}
#grid button{padding:0;border:0;background:#1e293b;aspect-ratio:1;cursor:pointer}
#grid img{width:100%;height:100%;object-fit:cover;display:block}
#view{position:fixed;inset:0;background:rgba(0,0,0,.92);display:none;align-items:center;justify-content:center}
#view img{max-width:96vw;max-height:90vh}#view.open{display:flex}
#close{position:fixed;top:10px;right:16px;font-size:28px;background:none;color:#fff;border:0;cursor:pointer}
#download{position:fixed;bottom:14px;right:16px;color:#93c5fd}#more{margin:16px auto;display:none}
.error{padding:40px;text-align:center;color:#fca5a5}
</style></head><body>
<header><h1 id="title">Shared pictures</h1><span id="count"></span></header>
<main id="grid" aria-label="Shared pictures"></main><button id="more">Load more</button>
<div id="view" role="dialog" aria-label="Picture"><button id="close" aria-label="Close">×</button>
<img id="full" alt=""><a id="download" download>Download original</a></div>
<script>
const token = location.pathname.split('/').pop();
const api = '/api/v1/shared/' + encodeURIComponent(token);
let cursor = null, info = null;
async function get(path) {
  const r = await fetch(api + path, {credentials: 'omit'});
  if (!r.ok) { const e = await r.json().catch(() => ({})); throw new Error((e.error||{}).message || r.statusText); }
  return r.json();
}
function thumb(p, size) { return api + '/media/' + p.content_hash + '/' + size + '.webp'; }
async function page() {
  const data = await get('/pictures?limit=120' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
  for (const p of data.items) {
    const b = document.createElement('button'); b.setAttribute('aria-label', 'Open picture ' + p.id);
    const img = document.createElement('img'); img.loading = 'lazy'; img.alt = ''; img.src = thumb(p, 'grid');
    b.append(img); b.onclick = () => open(p); document.getElementById('grid').append(b);
  }
  cursor = data.next_cursor; document.getElementById('more').style.display = cursor ? 'block' : 'none';
}
function open(p) {
  document.getElementById('full').src = thumb(p, 'preview');
  const a = document.getElementById('download');
  a.style.display = info.allow_original ? 'block' : 'none'; a.href = api + '/media/' + p.content_hash + '/original';
  document.getElementById('view').classList.add('open');
}
document.getElementById('close').onclick = () => document.getElementById('view').classList.remove('open');
document.addEventListener('keydown', e => { if (e.key === 'Escape') document.getElementById('close').click(); });
document.getElementById('more').onclick = page;
get('').then(i => { info = i; document.getElementById('title').textContent = i.title || 'Shared pictures';
  document.getElementById('count').textContent = i.picture_count + ' pictures'; return page(); })
  .catch(e => { document.getElementById('grid').innerHTML = '';
    const d = document.createElement('div'); d.className = 'error'; d.textContent = e.message;
    document.body.append(d); });
</script></body></html>
"""
