"""Demo step "pictures" (after "catalog"): a drawn picture for every product (app.demo.pictures),
stored and thumbnailed by the same service as an uploaded image (prepare_image), so the catalog
rows, the product pages and the admin list show them like real ones."""
from __future__ import annotations

from sqlalchemy import select, update

from app.demo.builder import register_step
from app.demo.pictures import draw_product, has_cjk_font
from app.extensions import db
from app.models import Category, Product
from app.services.catalog.images import prepare_image


def build_pictures(ctx) -> None:
    rows = db.session.execute(
        select(Product.id, Category.code, Product.name_zh, Product.name_en, Product.spec)
        .join(Category, Category.id == Product.category_id).order_by(Product.id)).all()
    images = []
    for product_id, category, name_zh, name_en, spec in rows:
        prepared = prepare_image(draw_product(category, name_zh, name_en, spec))
        images.append((product_id, prepared.content_type, prepared.data, prepared.thumbnail))
    ctx.loader.load("product_images", ("product_id", "content_type", "data", "thumbnail"), images)
    db.session.execute(update(Product).where(Product.id.in_([r[0] for r in rows])).values(image_version=1))
    ctx.echo(f"  pictures: {len(images)} drawn ({'Chinese' if has_cjk_font() else 'English'} labels), "
             f"{sum(len(i[2]) + len(i[3]) for i in images) // 1024} KB")


register_step("pictures", build_pictures, after="catalog")
