"""Parts of pages rendered once per process and reused (issue 15): the layout's links, the pager and the
catalog's search form. Every `url_for` and `gettext` in them gave the same answer on every
request for the same language, and together they were a fifth of a catalog page's CPU.

    {% call cached_fragment("nav", current_locale(), request.endpoint, ...) %}...{% endcall %}

The key must name everything the block reads (the language always; a user's own data never:
a block that shows it is not cached, or its part is left outside the call). `request.script_root`
is added to every key, since the URLs depend on it. The cache is per process and bounded."""
from __future__ import annotations

from flask import current_app, has_request_context, request
from markupsafe import Markup

MAX_FRAGMENTS = 2_000  # a few hundred bytes each; starts again when full


def _hashable(value):
    """A template's dict or list as a key (a pager's URL arguments, in their order: it is the
    order of the links' parameters)."""
    if isinstance(value, dict):
        return tuple(value.items())
    if isinstance(value, list):
        return tuple(value)
    return value


def cached_fragment(*key, caller) -> Markup:
    """The call block's HTML for `key`, from the process's cache after the first time."""
    if not has_request_context() or current_app.jinja_env.auto_reload:
        return caller()  # a document rendered by a job, or development (templates edited live)
    cache = current_app.extensions.setdefault("html_fragments", {})
    key = (request.script_root, *map(_hashable, key))
    try:
        html = cache.get(key)
    except TypeError:  # a value that cannot be a key (none of ours): render it every time
        return caller()
    if html is None:
        html = caller()
        if len(cache) >= MAX_FRAGMENTS:
            cache.clear()
        cache[key] = html
    return html
