"""Words the demo builds names from: shop and company names, people, streets."""
from random import Random

SURNAMES = ("王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾 肖 田 "
            "董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石 廖 贾 夏 韦 付 方 白 "
            "邹 孟 熊 秦 邱 江 尹 薛 闫 段 雷 侯 龙 史 陶 黎 贺 顾 毛 郝 龚 邵 万 钱 严 覃 武 戴 莫 孔 向 汤").split()
GIVEN_CHARS = ("伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞 平 刚 桂 英 华 玉 萍 红 建 文 辉 力 斌 "
               "宇 浩 凯 鹏 飞 婷 雪 琳 晨 欣 佳 俊 波 东 海 林 峰 志 国 春 梅 兰 丹 宁 亮 成 健 莉 凤 燕 福 "
               "生 荣 新 庆 祥 兵 德 雯 倩 颖 慧 瑞 博 鑫 淑 珍 立 永 彬 晓").split()

# The middle of a shop name: an owner's nickname, a lucky word or a neighbourhood word.
SHOP_WORDS = ("兴隆 福源 佳佳 万家 鑫源 好又多 家家乐 惠民 便民 百姓 顺发 旺旺 金福 永辉 华联 新华 利民 "
              "东方 阳光 幸福 和谐 友谊 吉祥 聚福 益民 开心 好邻居 邻里 社区 平价 天天 如意 宏达 恒信 "
              "诚信 东升 富民 金源 万福 长青 红星 向阳 新村 学府 花园 滨江 南门 北街 老街 老王 老李 老张 "
              "阿香 阿强 小芳 大众 联心 乐购 优品 康乐 喜洋洋 鸿运 四季 嘉禾").split()
SHOP_SUFFIXES = {
    "kiosk": ("小卖部", "小卖部", "烟酒店", "副食店", "便民店", "杂货店", "商店"),
    "convenience": ("便利店", "便利店", "24小时便利店", "便利超市"),
    "supermarket": ("超市", "生活超市", "购物广场", "超市", "量贩店"),
    "catering": ("餐馆", "饭店", "大排档", "火锅店", "面馆", "小吃店", "酒楼", "烧烤店", "农家乐", "快餐店"),
}
COMPANY_WORDS = ("联华 兴旺 恒通 百联 鼎盛 顺达 永盛 鸿发 金穗 瑞丰 汇通 嘉诚 宏远 华泰 佳源 锦程 盛世 "
                 "天成 祥和 宝丰 康达 润通 万通 昌隆 隆兴 亿家 正大 富华 安达 泰和").split()
COMPANY_SUFFIXES = ("商贸有限公司", "食品有限公司", "贸易有限公司", "供应链有限公司", "食品饮料批发部")
ROADS = ("人民路 解放路 建设路 中山路 和平路 胜利路 新华路 文化路 青年路 光明路 长江路 黄河路 迎宾路 "
         "工业路 朝阳路 东风路 团结路 民主路 幸福路 复兴路 滨河路 府前街 南大街 北大街 东大街 西大街 "
         "中心街 商业街 步行街 农贸市场").split()


def person_name(rng: Random) -> str:
    given = rng.choice(GIVEN_CHARS) + (rng.choice(GIVEN_CHARS) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def shop_name(rng: Random, place: str, channel: str, owner: str) -> str:
    word = rng.choice(SHOP_WORDS) if rng.random() < 0.8 else owner[0] + "记"
    return f"{place}{word}{rng.choice(SHOP_SUFFIXES[channel])}"


def company_name(rng: Random, place: str) -> str:
    return f"{place}{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_SUFFIXES)}"


def address(rng: Random, place: str) -> str:
    return f"{place}{rng.choice(ROADS)}{rng.randint(1, 399)}号"


def mobile_phone(rng: Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
