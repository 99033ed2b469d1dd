"""The service's home page, for a browser: what served it, the latest notes, a form, the links.

One self-contained HTML document (its CSS and the form's few lines of script inline), so it
works offline; ``app.py`` sends it to clients that ask for ``text/html``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from string import Template
from typing import Any

PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>notes · bridge example</title>
<style>
  :root { --accent: #b45309; --soft: #fef3c7; --ink: #1f2933; --muted: #5f6b7a;
          --line: #e3e8ef; }
  * { box-sizing: border-box; }
  body { margin: 0; background: #f5f7fa; color: var(--ink);
         font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  header { background: #fff; border-bottom: 1px solid var(--line); }
  .bar, main { max-width: 52rem; margin: 0 auto; padding: 0 1.25rem; }
  .bar { display: flex; align-items: center; justify-content: space-between; height: 3.5rem; }
  .brand { font-weight: 700; font-size: 1.1rem; }
  .brand span { color: var(--accent); }
  .brand small { font-weight: 400; color: var(--muted); margin-left: .25rem; }
  nav { display: flex; gap: 1.1rem; }
  nav a { color: var(--muted); text-decoration: none; }
  main { padding: 2rem 1.25rem; }
  h1 { font-size: 1.8rem; margin: 0 0 .75rem; }
  a { color: var(--accent); }
  code { font: .88em ui-monospace, Menlo, Consolas, monospace; background: #eef2f6;
         padding: .1rem .3rem; border-radius: 4px; }
  .served { display: inline-block; background: var(--soft); color: var(--accent);
            border-radius: 999px; padding: .3rem .9rem; margin: .25rem 0 1rem; }
  .lead { color: var(--muted); font-size: 1.1rem; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr));
           gap: 1rem; margin: 1.5rem 0; }
  .card, .panel { background: #fff; border: 1px solid var(--line); border-radius: 10px;
                  padding: 1rem 1.1rem; }
  .card { color: var(--ink); text-decoration: none; }
  .card:hover { border-color: var(--accent); }
  .card strong { display: block; color: var(--accent); }
  .card span { color: var(--muted); font-size: .93rem; }
  form { display: flex; gap: .5rem; margin-bottom: 1rem; }
  input { flex: 1; font: inherit; padding: .4rem .6rem; border: 1px solid var(--line);
          border-radius: 6px; }
  button { background: var(--accent); color: #fff; border: 0; border-radius: 6px;
           padding: .45rem 1rem; font: inherit; cursor: pointer; }
  ul#notes { list-style: none; margin: 0; padding: 0; }
  ul#notes li { padding: .45rem 0; border-top: 1px solid var(--line); }
  ul#notes li:first-child { border-top: 0; }
  .meta { color: var(--muted); font-size: .88rem; }
</style>
</head>
<body>
<header><div class="bar">
  <div class="brand"><span>&#8644;</span> bridge <small>FastAPI example</small></div>
  <nav><a href="${root}/docs">API docs</a><a href="${root}/notes">/notes</a>
    <a href="${root}/events?count=5">/events</a></nav>
</div></header>
<main>
  <h1>notes, a FastAPI service on a WSGI server</h1>
  <p class="served">Served by <strong id="served-by">${served_by}</strong>, worker ${worker}</p>
  <p class="lead">An ordinary ASGI app (lifespan, JSON routes, a background task, server-sent
    events) in Gunicorn's sync workers: <code>bridge.AsgiToWsgi</code> runs it on a private event
    loop in each worker process.</p>
  <div class="cards">
    <a class="card" href="${root}/docs"><strong>/docs</strong>
      <span>The interactive API docs (Swagger UI, served by the app: works offline).</span></a>
    <a class="card" href="${root}/notes"><strong>/notes</strong>
      <span>The latest notes as JSON; <code>words</code> is filled in the background.</span></a>
    <a class="card" href="${root}/events?count=5"><strong>/events</strong>
      <span>Server-sent events: the latest note, once a second.</span></a>
  </div>
  <div class="panel">
    <form id="add"><input name="text" placeholder="Write a note" required>
      <button>Add</button></form>
    <ul id="notes">${notes}</ul>
  </div>
</main>
<script>
  document.getElementById("add").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = event.target.elements.text.value;
    await fetch("${root}/notes", {method: "POST", headers: {"Content-Type": "application/json"},
                          body: JSON.stringify({text})});
    location.reload();
  });
</script>
</body>
</html>
""")


def render_home(about: dict[str, Any], notes: Sequence[Any], root: str) -> str:
    """Return the home page for ``about`` (the JSON the route answers) and the latest ``notes``,
    its links under ``root`` (the ASGI ``root_path``)."""
    items = "".join(
        f'<li>{escape(note.text)} <span class="meta">#{note.id} · '
        f"{'indexing…' if note.words is None else f'{note.words} words'}</span></li>"
        for note in notes
    )
    return PAGE.substitute(
        root=escape(root),
        served_by=escape(about["served_by"]),
        worker=about["worker_pid"],
        notes=items or '<li class="meta">No notes yet: write the first one.</li>',
    )
