"""The demo catalog: a Chinese food and beverage brand's range, by category and product family.

A family is one drink or snack in several pack sizes; every size is one product (SKU) named
"<family> <spec>", e.g. "冰红茶 500ml×15". Prices are the list price per piece (yuan, tax
included) for a small shop; the case price is piece price × pack size.

Variant options:
  flavour     a word before the family name ("番茄味" → "番茄味薯片 70g×22")
  label       a word after the spec ("礼盒" gift box, "餐饮装" catering pack ...)
  only        "catering" (catering shops and dealers only), "northeast" / "sichuan" (regional beer)
  launch      launch date "YYYY-MM-DD" (ordered only from then on)
  status      "draft" (not launched yet) or "discontinued" (with `until`, the last order date)
  shelf       shelf life in days when it differs from the family's
  tax         9 for plain milk (agricultural product rate); 13 otherwise
  min / mult  minimum order quantity and order multiple, in cases
  unit        sales unit when not a case (箱), e.g. 桶 for a 12 L water barrel
  gift        True: a Chinese New Year gift item (sells much more before CNY)
"""


def v(spec: str, pack: int, piece_yuan: float, **options) -> dict:
    return {"spec": spec, "pack": pack, "piece_yuan": piece_yuan, **options}


# (code, name_zh, name_en, summer seasonality, CNY seasonality): how much more than usual the
# category sells at the top of the summer and in the weeks before Chinese New Year.
CATEGORIES = (
    ("SOFT", "碳酸饮料", "Soft drinks", 0.85, 0.70),
    ("TEA", "茶饮料", "Tea drinks", 0.75, 0.50),
    ("WATER", "饮用水", "Water", 0.95, 0.20),
    ("JUICE", "果汁", "Juice", 0.50, 0.95),
    ("DAIRY", "乳制品", "Dairy", 0.10, 0.90),
    ("BEER", "啤酒", "Beer", 1.20, 0.60),
    ("SNACK", "休闲零食", "Snacks", 0.00, 1.00),
    ("NOODLE", "方便面", "Instant noodles", -0.05, 0.35),
)

LABELS_EN = {"罐": "can", "礼盒": "gift box", "餐饮装": "catering pack", "瓶": "bottle", "利乐包": "carton",
             "桶": "cup", "袋": "bag", "五连包": "5-pack", "大食桶": "big cup", "桶装": "barrel"}

FLAVOURS_EN = {"原味": "original", "番茄味": "tomato", "黄瓜味": "cucumber", "烧烤味": "barbecue", "麻辣味": "hot spicy",
               "鲜虾味": "shrimp", "孜然味": "cumin", "五香": "five-spice", "焦糖": "caramel", "山核桃味": "hickory nut",
               "巧克力味": "chocolate", "香草味": "vanilla", "黄桃味": "yellow peach", "草莓味": "strawberry",
               "柠檬味": "lemon", "麻辣牛肉": "spicy beef"}

# (category, name_zh, name_en, shelf life days, popularity, variants)
FAMILIES = (
    ("SOFT", "可乐", "Cola", 365, 9.0, [
        v("330ml×24", 24, 2.0, label="罐"), v("500ml×24", 24, 2.6), v("600ml×24", 24, 2.9),
        v("1.25L×12", 12, 4.8), v("2L×6", 6, 6.5), v("2L×8", 8, 6.0, label="餐饮装", only="catering")]),
    ("SOFT", "无糖可乐", "Zero-sugar cola", 365, 5.0, [
        v("330ml×24", 24, 2.1, label="罐"), v("500ml×24", 24, 2.7), v("2L×6", 6, 6.6)]),
    ("SOFT", "柠檬味汽水", "Lemon soda", 365, 6.0, [
        v("330ml×24", 24, 1.9, label="罐"), v("500ml×24", 24, 2.5), v("1.25L×12", 12, 4.6), v("2L×6", 6, 6.3)]),
    ("SOFT", "橙味汽水", "Orange soda", 365, 5.0, [
        v("330ml×24", 24, 1.9, label="罐"), v("500ml×24", 24, 2.5), v("1.25L×12", 12, 4.6), v("2L×6", 6, 6.3)]),
    ("SOFT", "葡萄味汽水", "Grape soda", 365, 2.0, [v("500ml×24", 24, 2.5)]),
    ("SOFT", "苹果味汽水", "Apple soda", 365, 1.5, [v("500ml×24", 24, 2.5)]),
    ("SOFT", "盐汽水", "Salted soda", 365, 2.5, [v("600ml×24", 24, 2.4)]),
    ("SOFT", "橘子汽水", "Tangerine soda", 270, 2.0, [v("248ml×24", 24, 3.2, label="瓶")]),
    ("SOFT", "白桃味气泡水", "White peach sparkling water", 270, 4.0, [
        v("480ml×15", 15, 4.0, launch="2025-04-01"), v("330ml×24", 24, 3.6, label="罐", launch="2025-04-01")]),
    ("SOFT", "青柠味气泡水", "Lime sparkling water", 270, 2.5, [v("480ml×15", 15, 4.0)]),
    ("SOFT", "荔枝味气泡水", "Lychee sparkling water", 270, 2.0, [v("480ml×15", 15, 4.0)]),
    ("SOFT", "乳酸菌味气泡水", "Yogurt-flavour sparkling water", 270, 2.0, [
        v("480ml×15", 15, 4.2, status="draft", launch="2027-03-01")]),
    ("SOFT", "姜汁汽水", "Ginger ale", 365, 1.0, [
        v("330ml×24", 24, 2.6, label="罐", status="discontinued", until="2025-09-30")]),
    ("TEA", "冰红茶", "Iced black tea", 365, 10.0, [
        v("500ml×15", 15, 3.0), v("250ml×24", 24, 1.6, label="利乐包"), v("1L×12", 12, 4.5),
        v("1.5L×6", 6, 5.8), v("2L×6", 6, 7.0)]),
    ("TEA", "绿茶", "Green tea", 365, 7.0, [v("500ml×15", 15, 3.0), v("250ml×24", 24, 1.6, label="利乐包"),
                                          v("1L×12", 12, 4.5)]),
    ("TEA", "无糖绿茶", "Unsweetened green tea", 365, 3.0, [v("500ml×15", 15, 3.6)]),
    ("TEA", "茉莉蜜茶", "Jasmine honey tea", 365, 5.0, [v("500ml×15", 15, 3.0), v("1L×12", 12, 4.5)]),
    ("TEA", "茉莉花茶", "Jasmine tea", 365, 3.0, [v("500ml×15", 15, 3.6)]),
    ("TEA", "乌龙茶（无糖）", "Oolong tea, no sugar", 365, 3.0, [v("500ml×15", 15, 3.8)]),
    ("TEA", "大麦茶", "Barley tea", 365, 2.5, [v("500ml×15", 15, 3.2), v("1L×12", 12, 4.8)]),
    ("TEA", "柠檬茶", "Lemon tea", 365, 4.0, [v("500ml×15", 15, 3.0), v("250ml×24", 24, 1.8, label="利乐包"),
                                           v("1L×12", 12, 4.6)]),
    ("TEA", "凉茶", "Herbal tea", 540, 7.0, [
        v("310ml×24", 24, 3.2, label="罐", gift=True), v("500ml×15", 15, 3.8),
        v("310ml×12", 12, 3.6, label="礼盒", gift=True)]),
    ("TEA", "原味奶茶", "Milk tea", 270, 3.0, [v("300ml×15", 15, 4.5)]),
    ("TEA", "香芋奶茶", "Taro milk tea", 270, 2.0, [v("300ml×15", 15, 4.5)]),
    ("TEA", "菊花茶", "Chrysanthemum tea", 365, 2.0, [v("250ml×24", 24, 1.8, label="利乐包")]),
    ("TEA", "蜂蜜柚子茶", "Honey citron tea", 365, 2.0, [v("500ml×15", 15, 3.5)]),
    ("TEA", "桂花乌龙", "Osmanthus oolong", 365, 2.0, [v("500ml×15", 15, 4.0, launch="2025-09-01")]),
    ("WATER", "饮用纯净水", "Purified water", 730, 9.0, [
        v("550ml×24", 24, 1.0), v("380ml×24", 24, 0.8), v("350ml×24", 24, 0.8), v("1.5L×12", 12, 2.0),
        v("4L×6", 6, 5.0), v("5L×4", 4, 6.0), v("12L", 1, 16.0, unit="桶", label="桶装")]),
    ("WATER", "饮用天然水", "Natural drinking water", 730, 8.0, [
        v("550ml×24", 24, 1.2), v("380ml×24", 24, 1.0), v("1.5L×12", 12, 2.4), v("4L×6", 6, 5.8),
        v("12L", 1, 18.0, unit="桶", label="桶装")]),
    ("WATER", "天然矿泉水", "Natural mineral water", 730, 4.0, [
        v("550ml×24", 24, 1.8), v("330ml×24", 24, 1.5), v("1.5L×12", 12, 3.2), v("4L×6", 6, 7.5),
        v("5L×4", 4, 8.5)]),
    ("WATER", "苏打水", "Soda water", 540, 2.5, [v("410ml×15", 15, 3.2), v("410ml×15", 15, 3.4, flavour="柠檬味")]),
    ("WATER", "电解质水", "Electrolyte water", 365, 3.0, [v("600ml×15", 15, 4.0, launch="2025-03-01")]),
    ("JUICE", "橙汁", "Orange juice", 365, 5.0, [
        v("450ml×15", 15, 3.5), v("1L×12", 12, 7.0), v("1.5L×6", 6, 9.5), v("2L×6", 6, 11.0, label="餐饮装",
                                                                           only="catering")]),
    ("JUICE", "苹果汁", "Apple juice", 365, 3.0, [v("450ml×15", 15, 3.5), v("1L×12", 12, 7.0), v("1.5L×6", 6, 9.5)]),
    ("JUICE", "葡萄汁", "Grape juice", 365, 2.0, [v("450ml×15", 15, 3.8), v("1L×12", 12, 7.5)]),
    ("JUICE", "芒果汁", "Mango juice", 365, 2.5, [v("450ml×15", 15, 3.8), v("1L×12", 12, 7.5)]),
    ("JUICE", "桃汁", "Peach juice", 365, 2.0, [v("450ml×15", 15, 3.8)]),
    ("JUICE", "百香果汁", "Passion fruit juice", 365, 1.5, [v("450ml×15", 15, 4.0)]),
    ("JUICE", "杨梅汁", "Bayberry juice", 365, 1.0, [v("450ml×15", 15, 4.0)]),
    ("JUICE", "胡萝卜汁", "Carrot juice", 365, 1.0, [v("450ml×15", 15, 3.8)]),
    ("JUICE", "混合果蔬汁", "Mixed fruit and vegetable juice", 365, 1.5, [v("300ml×24", 24, 3.5)]),
    ("JUICE", "NFC橙汁", "NFC orange juice", 60, 1.5, [v("300ml×12", 12, 8.0, min=2)]),
    ("JUICE", "山楂汁", "Hawthorn drink", 365, 4.0, [
        v("350ml×24", 24, 3.0, gift=True), v("1L×6", 6, 8.0, gift=True), v("1.25L×6", 6, 9.5, gift=True)]),
    ("JUICE", "椰汁", "Coconut milk drink", 365, 6.0, [
        v("245ml×24", 24, 3.5, label="罐", gift=True), v("1L×12", 12, 9.0), v("245ml×10", 10, 4.5, label="礼盒",
                                                                               gift=True)]),
    ("JUICE", "酸梅汤", "Sour plum drink", 365, 3.0, [
        v("500ml×15", 15, 3.2), v("1.5L×6", 6, 8.5, label="餐饮装", only="catering")]),
    ("JUICE", "玉米汁", "Corn juice", 270, 2.0, [v("1L×6", 6, 12.0, label="餐饮装", only="catering")]),
    ("DAIRY", "纯牛奶", "Pure milk", 180, 9.0, [
        v("250ml×24", 24, 2.6, tax=9), v("250ml×16", 16, 2.8, tax=9), v("200ml×24", 24, 2.2, tax=9),
        v("1L×12", 12, 9.0, tax=9), v("250ml×12", 12, 4.5, label="礼盒", tax=9, gift=True)]),
    ("DAIRY", "有机纯牛奶", "Organic pure milk", 180, 3.0, [v("250ml×12", 12, 5.5, label="礼盒", tax=9, gift=True)]),
    ("DAIRY", "低脂牛奶", "Low-fat milk", 180, 2.0, [v("250ml×24", 24, 2.8, tax=9)]),
    ("DAIRY", "脱脂牛奶", "Skimmed milk", 180, 1.5, [v("250ml×24", 24, 2.8, tax=9)]),
    ("DAIRY", "鲜牛奶", "Fresh milk (ESL)", 21, 3.0, [v("950ml×6", 6, 13.0, tax=9, min=2)]),
    ("DAIRY", "高钙牛奶", "High-calcium milk", 180, 3.0, [v("250ml×24", 24, 2.9)]),
    ("DAIRY", "早餐奶", "Breakfast milk", 180, 3.0, [v("250ml×24", 24, 2.9)]),
    ("DAIRY", "巧克力牛奶", "Chocolate milk", 180, 2.0, [v("250ml×24", 24, 3.0)]),
    ("DAIRY", "儿童成长牛奶", "Kids' growing-up milk", 180, 2.0, [v("190ml×15", 15, 3.5, gift=True)]),
    ("DAIRY", "常温酸奶", "Ambient yogurt", 150, 6.0, [
        v("200g×12", 12, 4.5, flavour="原味", gift=True), v("200g×12", 12, 4.8, flavour="黄桃味"),
        v("200g×12", 12, 4.8, flavour="草莓味")]),
    ("DAIRY", "低温酸奶", "Chilled yogurt", 21, 3.0, [v("100g×24", 24, 2.2, min=2)]),
    ("DAIRY", "乳酸菌饮品", "Lactic acid drink", 120, 4.0, [v("100ml×20", 20, 1.2), v("340ml×24", 24, 3.5)]),
    ("DAIRY", "AD钙奶", "AD calcium milk drink", 180, 5.0, [v("220g×24", 24, 2.2, gift=True),
                                                        v("100g×40", 40, 0.9)]),
    ("DAIRY", "核桃露", "Walnut milk", 365, 4.0, [v("240ml×20", 20, 3.2, gift=True),
                                               v("240ml×12", 12, 3.8, label="礼盒", gift=True)]),
    ("DAIRY", "杏仁露", "Almond milk", 365, 2.0, [v("240ml×20", 20, 3.5, gift=True)]),
    ("DAIRY", "豆奶", "Soy milk", 270, 2.0, [v("250ml×24", 24, 2.4)]),
    ("BEER", "清爽啤酒", "Light lager", 365, 8.0, [
        v("330ml×24", 24, 1.6, label="罐"), v("500ml×12", 12, 2.8, label="罐"), v("600ml×12", 12, 2.6, label="瓶")]),
    ("BEER", "经典啤酒", "Classic lager", 365, 5.0, [
        v("600ml×12", 12, 3.0, label="瓶"), v("500ml×12", 12, 3.2, label="罐")]),
    ("BEER", "纯生啤酒", "Draught beer", 180, 5.0, [
        v("500ml×12", 12, 4.0, label="罐"), v("330ml×24", 24, 3.0, label="罐"), v("600ml×12", 12, 3.8, label="瓶")]),
    ("BEER", "冰爽啤酒", "Ice beer", 365, 4.0, [v("600ml×12", 12, 2.5, label="餐饮装", only="catering")]),
    ("BEER", "精酿白啤", "Craft wheat beer", 270, 2.0, [v("500ml×12", 12, 7.0, label="罐")]),
    ("BEER", "精酿IPA", "Craft IPA", 270, 1.5, [v("500ml×12", 12, 8.0, label="罐", launch="2025-06-01")]),
    ("BEER", "黑啤", "Dark beer", 365, 1.5, [v("500ml×12", 12, 5.0, label="罐"), v("330ml×24", 24, 4.0, label="罐")]),
    ("BEER", "原浆啤酒", "Unfiltered beer", 30, 1.5, [v("1L×6", 6, 15.0, min=2)]),
    ("BEER", "无醇啤酒", "Alcohol-free beer", 365, 1.0, [v("330ml×24", 24, 3.0, label="罐")]),
    ("BEER", "白桃果啤", "White peach fruit beer", 365, 1.5, [v("330ml×24", 24, 3.5, label="罐",
                                                             launch="2026-03-01")]),
    ("BEER", "啤酒", "Beer", 365, 2.0, [v("500ml×12", 12, 5.5, label="礼盒", gift=True)]),
    ("BEER", "关东老啤", "Guandong lager (Northeast)", 365, 3.0, [
        v("600ml×12", 12, 2.4, label="瓶", only="northeast"), v("500ml×12", 12, 2.6, label="罐", only="northeast"),
        v("330ml×24", 24, 1.8, label="罐", only="northeast")]),
    ("BEER", "巴蜀精酿", "Bashu craft beer (Sichuan, Chongqing)", 270, 2.0, [
        v("500ml×12", 12, 6.0, label="罐", only="sichuan")]),
    ("SNACK", "薯片", "Potato chips", 270, 6.0, [
        v("70g×22", 22, 6.0, flavour="原味"), v("70g×22", 22, 6.0, flavour="番茄味"),
        v("70g×22", 22, 6.0, flavour="黄瓜味"), v("70g×22", 22, 6.0, flavour="烧烤味"),
        v("70g×22", 22, 6.0, flavour="麻辣味"), v("135g×12", 12, 10.5, flavour="原味")]),
    ("SNACK", "虾条", "Prawn crackers", 270, 2.5, [v("40g×50", 50, 2.5), v("80g×24", 24, 4.5, flavour="鲜虾味")]),
    ("SNACK", "锅巴", "Rice crust", 240, 2.0, [v("100g×20", 20, 3.5, flavour="麻辣味"), v("100g×20", 20, 3.5,
                                                                                 flavour="孜然味")]),
    ("SNACK", "辣条", "Spicy gluten strips", 180, 4.0, [v("106g×40", 40, 2.5)]),
    ("SNACK", "大辣片", "Spicy gluten slices", 180, 2.0, [v("80g×40", 40, 2.0)]),
    ("SNACK", "瓜子", "Sunflower seeds", 270, 4.0, [
        v("260g×20", 20, 8.0, flavour="五香", gift=True), v("260g×20", 20, 9.0, flavour="焦糖", gift=True),
        v("260g×20", 20, 9.0, flavour="山核桃味", gift=True), v("500g×12", 12, 14.0, flavour="原味", gift=True)]),
    ("SNACK", "多味花生", "Flavoured peanuts", 270, 2.0, [v("250g×20", 20, 6.5, gift=True)]),
    ("SNACK", "坚果礼盒", "Nut gift box", 270, 2.0, [v("1.5kg×4", 4, 98.0, label="礼盒", gift=True)]),
    ("SNACK", "每日坚果", "Daily nuts", 270, 2.0, [v("750g×8", 8, 55.0, gift=True)]),
    ("SNACK", "雪米饼", "Rice crackers", 270, 2.5, [v("520g×10", 10, 18.0, label="礼盒", gift=True)]),
    ("SNACK", "苏打饼干", "Soda crackers", 365, 2.0, [v("400g×12", 12, 8.0)]),
    ("SNACK", "夹心饼干", "Sandwich biscuits", 365, 2.5, [v("390g×12", 12, 9.0, flavour="巧克力味"),
                                                      v("390g×12", 12, 9.0, flavour="香草味")]),
    ("SNACK", "蛋黄派", "Egg yolk pie", 240, 2.5, [v("360g×12", 12, 10.0)]),
    ("SNACK", "威化饼干", "Wafers", 365, 1.5, [v("200g×24", 24, 5.0)]),
    ("SNACK", "沙琪玛", "Sachima", 180, 1.5, [v("470g×12", 12, 12.0, gift=True)]),
    ("SNACK", "麻花", "Fried dough twists", 180, 1.0, [v("300g×20", 20, 6.0)]),
    ("SNACK", "牛肉干", "Beef jerky", 270, 1.5, [v("100g×40", 40, 12.0, gift=True)]),
    ("SNACK", "鱿鱼丝", "Shredded squid", 270, 1.0, [v("60g×40", 40, 6.0)]),
    ("SNACK", "牛轧糖", "Nougat", 270, 1.5, [v("500g×20", 20, 18.0, gift=True)]),
    ("SNACK", "什锦糖果", "Assorted candy", 365, 2.0, [v("1kg×10", 10, 25.0, gift=True)]),
    ("SNACK", "海苔", "Seaweed snack", 270, 1.5, [v("40g×40", 40, 4.0)]),
    ("SNACK", "果冻", "Fruit jelly", 365, 1.5, [v("1kg×8", 8, 15.0, gift=True)]),
    ("SNACK", "爆米花", "Popcorn", 180, 1.0, [v("100g×30", 30, 4.5)]),
    ("SNACK", "火腿肠", "Ham sausage", 180, 3.0, [v("240g×30", 30, 7.5), v("400g×20", 20, 11.0, label="礼盒")]),
    ("NOODLE", "红烧牛肉面", "Braised beef noodles", 180, 8.0, [
        v("105g×24", 24, 2.8, label="袋"), v("(105g×5)×6", 6, 13.5, label="五连包"), v("110g×12", 12, 4.5, label="桶"),
        v("146g×12", 12, 6.0, label="大食桶")]),
    ("NOODLE", "老坛酸菜牛肉面", "Pickled cabbage beef noodles", 180, 7.0, [
        v("114g×24", 24, 2.8, label="袋"), v("(114g×5)×6", 6, 13.5, label="五连包"), v("118g×12", 12, 4.5, label="桶"),
        v("155g×12", 12, 6.0, label="大食桶")]),
    ("NOODLE", "香辣牛肉面", "Spicy beef noodles", 180, 4.0, [
        v("105g×24", 24, 2.8, label="袋"), v("110g×12", 12, 4.5, label="桶")]),
    ("NOODLE", "鲜虾鱼板面", "Shrimp and fish cake noodles", 180, 3.0, [
        v("98g×24", 24, 2.8, label="袋"), v("104g×12", 12, 4.5, label="桶")]),
    ("NOODLE", "香菇炖鸡面", "Mushroom chicken noodles", 180, 2.5, [
        v("103g×24", 24, 2.8, label="袋"), v("108g×12", 12, 4.5, label="桶")]),
    ("NOODLE", "番茄鸡蛋面", "Tomato and egg noodles", 180, 2.0, [v("116g×12", 12, 4.8, label="桶")]),
    ("NOODLE", "藤椒牛肉面", "Green pepper beef noodles", 180, 2.0, [v("112g×12", 12, 4.8, label="桶")]),
    ("NOODLE", "重庆小面", "Chongqing noodles", 180, 1.5, [v("120g×12", 12, 5.0, label="桶")]),
    ("NOODLE", "炸酱面", "Fried sauce noodles", 180, 1.5, [v("124g×12", 12, 5.0, label="桶")]),
    ("NOODLE", "豚骨拉面", "Tonkotsu ramen", 180, 1.0, [v("118g×12", 12, 6.0, label="桶")]),
    ("NOODLE", "葱油拌面", "Scallion oil noodles", 180, 1.5, [v("120g×20", 20, 4.0, label="袋")]),
    ("NOODLE", "火鸡面", "Spicy chicken noodles", 180, 2.0, [v("140g×40", 40, 6.5, label="袋")]),
    ("NOODLE", "酸辣粉", "Hot and sour vermicelli", 180, 3.0, [v("130g×12", 12, 5.5, label="桶")]),
    ("NOODLE", "螺蛳粉", "Luosifen rice noodles", 180, 2.5, [v("300g×20", 20, 9.0, label="袋")]),
    ("NOODLE", "方便米粉", "Instant rice noodles", 180, 1.0, [v("105g×12", 12, 5.0, label="桶")]),
    ("NOODLE", "自热火锅", "Self-heating hotpot", 365, 1.5, [v("400g×12", 12, 22.0, flavour="麻辣牛肉",
                                                          launch="2025-01-06")]),
    ("NOODLE", "麻辣香锅拌面", "Spicy stir-fry noodles", 180, 1.0, [v("125g×12", 12, 5.5, label="桶",
                                                                 status="discontinued", until="2026-03-31")]),
)

# A few items only large shops may order in bulk: order multiples of 2 cases.
MULTIPLE_OF_TWO = ("坚果礼盒", "每日坚果")
