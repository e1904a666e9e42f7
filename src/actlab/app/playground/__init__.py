"""`actlab playground`: TensorFlow Playground's live page with every activation of the catalog, typed
formulas and many seeds at once.

`config` (the bounded, validated settings), `trainer` (the batched networks and their frames: no web
dependency), `frames` (the binary message format), `server` (the Starlette app and its websocket; imports
starlette), `static/` (the page: plain HTML, JavaScript and CSS, no CDN)."""
