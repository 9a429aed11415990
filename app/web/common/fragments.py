"""Parts of pages rendered once per process and reused (issue 15): the layout's links, the pager and the
catalog's search form. Every `url_for` and `gettext` in them gave the same answer on every
request for the same language, and together they were a fifth of a catalog page's CPU.

    {% call cached_fragment("nav", current_locale(), request.endpoint, ...) %}...{% endcall %}

The key must name everything the block reads (the language always; a user's own data never:
a block that shows it is not cached, or its part is left outside the call). `request.script_root`
is added to every key, since the URLs depend on it. The cache is per process and bounded."""
from __future__ import annotations

from flask import current_app, has_request_context, render_template, request
from flask.signals import before_render_template, template_rendered
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from app.web.common.i18n import current_locale

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


# -- the page frame ------------------------------------------------------------------------------
# A page's frame (base.html and the role's layout around its content) is the same for every user
# in a language on one page but for a few values: the CSRF token and the blocks named as slots (the
# user's name, the badges, the flashes, the content). Rendering Jinja's base, layout and includes
# was most of a catalog page's template time; the frame is rendered once per process and key with
# a marker for each slot, then every page joins the cached text with its own slots.

MAX_FRAMES = 200  # ~10 KB each: (language, page, role) pairs
_MARK = "\x00frame:"
_CSRF = "csrf"


def _marker(name: str) -> Markup:
    return Markup(f"{_MARK}{name}\x00")


def _frame(template, context: dict, slots: tuple[str, ...]) -> tuple[list[str], dict]:
    """The template's output with a marker for each slot block and the CSRF token, split into
    [text, slot, text, slot, ..., text]; and each slot's block functions, the page's first
    (the layouts' blocks join the context only as the page's `extends` runs)."""
    ctx = template.new_context(dict(context, csrf_token=lambda: _marker(_CSRF)))
    own = {name: ctx.blocks.get(name, []) for name in slots}  # the page's own blocks
    for name in slots:
        ctx.blocks[name] = [lambda _ctx, mark=_marker(name): iter((mark,))]
    html = "".join(template.root_render_func(ctx))
    parts = []
    for piece in html.split(_MARK):
        name, sep, text = piece.partition("\x00")
        parts.extend((name, text) if sep else (piece,))
    return parts, {name: own[name] + ctx.blocks[name][1:] for name in slots}


def render_framed(template_name: str, slots: tuple[str, ...], key: tuple, **context) -> str:
    """`render_template(template_name, **context)`, with the frame from the process's cache.
    `slots`: the blocks that read this request's values (rendered each time, with the whole
    context); everything outside them may read only what `key` names (the language, endpoint and
    script root are added) and the CSRF token (filled in, escaped). A slot block must not read
    names the template sets or imports at its top level (a block rendered alone does not see them)."""
    app = current_app
    if app.jinja_env.auto_reload:
        return render_template(template_name, **context)
    template = app.jinja_env.get_template(template_name)
    app.update_template_context(context)
    before_render_template.send(app, _async_wrapper=app.ensure_sync, template=template, context=context)
    cache = app.extensions.setdefault("page_frames", {})
    frame_key = (template_name, request.script_root, request.endpoint, current_locale(), *key)
    frame = cache.get(frame_key)
    if frame is None:
        frame = _frame(template, context, slots)
        if len(cache) >= MAX_FRAMES:
            cache.clear()
        cache[frame_key] = frame
    parts, blocks = frame
    ctx = template.new_context(context)
    ctx.blocks.update(blocks)
    out = [parts[0]]
    for index in range(1, len(parts), 2):
        name = parts[index]
        if name == _CSRF:
            out.append(str(escape(generate_csrf())))
        else:
            out.append("".join(ctx.blocks[name][0](ctx)))
        out.append(parts[index + 1])
    html = "".join(out)
    template_rendered.send(app, _async_wrapper=app.ensure_sync, template=template, context=context)
    return html
