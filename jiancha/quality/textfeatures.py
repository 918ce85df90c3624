"""Hand-written reading aids for facts texts (案件事实): cue words and quantities.

Shared by the charge check (`charge_model`) and the sentencing check
(`sentencing_model`). Nothing here is learnt: the cue lists are the textbook
elements (构成要件) that separate charges which are often confused, e.g. 秘密窃取
for 盗窃罪 against 虚构事实、隐瞒真相 for 诈骗罪, and the quantities are the
amounts the sentencing guidelines scale with (数额, 毒品数量, 血液酒精含量, 伤情).
"""

import math
import re
import unicodedata

# Cue patterns per charge (official names, with 罪). A cue is evidence *for* the
# charge; the learnt model weighs it, so the lists may overlap.
CHARGE_CUES: dict[str, tuple[str, ...]] = {
    "危险驾驶罪": (
        r"醉酒",
        r"酒精",
        r"乙醇",
        r"酒后驾驶",
        r"追逐竞驶",
        r"超员",
        r"超速",
    ),
    "交通肇事罪": (
        r"交通事故",
        r"肇事",
        r"(全部|主要)责任",
        r"逃逸",
        r"相撞|碰撞|撞[倒上击]",
    ),
    "故意杀人罪": (r"杀", r"致死|死亡", r"掐|勒|扼", r"窒息", r"要害"),
    "故意伤害罪": (r"轻伤", r"重伤", r"伤情|损伤程度", r"殴打|打伤|砍伤|刺伤"),
    "过失致人死亡罪": (r"过失|疏忽|不慎", r"死亡"),
    "寻衅滋事罪": (
        r"随意殴打|无故|滋事|起哄闹事",
        r"强拿硬要",
        r"任意损毁|任意毁损",
        r"酒后",
        r"辱骂",
    ),
    "诈骗罪": (r"虚构|谎称|冒充|假称", r"骗取|骗得|诈骗", r"隐瞒真相", r"信以为真"),
    "合同诈骗罪": (r"合同|协议", r"签订|签署", r"履行|定金|货款"),
    "信用卡诈骗罪": (r"信用卡", r"透支", r"催收|催缴"),
    "妨害信用卡管理罪": (r"信用卡", r"持有|运输|收购"),
    "盗窃罪": (
        r"窃|盗",
        r"秘密|趁.{0,6}(不备|不注意|熟睡|无人)",
        r"撬|扒窃|入户",
        r"拿走|偷",
    ),
    "抢劫罪": (
        r"暴力|胁迫|威胁|捆绑|殴打",
        r"持刀|匕首|刀具|凶器",
        r"抢劫|劫取|抢走",
        r"搜身|索要",
    ),
    "抢夺罪": (r"抢夺|夺走|夺取|拽|抢走", r"趁.{0,8}(不备|不注意)", r"驾驶摩托车|飞车"),
    "敲诈勒索罪": (r"敲诈|勒索|要挟|威胁", r"索要"),
    "绑架罪": (r"绑架|劫持", r"赎金|勒索", r"人质|控制"),
    "非法拘禁罪": (r"拘禁|限制.{0,4}人身自由|扣押|关押", r"讨要|索要.{0,4}债务|欠款"),
    "走私、贩卖、运输、制造毒品罪": (
        r"甲基苯丙胺|海洛因|冰毒|麻古|大麻|氯胺酮|毒品",
        r"贩卖|出售|交易",
        r"运输|携带",
    ),
    "非法持有毒品罪": (r"毒品|甲基苯丙胺|海洛因", r"持有|查获|藏匿"),
    "容留他人吸毒罪": (r"容留", r"吸食|吸毒"),
    "强奸罪": (r"强行|违背.{0,4}意志|反抗", r"发生性关系|奸淫"),
    "强制猥亵、侮辱罪": (r"猥亵|抚摸|亲吻|搂抱", r"强行|违背"),
    "猥亵儿童罪": (r"儿童|幼女|未满十四周岁|[0-9]{1}岁|小学", r"猥亵|抚摸|亲吻"),
    "非法狩猎罪": (r"狩猎|猎捕|捕猎|禁猎", r"野生动物|鸟|兽|猎"),
    "危害珍贵、濒危野生动物罪": (r"珍贵|濒危|国家重点保护野生动物|国家二级|国家一级",),
    "危害国家重点保护植物罪": (
        r"国家重点保护|珍贵树木|红豆杉|楠木",
        r"采伐|毁坏|移栽|收购",
    ),
    "盗伐林木罪": (r"盗伐", r"林木|树木|立木"),
    "滥伐林木罪": (r"滥伐|采伐许可", r"林木|树木|立木"),
    "滥用职权罪": (r"职权|国家机关工作人员|职务", r"违反.{0,6}规定|擅自"),
    "玩忽职守罪": (r"玩忽|严重不负责任|不履行职责",),
    "受贿罪": (r"收受|索取", r"国家工作人员", r"好处费|贿赂|礼金"),
    "非国家工作人员受贿罪": (
        r"收受|索取",
        r"公司|企业|经理|员工",
        r"好处费|回扣|手续费",
    ),
    "介绍贿赂罪": (r"介绍|牵线|搭桥", r"贿赂|好处费"),
    "职务侵占罪": (r"侵占|职务.{0,4}便利", r"本单位|公司|单位"),
    "窝藏、包庇罪": (
        r"窝藏|包庇|藏匿",
        r"提供.{0,6}(住处|资金|财物)|帮助.{0,6}逃匿|作假证明",
    ),
    "帮助犯罪分子逃避处罚罪": (r"通风报信|提供便利|逃避处罚", r"查禁|职责"),
    "妨害作证罪": (r"作证|证言|伪证", r"指使|贿买|威胁"),
    "传播淫秽物品罪": (r"淫秽", r"传播|上传|转发|群"),
    "制作、复制、出版、贩卖、传播淫秽物品牟利罪": (
        r"淫秽",
        r"牟利|贩卖|出售|会员|收取",
    ),
    "组织卖淫罪": (r"卖淫", r"组织|招募|管理"),
    "引诱、容留、介绍卖淫罪": (r"卖淫", r"容留|介绍|引诱"),
    "虚开增值税专用发票、用于骗取出口退税、抵扣税款发票罪": (
        r"虚开",
        r"增值税专用发票|抵扣",
        r"税款|税额",
    ),
    "虚开发票罪": (r"虚开", r"普通发票|发票"),
    "生产、销售有毒、有害食品罪": (r"有毒|有害|非食品原料|违禁", r"食品|添加|销售"),
    "污染环境罪": (r"污染|排放|倾倒", r"危险废物|废水|废液|重金属"),
    "骗取贷款、票据承兑、金融票证罪": (
        r"贷款|承兑|保函|信用证",
        r"银行|信用社",
        r"虚假",
    ),
    "伪造公司、企业、事业单位、人民团体印章罪": (r"印章|公章", r"伪造|刻制|私刻"),
    "假冒注册商标罪": (r"注册商标", r"假冒|相同的商标"),
    "妨害公务罪": (r"民警|执法|公务", r"阻碍|推搡|抓伤|暴力"),
    "非法持有、私藏枪支、弹药罪": (r"枪支|枪|弹药", r"持有|私藏"),
    "破坏电力设备罪": (r"电力|电线|电缆|变压器", r"剪断|割断|破坏|盗"),
    "脱逃罪": (r"脱逃|逃离", r"羁押|监管|看守所|监狱"),
    "掩饰、隐瞒犯罪所得、犯罪所得收益罪": (
        r"明知.{0,8}(赃|犯罪所得|盗)",
        r"收购|销售|转移|代为",
    ),
    "强迫交易罪": (r"强迫|强行", r"交易|买卖|服务|收取"),
    "开设赌场罪": (r"赌场|赌博", r"开设|抽头|渔利"),
}

_COMPILED_CUES: dict[str, tuple[re.Pattern[str], ...]] = {
    charge: tuple(re.compile(pattern) for pattern in patterns)
    for charge, patterns in CHARGE_CUES.items()
}


def text_normalize(text: str) -> str:
    """Full-width to half-width (NFKC), so ``１６５.１５ｍｇ／１００ｍｌ`` reads as digits."""
    return unicodedata.normalize("NFKC", text or "")


def cue_fraction(text: str, charge: str) -> float:
    """Share of the charge's cue patterns that occur in the text; -1 when it has none."""
    patterns = _COMPILED_CUES.get(charge)
    if not patterns:
        return -1.0
    return sum(1 for pattern in patterns if pattern.search(text)) / len(patterns)


_NUMBER = r"(\d+(?:\.\d+)?)"
_MONEY = re.compile(_NUMBER + r"\s*(万)?\s*余?元")
_WEIGHT = re.compile(_NUMBER + r"\s*(千克|公斤|kg|克|g)(?![a-z])", re.IGNORECASE)
_ALCOHOL = re.compile(
    _NUMBER + r"\s*(?:mg|毫克)?\s*/\s*[1lI][0oO]{2}\s*(?:ml|毫升)", re.IGNORECASE
)
_DATE = re.compile(r"\d{4}年\d{1,2}月(\d{1,2}日)?")

# Circumstances the sentencing guidelines adjust for (量刑情节), as (name, pattern).
SENTENCING_CIRCUMSTANCES: tuple[tuple[str, str], ...] = (
    ("surrender", r"自首|投案"),
    ("confession", r"如实供述|坦白"),
    ("plea", r"认罪认罚|自愿认罪|当庭认罪"),
    ("forgiveness", r"谅解"),
    ("compensation", r"赔偿|退赔|退赃|退还|追回|返还"),
    ("meritorious", r"立功"),
    ("attempt", r"未遂|未得逞"),
    ("accessory", r"从犯|辅助作用|次要作用"),
    ("recidivist", r"累犯|刑满释放|曾因|前科"),
    ("repeated", r"多次|先后|分别"),
    ("burglary", r"入户"),
    ("weapon", r"持刀|凶器|匕首|菜刀|枪"),
    ("minor_injury", r"轻微伤"),
    ("light_injury", r"轻伤"),
    ("serious_injury", r"重伤"),
    ("death", r"死亡|身亡|致死"),
    ("disability", r"伤残|残疾"),
    ("minor_offender", r"未成年|不满十八周岁"),
    ("victim_child", r"幼女|儿童|未满十四周岁"),
    ("gang", r"伙同|共同|纠集|结伙"),
    ("large", r"数额巨大|数量较大|情节严重"),
    ("huge", r"数额特别巨大|情节特别严重|特别恶劣"),
    ("fleeing", r"逃逸|逃离现场"),
)
_COMPILED_CIRCUMSTANCES = tuple(
    (name, re.compile(pattern)) for name, pattern in SENTENCING_CIRCUMSTANCES
)

QUANTITY_NAMES: tuple[str, ...] = (
    "log_money_max",
    "log_money_sum",
    "money_mentions",
    "log_weight_max_g",
    "log_weight_sum_g",
    "alcohol_mg_100ml",
    "incidents",
    "log_length",
)


def quantities(text: str) -> list[float]:
    """Numbers the sentence scales with, in the order of `QUANTITY_NAMES` (logs of 1 + x)."""
    text = text_normalize(text)
    money = [
        float(value) * (10_000 if tenthousand else 1)
        for value, tenthousand in _MONEY.findall(text)
    ]
    weights = [
        float(value) * (1000 if unit.lower() in ("千克", "公斤", "kg") else 1)
        for value, unit in _WEIGHT.findall(text)
    ]
    alcohol = [float(value) for value in _ALCOHOL.findall(text)]
    return [
        math.log1p(max(money, default=0.0)),
        math.log1p(sum(money)),
        float(len(money)),
        math.log1p(max(weights, default=0.0)),
        math.log1p(sum(weights)),
        min(max(alcohol, default=0.0), 500.0) / 100.0,
        float(min(len(_DATE.findall(text)), 20)),
        math.log1p(len(text)),
    ]


def circumstances(text: str) -> list[float]:
    """1.0 for each circumstance of `SENTENCING_CIRCUMSTANCES` mentioned in the text, else 0.0."""
    text = text_normalize(text)
    return [
        1.0 if pattern.search(text) else 0.0
        for _name, pattern in _COMPILED_CIRCUMSTANCES
    ]
