"""Sphinx extension for the musiclib book: the generated API page, and fixes that keep the built pages
free of JavaScript errors."""


def _api_page(app, docname, source):
    """Fill ``book/api.md``'s placeholder with the module map of the package tree."""
    if docname != "book/api":
        return
    from musiclib.book.api import PLACEHOLDER, api_markdown

    source[0] = source[0].replace(PLACEHOLDER, api_markdown())


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Keep each script once: sphinx-thebe 0.3 registers its inline configuration twice under
    Sphinx 7, and the second ``const THEBE_JS_URL`` is a SyntaxError in the browser."""
    if "script_files" not in context:
        return
    seen, unique = set(), []
    for script in context["script_files"]:
        # an inline script may come twice, its file name once None and once ""
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"][:] = unique


def setup(app):
    app.connect("source-read", _api_page)
    # after the other extensions' handlers, which may still add scripts
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
