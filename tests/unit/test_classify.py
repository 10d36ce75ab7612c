"""Keyword classification on sentences written from the seeds' situations (zh first, en too)."""

from __future__ import annotations

from collections import Counter

import pytest

from services.intake.classify import GIVEN, Keyword, RuleSet, load_rules
from services.intake.decide import classify
from shared.events import Category, Urgency
from tests.unit.classify_data import EVAL_A, EVAL_B, EVAL_C, EVAL_D, Labelled
from zhitong.classify_eval import evaluate, ms_per_text, render

C = Category

# Measured with the shipped rules and model (issue 16), minus 2 points; never raised by tuning
# on B or C.  (category, urgency[, critical recall]); `zhitong classify eval` prints them all.
# Set A's urgency labels predate issue 16's definitions (sparks and a burning smell were high, a
# landlord's month-end deadline normal), so a classifier following them disagrees on a few.
SET_A_FLOORS = (0.980, 0.820)  # measured 100.0%, 84.0% (training data of the rules)
SET_B_FLOORS = (0.928, 0.775, 0.980)  # measured 94.8%, 79.3%, 100.0%
SET_C_FLOORS = (0.873, 0.866, 0.890)  # measured 89.2%, 88.5%, 90.9%
# Set D (142, frozen 2026-12-02): measured 93.0%, 93.0%, 83.3% (15/18) once, after that day's work.
SET_D_FLOORS = (0.905, 0.905, 0.77)

# (text, expected category).  Situations from ../shared/seeds/: couriers barred from
# compounds, truck drivers' stolen cargo and fuel, 9 workers owed ¥70,000+, schooling of
# children, membership transfer, civic "随手拍" reports of waste, parking and facilities.
LABELLED: list[tuple[str, Category]] = [
    ("老板拖欠我们9个人的工资七万多元，已经三个月没发了", C.WAGES),
    ("站点欠薪两个月，站长一直说下周结", C.WAGES),
    ("上个月的派送提成到现在还没结算", C.WAGES),
    ("离职后押金一直不退，工钱也少算了", C.WAGES),
    ("My employer has not paid my wages for two months", C.WAGES),
    ("The station owes nine of us more than 70,000 yuan in back pay", C.WAGES),
    ("公司不给我们交社保，问了好几次都说骑手不能参保", C.SOCIAL_INSURANCE),
    ("想了解职业伤害保障怎么参加，五险一金公司一直不交", C.SOCIAL_INSURANCE),
    ("换了城市以后医保和养老保险怎么转", C.SOCIAL_INSURANCE),
    ("The company does not pay social insurance for couriers", C.SOCIAL_INSURANCE),
    ("一个月没有休息日，每天工作十四个小时", C.REST_LEAVE),
    ("家里老人住院想请假，站长不批还说要扣钱", C.REST_LEAVE),
    ("春节期间连续工作二十天不能调休", C.REST_LEAVE),
    ("We get no day off and work fourteen hours a day", C.REST_LEAVE),
    ("招聘写着不招女骑手，我去面试直接被拒", C.EQUAL_EMPLOYMENT),
    ("超过四十五岁就说超龄不让注册，这算不算就业歧视", C.EQUAL_EMPLOYMENT),
    ("The agency refused to hire me because of my age", C.EQUAL_EMPLOYMENT),
    ("They discriminate against drivers without local hukou", C.EQUAL_EMPLOYMENT),
    ("城里房租太贵，快递小哥住宿难，宿舍也不够", C.ACCOMMODATION),
    ("跑长途只能睡在车上，服务区没有能洗澡的地方", C.ACCOMMODATION),
    ("新来的配送员没地方住，能不能提供低价租房", C.ACCOMMODATION),
    ("Riders need cheap housing near the station, rent is too high", C.ACCOMMODATION),
    ("在服务区停车休息，晚上货物丢失，想申请车货无忧理赔", C.INSURANCE_CLAIM),
    ("半夜油箱里的油被偷了两百多升，保险公司一直不赔付", C.INSURANCE_CLAIM),
    ("货车在高速服务区货被偷，损失一万八，怎么索赔", C.INSURANCE_CLAIM),
    (
        "My cargo was stolen at the service area, how do I file an insurance claim",
        C.INSURANCE_CLAIM,
    ),
    ("Diesel was stolen from my truck overnight and I want compensation", C.INSURANCE_CLAIM),
    ("小区门口保安不让电动车进，快递员进不了小区送件", C.ROAD_ACCESS),
    ("市区货车限行，早上送货的车进不去，通行受阻", C.ROAD_ACCESS),
    ("商场地下通道禁止进入，外卖只能绕路", C.ROAD_ACCESS),
    ("门禁卡不给骑手办，每次都要等保安开门", C.ROAD_ACCESS),
    ("Couriers are not allowed in the compound, the guards stop us at the gate", C.ROAD_ACCESS),
    ("网点没有分拣场地，快件只能堆在马路边上分拣", C.SORTING),
    ("分拨中心太小，每天早上分拣要排两个小时队", C.SORTING),
    ("Our depot has no sorting area so we sort parcels on the pavement", C.SORTING),
    ("孩子跟着我在城里，想在这边入学，需要什么材料", C.SCHOOLING),
    ("随迁子女就学问题，学校说没有学位", C.SCHOOLING),
    ("下午放学没人接孩子，希望驿站能开四点半课堂", C.SCHOOLING),
    ("How can my daughter enrol in a school here as a migrant worker's child", C.SCHOOLING),
    ("我是流动党员，党员关系转接一直没办好", C.MEMBERSHIP),
    ("组织关系还在老家，想迁转到现在的快递行业党支部", C.MEMBERSHIP),
    ("想申请入党，不知道骑手应该找哪个党组织", C.MEMBERSHIP),
    ("I want to transfer my party membership to the local branch", C.MEMBERSHIP),
    ("How can delivery riders join the union and become members", C.MEMBERSHIP),
    ("夏天送餐好几个骑手中暑，希望驿站备点药", C.HEALTH),
    ("长期开车腰疼得厉害，想做个体检看看", C.HEALTH),
    ("心理压力很大，想找人聊聊，有没有心理辅导", C.HEALTH),
    ("Drivers need free medical check-ups, many have back pain", C.HEALTH),
    ("被公司辞退了，想找律师问问能不能申请劳动仲裁", C.LEGAL_AID),
    ("没签劳动合同，出了事不知道怎么维权，需要法律援助", C.LEGAL_AID),
    ("I need legal aid to take my employer to court", C.LEGAL_AID),
    ("平台超时扣款太狠，下雨天晚两分钟也要罚款", C.PLATFORM_RULES),
    ("账号被系统判定违规封号了，申诉一直没人理", C.PLATFORM_RULES),
    ("派单算法让我们一直闯时间，抽成还越来越高", C.PLATFORM_RULES),
    ("The platform deactivated my account without explanation", C.PLATFORM_RULES),
    ("A customer's bad rating got me fined by the app", C.PLATFORM_RULES),
    ("小区楼道里有人私拉电线给电动车充电，有火灾隐患", C.SAFETY_HAZARD),
    ("仓库旁边堆的纸箱冒烟了，像是着火了", C.SAFETY_HAZARD),
    ("工地脚手架松动，路过的人很危险", C.SAFETY_HAZARD),
    ("There is a gas leak smell near the restaurant kitchen", C.SAFETY_HAZARD),
    ("Exposed wires hanging over the bike lane are a hazard", C.SAFETY_HAZARD),
    ("人民路上的井盖没了，晚上骑车很容易掉进去", C.PUBLIC_FACILITY),
    ("解放路那边水管爆裂，路面全是水", C.PUBLIC_FACILITY),
    ("小区门口的路灯坏了一个多星期", C.PUBLIC_FACILITY),
    ("公交站牌被撞坏，护栏也倒了", C.PUBLIC_FACILITY),
    ("A burst water pipe is flooding the street near the market", C.PUBLIC_FACILITY),
    ("The streetlight on Station Road has been broken for a week", C.PUBLIC_FACILITY),
    ("路边堆了很多建筑垃圾，好几天没人清理", C.SANITATION),
    ("菜市场后面的露天垃圾发臭了", C.SANITATION),
    ("河边有人乱倒污水，味道很大", C.SANITATION),
    ("Construction waste has been dumped on the roadside", C.SANITATION),
    ("Trash is piling up behind the night market and it stinks", C.SANITATION),
    ("学校门口车辆乱停乱放，骑手和学生都过不去", C.TRAFFIC_ORDER),
    ("商圈路口天天有车违停占道，早晚高峰堵车", C.TRAFFIC_ORDER),
    ("There is illegal parking all along the market street every evening", C.TRAFFIC_ORDER),
    ("Cars double parked outside the mall are blocking the road", C.TRAFFIC_ORDER),
    ("谢谢驿站的热水和充电器", C.OTHER),
    ("Thanks to the volunteers for the hot meal", C.OTHER),
    # Written as a held-out set (48% at first), then added once the rules were widened.
    ("快递站老板跑路了，我们这个月的钱都没拿到", C.WAGES),
    ("干了半年，公司说试用期不给缴社会保险", C.SOCIAL_INSURANCE),
    ("骑手摔伤了想申请工伤认定，平台说我们不是员工", C.SOCIAL_INSURANCE),
    ("站点规定一年只能休五天，生病也不能歇", C.REST_LEAVE),
    ("面试的时候说已婚已育的女性不要", C.EQUAL_EMPLOYMENT),
    ("晚上没地方落脚，只能在驿站门口的椅子上凑合", C.ACCOMMODATION),
    ("车停在服务区一晚上，早上发现篷布被割开少了三箱货", C.INSURANCE_CLAIM),
    ("写字楼不让外卖员坐电梯，只能走楼梯送餐", C.ROAD_ACCESS),
    ("老旧小区装了道闸，快递三轮车开不进去", C.ROAD_ACCESS),
    ("每天早上货到了没地方分件，只能在路边摊开", C.SORTING),
    ("孩子明年要上小学，没有本地户口能报名吗", C.SCHOOLING),
    ("我在老家入的党，现在常年在外跑车，想转组织关系", C.MEMBERSHIP),
    ("天太热了，送餐时头晕眼花，想去医院查查", C.HEALTH),
    ("被客户打了，想告他，请问去哪里找免费律师", C.LEGAL_AID),
    ("系统派的单子距离太远，拒单还要被扣分", C.PLATFORM_RULES),
    ("充电站的电瓶车着火冒黑烟了", C.SAFETY_HAZARD),
    ("路口的红绿灯不亮了，车都乱开", C.PUBLIC_FACILITY),
    ("小区外面的垃圾桶满了好几天没人收", C.SANITATION),
    ("人行道上停满了电动车和汽车，走都走不过去", C.TRAFFIC_ORDER),
    ("The warehouse boss disappeared and owes us a month of pay", C.WAGES),
    ("Security at the office tower won't let riders use the lift", C.ROAD_ACCESS),
    ("My account got suspended after a customer complaint", C.PLATFORM_RULES),
    ("Someone siphoned the fuel from my truck at the rest area", C.INSURANCE_CLAIM),
    ("The manhole cover on Binhe Road is missing", C.PUBLIC_FACILITY),
    ("Piles of rubbish next to the bus stop have not been collected", C.SANITATION),
]

# Held out by the previous rule set (50% on it).  The reworked method reached 100%, but these
# sentences were visible while it was built, so the honest measures are EVAL_A/EVAL_B in
# classify_data.py (EVAL_B was never tuned on).
HELD_OUT: list[tuple[str, Category]] = [
    ("年底了公司还差我们三个月的辛苦钱", C.WAGES),
    ("公司让我们自己买意外险，不给上五险", C.SOCIAL_INSURANCE),
    ("连着跑了一个月单，一天假都请不下来", C.REST_LEAVE),
    ("招聘启事写了只招35岁以下", C.EQUAL_EMPLOYMENT),
    ("外地来的司机找不到便宜的地方住", C.ACCOMMODATION),
    ("在停车场睡了一觉，车上的货少了两件，找谁赔", C.INSURANCE_CLAIM),
    ("医院住院部不让外卖进，只能在门口等", C.ROAD_ACCESS),
    ("网点太小，几百件快递挤在一起没法分", C.SORTING),
    ("孩子转到这边读初中要办什么手续", C.SCHOOLING),
    ("我想加入工会，在哪里办理", C.MEMBERSHIP),
    ("长期送餐胃病犯了，有没有免费义诊", C.HEALTH),
    ("公司不签合同还扣押身份证，怎么办", C.LEGAL_AID),
    ("平台突然把配送费降了，一单少了一块钱", C.PLATFORM_RULES),
    ("菜市场里的电线被老鼠咬破了，还在冒火花", C.SAFETY_HAZARD),
    ("桥下的排水井盖板翘起来了", C.PUBLIC_FACILITY),
    ("餐馆把泔水倒在下水道口，很臭", C.SANITATION),
    ("The gate guard said delivery scooters cannot enter the estate", C.ROAD_ACCESS),
    ("We have not received our salary since October", C.WAGES),
    ("The street lamp outside the school is out", C.PUBLIC_FACILITY),
    ("A pile of broken furniture was dumped by the river", C.SANITATION),
]

URGENCY: list[tuple[str, Urgency]] = [
    ("仓库起火了，有人受伤", Urgency.CRITICAL),
    ("骑手被车撞了受伤流血，需要急救", Urgency.CRITICAL),
    ("There is a fire in the warehouse", Urgency.CRITICAL),
    ("A rider was injured at the gate", Urgency.CRITICAL),
    ("楼道私拉电线，存在隐患", Urgency.HIGH),
    ("工资拖欠半年了，很急", Urgency.HIGH),
    ("This is urgent, we cannot work", Urgency.HIGH),
    ("小区门口的路灯坏了", Urgency.NORMAL),
    ("Trash is piling up behind the market", Urgency.NORMAL),
    ("建议驿站多放几个充电器", Urgency.LOW),
    ("I have a suggestion about the rest stop", Urgency.LOW),
]


@pytest.fixture(name="rules", scope="module")
def fixture_rules() -> RuleSet:
    """Return the rule set shipped with intake."""
    return load_rules()


def test_labelled_set_is_large_and_covers_every_category() -> None:
    """The labelled set has ≥ 60 sentences and every category appears in it."""
    assert len(LABELLED) >= 60
    assert {label for _, label in LABELLED} == set(Category)


def test_category_accuracy_is_at_least_90_percent(rules: RuleSet) -> None:
    """At least 90% of the labelled sentences get their expected category."""
    wrong = [
        (text, expected, rules.category(text))
        for text, expected in LABELLED
        if rules.category(text)[0] is not expected
    ]
    accuracy = 1 - len(wrong) / len(LABELLED)
    zh = [t for t, _ in LABELLED if not t.isascii()]
    zh_wrong = [w for w in wrong if not w[0].isascii()]
    print(
        f"\ncategory accuracy {accuracy:.1%} ({len(LABELLED) - len(wrong)}/{len(LABELLED)}); "
        f"zh {len(zh) - len(zh_wrong)}/{len(zh)}, "
        f"en {len(LABELLED) - len(zh) - len(wrong) + len(zh_wrong)}/{len(LABELLED) - len(zh)}"
    )
    for text, expected, got in wrong:
        print(f"  miss: {text!r}: expected {expected}, got {got}")
    assert accuracy >= 0.9


def test_held_out_accuracy_is_reported(rules: RuleSet) -> None:
    """Report accuracy on sentences never used for tuning (a floor guards regressions)."""
    hits = sum(rules.category(text)[0] is expected for text, expected in HELD_OUT)
    print(f"\nheld-out category accuracy {hits / len(HELD_OUT):.0%} ({hits}/{len(HELD_OUT)})")
    assert hits / len(HELD_OUT) >= 0.9


def test_urgency_accuracy_is_at_least_90_percent(rules: RuleSet) -> None:
    """At least 90% of the urgency-labelled sentences get their expected urgency."""
    wrong = [(t, u, rules.urgency_of(t)) for t, u in URGENCY if rules.urgency_of(t)[0] is not u]
    print(f"\nurgency accuracy {1 - len(wrong) / len(URGENCY):.1%}; misses: {wrong}")
    assert 1 - len(wrong) / len(URGENCY) >= 0.9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("欠薪", C.WAGES),
        ("拖欠", C.WAGES),
        ("工资", C.WAGES),
        ("社保", C.SOCIAL_INSURANCE),
        ("限行", C.ROAD_ACCESS),
        ("禁止进入", C.ROAD_ACCESS),
        ("进不了小区", C.ROAD_ACCESS),
        ("货物丢失", C.INSURANCE_CLAIM),
        ("油被偷", C.INSURANCE_CLAIM),
        ("入学", C.SCHOOLING),
        ("垃圾", C.SANITATION),
        ("乱停", C.TRAFFIC_ORDER),
        ("水管", C.PUBLIC_FACILITY),
        ("井盖", C.PUBLIC_FACILITY),
        ("路灯", C.PUBLIC_FACILITY),
        ("火", C.SAFETY_HAZARD),
        ("隐患", C.SAFETY_HAZARD),
    ],
)
def test_issue_keywords_pick_their_category(rules: RuleSet, text: str, expected: Category) -> None:
    """Each keyword named in the issue picks its category on its own."""
    assert rules.category(text)[0] is expected


@pytest.mark.parametrize(
    "word",
    [
        "受伤",
        "火灾",
        "injury",
        "fire",
        "煤气味",
        "冒烟",
        "被困",
        "出不来",
        "喘不上气",
        "胸口疼",
        "流血",
        "塌",
        "火花",
        "淹了",
        "gas leak",
        "trapped",
        "chest pain",
    ],
)
def test_danger_words_make_a_grievance_critical(rules: RuleSet, word: str) -> None:
    """The danger words named in issues 16 and earlier make the urgency critical."""
    assert rules.urgency_of(f"路口 {word} 了")[0] is Urgency.CRITICAL


@pytest.mark.parametrize("text", ["今晚不知道睡哪", "下礼拜就开学了", "月底就截止", "看着很危险"])
def test_time_and_live_danger_make_a_grievance_high(rules: RuleSet, text: str) -> None:
    """Deadlines, tonight, next week and a danger nobody is hurt by yet are high."""
    assert rules.urgency_of(text)[0] is Urgency.HIGH


def test_english_keywords_match_whole_words_only(rules: RuleSet) -> None:
    """'fire' does not match 'fired' and 'rest' does not match 'interest'."""
    assert rules.urgency_of("I was fired without notice")[0] is not Urgency.CRITICAL
    assert rules.category("interest")[0] is C.OTHER


def test_classify_keeps_given_values_and_records_reasons(rules: RuleSet) -> None:
    """A given category/urgency is kept; a derived one records the matched keyword."""
    category, urgency, why, _ = classify(
        rules.with_model(None), title=None, description="油被偷了", urgency=Urgency.LOW
    )
    assert (category, urgency) == (C.INSURANCE_CLAIM, Urgency.LOW)
    assert "油被偷" in why.category_reason
    assert why.urgency_reason == GIVEN
    assert why.urgency_confidence is None


def test_unmatched_text_is_other_with_a_reason(rules: RuleSet) -> None:
    """With the rules alone, text without any keyword is 'other' and says so."""
    category, urgency, why, _ = classify(rules.with_model(None), title=None, description="你好")
    assert (category, urgency) == (C.OTHER, Urgency.NORMAL)
    assert "no keyword" in why.category_reason


def test_unknown_category_in_rules_is_a_clear_error() -> None:
    """A rule file naming an unknown category fails with the allowed names."""
    with pytest.raises(ValueError, match=r"unknown category 'wage'.*wages"):
        RuleSet.from_mapping({"categories": {"wage": {"zh": ["工资"]}}})


# --- Frozen evaluation sets (tests/unit/classify_data.py) -----------------------------------


@pytest.mark.parametrize(
    ("data", "min_total", "min_zh", "min_en", "min_each"),
    [(EVAL_A, 80, 60, 20, 3), (EVAL_B, 40, 25, 10, 3), (EVAL_C, 120, 80, 30, 5)],
    ids=["A", "B", "C"],
)
def test_evaluation_sets_are_large_bilingual_and_cover_every_category(
    data: Labelled, min_total: int, min_zh: int, min_en: int, min_each: int
) -> None:
    """Each frozen set has enough Chinese and English sentences and every category."""
    zh = [text for text, _, _ in data if not text.isascii()]
    counts = Counter(category for _, category, _ in data)
    assert len(data) >= min_total
    assert len(zh) >= min_zh
    assert len(data) - len(zh) >= min_en
    assert min(counts[c] for c in Category) >= min_each
    assert len({text for text, _, _ in data}) == len(data)


def test_set_c_is_weighted_towards_high_and_critical() -> None:
    """Set C holds at least 25 critical and 20 high sentences (issue 16)."""
    counts = Counter(urgency for _, _, urgency in EVAL_C)
    assert counts[Urgency.CRITICAL] >= 25
    assert counts[Urgency.HIGH] >= 20


def test_set_a_stays_at_its_measured_figures(rules: RuleSet) -> None:
    """Set A (the rules' training data) keeps its category and urgency accuracy."""
    report = evaluate(rules, "set A (training data of the rules)", EVAL_A)
    print("\n" + render(report, confusion=False))
    assert report.category_accuracy >= SET_A_FLOORS[0]
    assert report.urgency_accuracy >= SET_A_FLOORS[1]


@pytest.mark.parametrize(
    ("name", "data", "floors"),
    [("B", EVAL_B, SET_B_FLOORS), ("C", EVAL_C, SET_C_FLOORS), ("D", EVAL_D, SET_D_FLOORS)],
)
def test_frozen_sets_stay_above_the_floors_measured_on_them(
    rules: RuleSet, name: str, data: Labelled, floors: tuple[float, float, float]
) -> None:
    """Sets B, C and D (never tuned on) keep category, urgency and critical recall."""
    report = evaluate(rules, f"set {name} (never tuned on)", data)
    print("\n" + render(report))
    assert report.category_accuracy >= floors[0]
    assert report.urgency_accuracy >= floors[1]
    assert report.recall(Urgency.CRITICAL) >= floors[2]


def test_classifying_a_text_takes_at_most_0_3_ms(rules: RuleSet) -> None:
    """Rules and model together cost ≤ 0.3 ms of CPU per text (each text's best of five)."""
    texts = [text for text, _, _ in EVAL_A + EVAL_B + EVAL_C]
    best = ms_per_text(rules, texts)
    print(f"\n{best:.3f} ms per text")
    assert best <= 0.3


# --- The method, cue by cue ------------------------------------------------------------------


def test_a_longer_cue_silences_the_cues_inside_it(rules: RuleSet) -> None:
    """工伤保险 is social insurance, not the insurance_claim cue 保险 inside it."""
    category, why = rules.category("工伤保险公司一直没给我们办")
    assert category is C.SOCIAL_INSURANCE
    assert "工伤保险" in why


def test_not_cues_remove_a_misleading_word() -> None:
    """'fire me' is not a fire; a not-cue only silences what lies inside it."""
    rules = RuleSet.from_mapping(
        {"categories": {"safety_hazard": {"en": ["fire"], "not": ["fire me"]}}}
    )
    assert rules.category("they will fire me")[0] is C.OTHER
    assert rules.category("there is a fire, fire me a message")[0] is C.SAFETY_HAZARD


def test_gap_cues_find_split_phrases_within_one_clause() -> None:
    """不让~进 finds 不让外卖车进 but not across a comma or too far apart."""
    rules = RuleSet.from_mapping({"categories": {"road_access": {"zh": ["不让~进"]}}})
    category, why = rules.category("保安不让外卖车进")
    assert category is C.ROAD_ACCESS
    assert "不让~进" in why
    assert rules.category("不让说，进门再讲")[0] is C.OTHER
    assert rules.category("不让一二三四五六七八进")[0] is C.OTHER


def test_english_matches_plurals_and_stems_but_only_whole_words() -> None:
    """'wage' matches 'wages', 'salar*' matches 'salaries', 'pay' does not match 'payment'."""
    rules = RuleSet.from_mapping(
        {"categories": {"wages": {"en": ["wage", "salar*"]}, "platform_rules": {"en": ["pay"]}}}
    )
    assert rules.category("WAGES are late")[0] is C.WAGES
    assert rules.category("two salaries missing")[0] is C.WAGES
    assert rules.category("payment page")[0] is C.OTHER


def test_traditional_and_full_width_text_is_normalised(rules: RuleSet) -> None:
    """Traditional characters and full-width letters match simplified/ASCII cues."""
    assert rules.category("社區保安不讓外賣車進小區")[0] is C.ROAD_ACCESS
    assert rules.category("ＭＹ ＷＡＧＥＳ ＡＲＥ ＵＮＰＡＩＤ")[0] is C.WAGES


def test_weak_cues_alone_are_other_and_say_so() -> None:
    """A weak cue (1 point) is below min_score: 'other', with the cue named in the reason."""
    rules = RuleSet.from_mapping({"categories": {"wages": {"weak": ["钱"], "zh": ["工资"]}}})
    category, why = rules.category("钱包丢在驿站了")
    assert category is C.OTHER
    assert "钱" in why
    assert "score 1 < 2" in why
    assert rules.category("工资和钱")[0] is C.WAGES


def test_several_cues_outweigh_one_and_ties_follow_priority() -> None:
    """Scores add up; on a tie the category earlier in `priority` wins."""
    rules = RuleSet.from_mapping(
        {
            "priority": ["health", "traffic_order"],
            "categories": {
                "traffic_order": {"zh": ["路口", "撞"]},
                "health": {"zh": ["流血"]},
            },
        }
    )
    assert rules.category("路口撞了")[0] is C.TRAFFIC_ORDER
    category, why = rules.category("路口流血")
    assert category is C.HEALTH
    assert "next traffic_order 2" in why


def test_low_urgency_needs_a_question_without_a_complaint(rules: RuleSet) -> None:
    """A plain question is low; the same question with a complaint in it is normal."""
    assert rules.urgency_of("请问驿站几点开门")[0] is Urgency.LOW
    urgency, why = rules.urgency_of("请问工资为什么一直不给")
    assert urgency is Urgency.NORMAL
    assert "一直" in why


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"categories": {"wages": {"zh": ["欠~钱~了"]}}}, r"wages.*'~'"),
        ({"categories": {"wages": {"strongest": ["工资"]}}}, r"unknown key.*strongest"),
        ({"priority": ["wage"]}, r"unknown category 'wage'"),
        ({"urgency": {"severe": {"zh": ["急"]}}}, r"unknown urgency 'severe'.*critical"),
    ],
)
def test_bad_rule_files_fail_with_a_clear_error(spec: dict[str, object], message: str) -> None:
    """A malformed rule file names the category, key or keyword at fault."""
    with pytest.raises(ValueError, match=message):
        RuleSet.from_mapping(spec)


def test_empty_keywords_are_refused() -> None:
    """An empty keyword would match everything; it is refused."""
    with pytest.raises(ValueError, match="empty"):
        Keyword.parse("  ")
