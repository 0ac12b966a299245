"""The web layer: what only views (and templates) use.

htmx partial choice, SEO metadata, template tags, the context processor, and who the visitor
is (client address behind trusted proxies, its salted hash, rate limits). Models, services,
selectors and tasks never import this package; import-linter holds that (pyproject.toml).
"""
