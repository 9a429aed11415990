"""Demo product pictures drawn locally with Pillow: the package shape (bottle, can, carton, bag,
cup or barrel, from the category and the pack label), a colour per product family (the brand's
colour for that line), and the name and size written on the label. Nothing is downloaded.

The outline of a shape in a colour is drawn once and copied for every product that shares it;
only the text differs, so 200 products take well under a second. Chinese text needs a CJK font
(Debian `fonts-wqy-microhei`, which the PDFs also use); without one the English name is written
with DejaVu (or Pillow's own font), so the build never fails for want of a font."""
from __future__ import annotations

import io
import os
import zlib
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

SIDE = 240  # px; the stored image (the thumbnail is made from it, as for an upload)

# Family colours: saturated enough to tell products apart in a 56 px thumbnail.
PALETTE = ((200, 16, 46), (0, 122, 61), (0, 94, 184), (242, 142, 0), (115, 45, 140), (0, 150, 160),
           (170, 110, 40), (220, 60, 120), (60, 60, 60), (120, 160, 20), (30, 60, 120), (230, 190, 0))

CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",)

# Pack label words (after the spec in the Chinese name) that decide the shape, then the category.
LABEL_SHAPES = (("桶装", "barrel"), ("大食桶", "cup"), ("桶", "cup"), ("罐", "can"), ("利乐包", "carton"),
                ("礼盒", "giftbox"), ("五连包", "bag"), ("袋", "bag"), ("瓶", "bottle"))
CATEGORY_SHAPES = {"SOFT": "bottle", "TEA": "bottle", "WATER": "bottle", "JUICE": "bottle", "BEER": "bottle",
                   "DAIRY": "carton", "SNACK": "bag", "NOODLE": "bag"}


def shape_for(category_code: str, name_zh: str) -> str:
    words = name_zh.split(" ")[2:]  # "<family> <spec> <label>"
    for word, shape in LABEL_SHAPES:
        if any(word == w for w in words):
            return shape
    return CATEGORY_SHAPES.get(category_code, "carton")


def family_colour(family: str) -> tuple[int, int, int]:
    """The same colour for every size of a family, stable across runs (crc32, not hash())."""
    return PALETTE[zlib.crc32(family.encode()) % len(PALETTE)]


@lru_cache(maxsize=None)
def _font_path(cjk: bool) -> str | None:
    for path in (CJK_FONTS if cjk else LATIN_FONTS):
        if os.path.exists(path):
            return path
    return None


@lru_cache(maxsize=None)
def _font(size: int, cjk: bool):
    path = _font_path(cjk)
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def has_cjk_font() -> bool:
    return _font_path(True) is not None


def _tint(colour, amount: float):
    return tuple(int(c + (255 - c) * amount) for c in colour)


@lru_cache(maxsize=None)
def _blank(shape: str, colour: tuple[int, int, int]) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The package outline in `colour` on a light background, and the label box (x0, y0, x1, y1)."""
    image = Image.new("RGB", (SIDE, SIDE), _tint(colour, 0.88))
    draw = ImageDraw.Draw(image)
    dark, light = tuple(int(c * 0.7) for c in colour), _tint(colour, 0.35)
    if shape == "bottle":
        draw.rounded_rectangle((104, 14, 136, 40), 4, fill=dark)  # cap
        draw.polygon(((106, 40), (134, 40), (162, 84), (78, 84)), fill=light)  # shoulder
        draw.rounded_rectangle((74, 80, 166, 226), 18, fill=light)
        label = (74, 112, 166, 196)
    elif shape == "can":
        draw.ellipse((66, 22, 174, 50), fill=dark)
        draw.rectangle((66, 36, 174, 212), fill=colour)
        draw.ellipse((66, 198, 174, 226), fill=colour)
        label = (66, 84, 174, 176)
    elif shape == "carton":
        draw.polygon(((72, 52), (120, 16), (168, 52)), fill=dark)  # gable top
        draw.rectangle((72, 52, 168, 226), fill=colour)
        label = (72, 96, 168, 190)
    elif shape == "giftbox":
        draw.rectangle((30, 64, 210, 226), fill=colour)
        draw.rectangle((22, 50, 218, 82), fill=dark)
        draw.rectangle((110, 50, 130, 226), fill=(230, 190, 0))  # ribbon
        label = (30, 120, 210, 196)
    elif shape == "bag":
        draw.polygon(((56, 30), (184, 30), (196, 226), (44, 226)), fill=colour)
        for x in range(56, 184, 8):  # the crimped seal along the top
            draw.polygon(((x, 30), (x + 4, 20), (x + 8, 30)), fill=dark)
        label = (50, 96, 190, 190)
    elif shape == "cup":
        draw.rectangle((36, 34, 204, 50), fill=dark)  # lid
        draw.polygon(((44, 50), (196, 50), (176, 226), (64, 226)), fill=colour)
        label = (52, 92, 188, 182)
    else:  # barrel
        draw.rounded_rectangle((102, 10, 138, 34), 4, fill=dark)
        draw.rounded_rectangle((40, 30, 200, 228), 30, fill=_tint(colour, 0.55))
        for y in (80, 178):
            draw.rectangle((40, y, 200, y + 6), fill=colour)
        label = (40, 100, 200, 170)
    x0, y0, x1, y1 = label
    draw.rectangle((x0 + 4, y0, x1 - 4, y1), fill=(255, 255, 255))
    return image, label


def _fit(draw, text: str, width: int, largest: int, cjk: bool):
    """The largest font size (down to 10 px) at which `text` fits in `width`."""
    size = largest
    while size > 10 and draw.textlength(text, font=_font(size, cjk)) > width:
        size -= 2
    return _font(size, cjk)


def draw_product(category_code: str, name_zh: str, name_en: str, spec: str) -> bytes:
    """A PNG picture of the product (input for app.services.catalog.images.prepare_image)."""
    family = name_zh.split(" ")[0]  # flavour and family: every size of it shares the colour
    shape = shape_for(category_code, name_zh)
    blank, (x0, y0, x1, y1) = _blank(shape, family_colour(family))
    image = blank.copy()
    draw = ImageDraw.Draw(image)
    cjk = has_cjk_font()
    # The name without its size: "番茄味薯片" of "番茄味薯片 70g×22", "Tomato crisps" of "Tomato crisps 70g x 22".
    title = name_zh.split(" ")[0] if cjk else name_en.split(spec.replace("×", " x "))[0].strip()
    width, middle = x1 - x0 - 14, (x0 + x1) // 2
    title_font = _fit(draw, title, width, 26, cjk)
    if title_font.size < 18 and " " in title:  # a long English name reads better on two lines
        words = title.split(" ")
        title = " ".join(words[:len(words) // 2]) + "\n" + " ".join(words[len(words) // 2:])
        title_font = _fit(draw, max(title.split("\n"), key=len), width, 20, cjk)
    spec_font = _fit(draw, spec, width, 18, cjk)
    colour = tuple(int(c * 0.6) for c in family_colour(family))
    draw.multiline_text((middle, y0 + (y1 - y0) * 0.38), title, fill=colour, font=title_font, anchor="mm",
                        align="center", spacing=2)
    draw.text((middle, y0 + (y1 - y0) * 0.76), spec, fill=(40, 40, 40), font=spec_font, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)  # re-encoded by prepare_image anyway
    return out.getvalue()
