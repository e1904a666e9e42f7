"""The app layer: local web applications built on the library (the playground, `actlab[playground]`).

Nothing here is imported by `import actlab`; the web dependencies (starlette, uvicorn) load only when a
server is built."""
