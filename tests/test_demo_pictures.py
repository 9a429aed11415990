"""The demo's drawn product pictures (app/demo/pictures.py): same input, same bytes; the package
shape follows the pack label, then the category. The stored images are checked in test_demo_seed."""
from app.demo.pictures import draw_product, shape_for


def test_pictures_are_deterministic_and_distinct():
    args = ("SOFT", "可乐 330ml×24 罐", "Cola 330ml x 24 (can)", "330ml×24")
    assert draw_product(*args) == draw_product(*args)
    assert draw_product(*args) != draw_product("SOFT", "可乐 500ml×24", "Cola 500ml x 24", "500ml×24")


def test_the_package_shape_follows_the_pack_then_the_category():
    assert [shape_for(*a) for a in (("SOFT", "可乐 330ml×24 罐"), ("SOFT", "可乐 500ml×24"),
                                    ("DAIRY", "纯牛奶 250ml×24 利乐包"), ("SNACK", "番茄味薯片 70g×22"),
                                    ("NOODLE", "红烧牛肉面 110g×12 桶"), ("WATER", "饮用天然水 12L×1 桶装"))] == \
        ["can", "bottle", "carton", "bag", "cup", "barrel"]
