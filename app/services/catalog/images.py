"""Product image processing: check an upload really is a JPEG, PNG or WebP picture (by opening it
with Pillow, not by its name), re-encode it (at most 800 px) and make a small WebP thumbnail.

Re-encoding drops whatever else the file carried (metadata, scripts appended to the data) and
keeps the pages light on slow phone networks."""
from __future__ import annotations

import io
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from app.services.core.errors import DomainError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_SIDE = 800
THUMB_SIZE = (112, 112)  # 56 CSS px at 2x
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


@dataclass(frozen=True)
class PreparedImage:
    content_type: str
    data: bytes
    thumbnail: bytes  # WebP


def _open(data: bytes) -> Image.Image:
    limit = current_app.config["IMAGE_MAX_BYTES"]
    if len(data) > limit:
        raise DomainError(_("图片不能超过 %(mb)s MB。", mb=f"{limit / 1024 / 1024:g}"), field="image")
    if not data:
        raise DomainError(_("图片文件是空的。"), field="image")
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise DomainError(_("只接受 JPEG、PNG 或 WebP 图片。"), field="image")
        if image.width * image.height > MAX_PIXELS:
            raise DomainError(_("图片尺寸过大。"), field="image")
        image.load()
    except DomainError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise DomainError(_("文件不是有效的图片（只接受 JPEG、PNG 或 WebP）。"), field="image") from None
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def prepare_image(data: bytes) -> PreparedImage:
    """The stored forms of an uploaded image, or DomainError(field="image")."""
    image = ImageOps.exif_transpose(_open(data))
    alpha = _has_alpha(image)
    image = image.convert("RGBA" if alpha else "RGB")

    main = image.copy()
    main.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if alpha:
        main.save(out, "PNG", optimize=True)
        content_type = "image/png"
    else:
        main.save(out, "JPEG", quality=85, optimize=True, progressive=True)
        content_type = "image/jpeg"

    background = (255, 255, 255, 0) if alpha else (255, 255, 255)
    thumb = ImageOps.pad(image, THUMB_SIZE, Image.Resampling.LANCZOS, color=background)
    thumb_out = io.BytesIO()
    thumb.save(thumb_out, "WEBP", quality=80, method=4)
    return PreparedImage(content_type, out.getvalue(), thumb_out.getvalue())
