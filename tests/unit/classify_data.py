"""Labelled sentences for measuring intake's keyword classifier (category and urgency).

Written from the situations in ``../shared/seeds/`` and ``../shared/design/DOMAIN.md``
(owed wages, social insurance, rest days, hiring discrimination, housing, stolen cargo and
fuel, couriers barred from compounds, sorting space, children's schooling, membership
transfer, health, legal aid, platform penalties and civic "随手拍" reports), in the way
workers type on a phone: colloquial, often several problems at once with one that dominates.

The sets are FROZEN: do not edit a sentence or a label to make the classifier pass.  Add a
new set instead, and write it *before* running the classifier on it.

Labelling conventions (what the worker wants done decides the category):
- pay owed, cut or withheld by an employer, station or fleet → ``wages``; deductions and
  penalties imposed by a platform's app/algorithm, commission, account bans → ``platform_rules``.
- a work injury asked about as 工伤/insurance → ``social_insurance``; a person hurt or ill
  who needs care → ``health``; a dispute that needs a lawyer/arbitration → ``legal_aid``.
- a civic report is classified by the *thing* reported (a missing manhole cover that hurt a
  rider → ``public_facility``); fire, smoke, dangerous wiring, collapse → ``safety_hazard``.
- ``other``: thanks, app questions, opening hours — nothing to route to a department.

Urgency: ``critical`` — someone is hurt, trapped or unconscious, or a fire/collapse is
happening now; ``high`` — a live danger nobody is hurt by yet, many workers or months of
arrears, someone unable to work or unwell right now; ``low`` — a question, suggestion or
thanks; ``normal`` — everything else.
"""

from __future__ import annotations

from pathlib import Path

from shared.events import Category, Urgency

C = Category
U = Urgency

Labelled = list[tuple[str, Category, Urgency]]

# Set A — written by the classification owner before any change to the rules; the
# baseline (old rules) was measured on it once it was committed.
EVAL_A: Labelled = [
    # wages
    ("干了三个月的站点老板突然关门跑了，我们十几个兄弟的工钱一分没拿到", C.WAGES, U.HIGH),
    ("这个月到手比上个月少了八百，问站长也说不清楚扣在哪了", C.WAGES, U.NORMAL),
    ("离职都一个月了，最后半个月的薪水还压着不给，说要等下个月十五号", C.WAGES, U.NORMAL),
    ("加盟商说件量不够，每票派费从一块二降到八毛，也没提前通知", C.WAGES, U.NORMAL),
    ("车队欠我运费两万多，年前说好结清，现在电话都不接了", C.WAGES, U.NORMAL),
    ("我们网点9个人的工资拖了快半年，加起来七万多，劳动监察能不能管一管", C.WAGES, U.HIGH),
    ("公司拖欠三個月薪水，老闆電話都不接", C.WAGES, U.HIGH),
    (
        "The fleet owner still hasn't paid us for last month's runs, about 6,000 yuan each",
        C.WAGES,
        U.NORMAL,
    ),
    (
        "My station manager keeps part of my earnings every week and never shows a payslip",
        C.WAGES,
        U.NORMAL,
    ),
    ("Three months without pay, I can't afford the rent anymore", C.WAGES, U.HIGH),
    # social insurance
    ("跑了两年外卖，公司从来没给交过社保，以后养老怎么办", C.SOCIAL_INSURANCE, U.NORMAL),
    ("我是网约车司机，自己想交养老保险和医保，灵活就业人员怎么缴", C.SOCIAL_INSURANCE, U.LOW),
    ("送件时摔断了手，站点说我们不是正式员工不给认定工伤", C.SOCIAL_INSURANCE, U.CRITICAL),
    ("换城市跑单后原来交的社保断了，能不能转过来接着交", C.SOCIAL_INSURANCE, U.LOW),
    ("骑手的职业伤害保障到底有没有上，APP里查不到我的参保记录", C.SOCIAL_INSURANCE, U.NORMAL),
    (
        "The company deducts social insurance from my pay but nothing was ever paid in",
        C.SOCIAL_INSURANCE,
        U.NORMAL,
    ),
    (
        "How can a gig driver join the pension and medical insurance scheme on his own?",
        C.SOCIAL_INSURANCE,
        U.LOW,
    ),
    # rest and leave
    ("过年这一个月一天都没歇过，站长说谁请假就扣全勤", C.REST_LEAVE, U.NORMAL),
    ("每天早上七点干到晚上十一点，连着干了四十多天，人快撑不住了", C.REST_LEAVE, U.HIGH),
    ("孩子发烧想请两天假，平台说请假要扣分还要自己找人顶班", C.REST_LEAVE, U.NORMAL),
    ("公司规定一个月只能休两天，而且休息那天还要在群里随时待命", C.REST_LEAVE, U.NORMAL),
    ("货运公司排班太满，跑完夜班第二天一早又派车，根本没时间睡觉", C.REST_LEAVE, U.NORMAL),
    (
        "We haven't had a single day off since the Spring Festival and the manager refuses "
        "any leave",
        C.REST_LEAVE,
        U.NORMAL,
    ),
    (
        "I asked for two days of rest after a 30-day streak and they threatened to fire me",
        C.REST_LEAVE,
        U.NORMAL,
    ),
    # equal employment
    ("去应聘配送员，人家一听我是女的就说不要，说这活女的干不了", C.EQUAL_EMPLOYMENT, U.NORMAL),
    ("我四十八了，平台说超过45岁不能再注册骑手，这不合理吧", C.EQUAL_EMPLOYMENT, U.NORMAL),
    ("网约车公司招司机只要本地户口，外地人连面试机会都没有", C.EQUAL_EMPLOYMENT, U.NORMAL),
    ("我腿有点残疾但是开车没问题，车队就是不肯要我", C.EQUAL_EMPLOYMENT, U.NORMAL),
    ("招聘广告写着只招未婚，已经结婚有孩子的就不考虑", C.EQUAL_EMPLOYMENT, U.NORMAL),
    (
        "The courier company told me they don't hire women for delivery jobs",
        C.EQUAL_EMPLOYMENT,
        U.NORMAL,
    ),
    (
        "They rejected me because I'm over 45, even with ten years of driving experience",
        C.EQUAL_EMPLOYMENT,
        U.NORMAL,
    ),
    # accommodation
    ("刚来这个城市送外卖，租不起房，晚上只能在网吧凑合", C.ACCOMMODATION, U.NORMAL),
    ("跑长途的，服务区没地方睡，天天在驾驶室里窝着，洗个澡都难", C.ACCOMMODATION, U.NORMAL),
    ("公司承诺包住，结果十几个人挤一间屋子，上下铺还漏雨", C.ACCOMMODATION, U.NORMAL),
    ("听说有给小哥的低价公寓，我想申请，去哪里报名", C.ACCOMMODATION, U.LOW),
    ("房东突然说月底要收回房子，我们几个骑手一下子没地方落脚了", C.ACCOMMODATION, U.NORMAL),
    (
        "Rooms near the delivery station cost half of what I earn, is there any cheap housing "
        "for riders?",
        C.ACCOMMODATION,
        U.LOW,
    ),
    ("Our dorm has no hot water and twelve people share one room", C.ACCOMMODATION, U.NORMAL),
    # insurance claims (cargo / fuel)
    ("在服务区睡了一觉，早上起来发现车厢被撬，少了二十多箱货", C.INSURANCE_CLAIM, U.NORMAL),
    ("油箱半夜被人抽走三百升柴油，报了车货无忧，一个礼拜了还没消息", C.INSURANCE_CLAIM, U.NORMAL),
    ("快递包裹在运输途中丢了，客户要我全额赔，保险那边能不能出", C.INSURANCE_CLAIM, U.NORMAL),
    ("货到了发现被调包了，理赔材料交上去说不符合要求", C.INSURANCE_CLAIM, U.NORMAL),
    ("车停在高速服务区，篷布被划开偷了货，想问问怎么报案和申请赔付", C.INSURANCE_CLAIM, U.NORMAL),
    (
        "Someone stole about 200 litres of diesel from my truck at the service area, how do I "
        "file a claim?",
        C.INSURANCE_CLAIM,
        U.NORMAL,
    ),
    (
        "Cargo worth 18,000 yuan went missing overnight and the insurer keeps asking for more "
        "paperwork",
        C.INSURANCE_CLAIM,
        U.NORMAL,
    ),
    # road access
    (
        "那个花园小区的保安就是不让外卖车进，让我们停门口走进去，一单要多走十分钟",
        C.ROAD_ACCESS,
        U.NORMAL,
    ),
    ("写字楼不让快递员坐客梯，货梯又经常坏，二十多楼只能爬楼梯", C.ROAD_ACCESS, U.NORMAL),
    ("市区白天货车限行，我们送货只能半夜进城，能不能给办个通行证", C.ROAD_ACCESS, U.NORMAL),
    ("小区门口新装了道闸，电动车一律禁止进入，业主又要求送货上门", C.ROAD_ACCESS, U.NORMAL),
    ("学校门口不让骑手停，进校园的路也封了，饭都送不进去", C.ROAD_ACCESS, U.NORMAL),
    ("社區保安不讓外賣車進小區", C.ROAD_ACCESS, U.NORMAL),
    (
        "The security guards at Sunshine Garden won't let couriers in on e-bikes, we have to "
        "walk every parcel to the door",
        C.ROAD_ACCESS,
        U.NORMAL,
    ),
    (
        "Our trucks keep getting turned away at the industrial park gate even with a delivery "
        "order",
        C.ROAD_ACCESS,
        U.NORMAL,
    ),
    # sorting
    ("网点太小，几千件货只能堆在马路边上分，下雨全湿了", C.SORTING, U.NORMAL),
    ("分拣线经常坏，每天早上要等两个小时才能拿到自己的件", C.SORTING, U.NORMAL),
    ("驿站没有分拣的地方，我们只能在车上一件一件翻", C.SORTING, U.NORMAL),
    ("双十一件量暴增，分拨中心来不及分，派送全延误了还要被罚", C.SORTING, U.NORMAL),
    (
        "There's no space to sort parcels at our pickup point, we do it on the pavement in "
        "the rain",
        C.SORTING,
        U.NORMAL,
    ),
    (
        "The sorting belt at the hub breaks down almost every morning and we lose two hours",
        C.SORTING,
        U.NORMAL,
    ),
    # schooling
    ("孩子跟着我在城里，今年该上小学了，没有本地户口报不上名", C.SCHOOLING, U.NORMAL),
    ("想把女儿从老家转到这边读初中，学校说没学位", C.SCHOOLING, U.NORMAL),
    ("放学后没人接孩子，我们跑单到晚上，有没有托管的地方", C.SCHOOLING, U.LOW),
    ("外卖员子女积分入学需要哪些材料，社保要交满几年", C.SCHOOLING, U.LOW),
    ("孩子中考要回户籍地考试，能不能在这边读完高中", C.SCHOOLING, U.LOW),
    (
        "My son turns six this year and the local primary school says migrant kids need five "
        "certificates",
        C.SCHOOLING,
        U.NORMAL,
    ),
    (
        "Is there an after-school class where riders can leave their kids until eight pm?",
        C.SCHOOLING,
        U.LOW,
    ),
    # membership
    ("我是党员，从老家出来跑车三年了，组织关系还在村里，想转到这边", C.MEMBERSHIP, U.NORMAL),
    ("流动党员在哪里过组织生活，党费交给谁", C.MEMBERSHIP, U.LOW),
    ("我想申请入党，我们站点没有党支部，该找谁", C.MEMBERSHIP, U.LOW),
    ("换了快递公司，原来支部说关系要转走，新公司又说没有接收的支部", C.MEMBERSHIP, U.NORMAL),
    ("想加入工会，听说货车司机也能入会，怎么办手续", C.MEMBERSHIP, U.LOW),
    (
        "I'm a party member working as a courier here, how do I move my party membership from "
        "my hometown?",
        C.MEMBERSHIP,
        U.LOW,
    ),
    ("How can truck drivers join the trade union?", C.MEMBERSHIP, U.LOW),
    # health
    ("天天在太阳底下跑，今天中午头晕想吐，可能中暑了", C.HEALTH, U.HIGH),
    ("常年骑车腰椎出了毛病，想问有没有免费体检或者义诊", C.HEALTH, U.LOW),
    ("最近压力太大晚上睡不着，跑单的时候总走神，有没有心理咨询", C.HEALTH, U.LOW),
    ("站点的小哥发高烧还在送单，附近没有能看病的地方", C.HEALTH, U.HIGH),
    ("开长途十几年，胃病腰病一身，看病报销太麻烦", C.HEALTH, U.NORMAL),
    ("骑手在文化路口被车撞了，腿在流血，快来人", C.HEALTH, U.CRITICAL),
    (
        "I've had back pain for months from riding all day and I can't afford to see a doctor",
        C.HEALTH,
        U.NORMAL,
    ),
    (
        "A rider fainted in the heat at the station this afternoon, is there a clinic nearby?",
        C.HEALTH,
        U.CRITICAL,
    ),
    (
        "A rider was knocked off his bike at the Wenhua Road junction and is bleeding badly",
        C.HEALTH,
        U.CRITICAL,
    ),
    # legal aid
    ("被公司辞退了，没签劳动合同，想找个律师问问能不能要赔偿", C.LEGAL_AID, U.NORMAL),
    ("客户说我弄坏了他的东西，要去法院告我，我该怎么办", C.LEGAL_AID, U.NORMAL),
    ("跟车队签的是承包协议，出了事说我不是员工，这种情况能打官司吗", C.LEGAL_AID, U.LOW),
    ("想申请劳动仲裁，但是不知道要准备什么证据", C.LEGAL_AID, U.LOW),
    ("出车祸对方要我赔十万，我想找法律援助", C.LEGAL_AID, U.HIGH),
    (
        "The platform says I'm not an employee so they owe me nothing, I need free legal advice",
        C.LEGAL_AID,
        U.NORMAL,
    ),
    (
        "Where can I get a free lawyer? My employer is suing me for a damaged van",
        C.LEGAL_AID,
        U.NORMAL,
    ),
    # platform rules
    ("就晚了两分钟，系统判我超时扣了五十，申诉也没人理", C.PLATFORM_RULES, U.NORMAL),
    ("一个差评就被停单三天，顾客自己地址写错的也算我头上", C.PLATFORM_RULES, U.NORMAL),
    ("平台抽成越来越高，一单二十块我只拿到十二", C.PLATFORM_RULES, U.NORMAL),
    ("账号突然被封了，说我刷单，我根本没有，这一周都没法干活", C.PLATFORM_RULES, U.HIGH),
    ("派单系统老给我派十几公里外的单，拒单又扣服务分", C.PLATFORM_RULES, U.NORMAL),
    ("直播间被平台限流，说我违规，具体哪句违规也不告诉", C.PLATFORM_RULES, U.NORMAL),
    (
        "My account was deactivated after one customer complaint and the appeal button does "
        "nothing",
        C.PLATFORM_RULES,
        U.NORMAL,
    ),
    (
        "The app's algorithm keeps giving me shorter delivery times than the map says is possible",
        C.PLATFORM_RULES,
        U.NORMAL,
    ),
    # safety hazards
    ("城中村那栋楼楼道里一排电动车在充电，电线乱拉，太吓人了", C.SAFETY_HAZARD, U.HIGH),
    ("路过建设路看到一个饭店后厨冒黑烟，好像着火了，已经打了119", C.SAFETY_HAZARD, U.CRITICAL),
    ("小区地下车库有人私接电线给电瓶充电，已经闻到焦糊味", C.SAFETY_HAZARD, U.HIGH),
    ("工地的围挡被风吹歪了，随时可能倒在人行道上", C.SAFETY_HAZARD, U.HIGH),
    ("老旧居民楼外墙瓷砖往下掉，差点砸到送餐的小哥", C.SAFETY_HAZARD, U.HIGH),
    (
        "Saw sparks coming from a charging cabinet outside the station, it smells like burning "
        "plastic",
        C.SAFETY_HAZARD,
        U.HIGH,
    ),
    (
        "A building on Jiefang Road is on fire and people are still inside",
        C.SAFETY_HAZARD,
        U.CRITICAL,
    ),
    (
        "Loose scaffolding on the corner of 5th street is swaying in the wind above the bike lane",
        C.SAFETY_HAZARD,
        U.HIGH,
    ),
    # public facilities
    ("人民路和解放街路口的井盖没了，晚上黑乎乎的很容易掉进去", C.PUBLIC_FACILITY, U.HIGH),
    ("我们小区门口的路灯坏了半个月了，晚上送单看不清", C.PUBLIC_FACILITY, U.NORMAL),
    ("公园旁边的水管爆了，水淹了半条路", C.PUBLIC_FACILITY, U.HIGH),
    ("公交站的棚子被风刮坏了，顶板挂在上面晃", C.PUBLIC_FACILITY, U.HIGH),
    ("驿站附近的公共厕所一直锁着门，我们上个厕所要跑好远", C.PUBLIC_FACILITY, U.NORMAL),
    ("井盖丢了，刚才一个送外卖的连人带车摔进去受伤了", C.PUBLIC_FACILITY, U.CRITICAL),
    (
        "The streetlight outside building 3 has been broken for two weeks",
        C.PUBLIC_FACILITY,
        U.NORMAL,
    ),
    (
        "A water pipe burst under the pavement near the market, water is everywhere",
        C.PUBLIC_FACILITY,
        U.HIGH,
    ),
    # sanitation
    ("小区后门那块空地被人倒了一大堆建筑垃圾，好几天了没人清", C.SANITATION, U.NORMAL),
    ("菜市场门口的垃圾桶满了往外溢，夏天臭得不行", C.SANITATION, U.NORMAL),
    ("河边有人偷偷往河里排污水，颜色发黑", C.SANITATION, U.NORMAL),
    ("背街小巷到处是外卖餐盒和塑料袋，一直没人打扫", C.SANITATION, U.NORMAL),
    (
        "Someone dumped a pile of construction waste at the back gate of the community",
        C.SANITATION,
        U.NORMAL,
    ),
    (
        "The bins behind the night market haven't been emptied for days and the whole street "
        "stinks",
        C.SANITATION,
        U.NORMAL,
    ),
    # traffic order
    ("幼儿园门口接孩子的车天天乱停，把非机动车道全占了", C.TRAFFIC_ORDER, U.NORMAL),
    ("商场门口的共享单车堆成山，人行道都走不过去", C.TRAFFIC_ORDER, U.NORMAL),
    ("十字路口老有货车逆行，看着很危险", C.TRAFFIC_ORDER, U.HIGH),
    ("早高峰这段路天天堵死，有车在路中间停着下客", C.TRAFFIC_ORDER, U.NORMAL),
    (
        "Cars park on the bike lane outside the mall every evening, riders have to swerve into "
        "traffic",
        C.TRAFFIC_ORDER,
        U.NORMAL,
    ),
    (
        "A delivery van has been parked across the bike lane on Renmin Road for three days",
        C.TRAFFIC_ORDER,
        U.NORMAL,
    ),
    # other
    ("你们这个小程序怎么改绑手机号", C.OTHER, U.LOW),
    ("谢谢站点的党员师傅，上次帮我修好了电动车", C.OTHER, U.LOW),
    ("想问一下爱心驿站几点开门，能不能给手机充电", C.OTHER, U.LOW),
    ("希望多组织一些骑手之间的联谊活动", C.OTHER, U.LOW),
    ("What time does the rider service station close on weekends?", C.OTHER, U.LOW),
    ("Just want to say the new rest stop on the highway is great, thanks", C.OTHER, U.LOW),
]

# Set B — written after the rules were reworked on set A, committed before the classifier was
# ever run on it, and never tuned on: the honest estimate of accuracy on new wording.
EVAL_B: Labelled = [
    # wages
    ("跑了一个季度的活，车队老板说资金周转不过来，让我们再等等", C.WAGES, U.HIGH),
    ("直播公司说好的保底没给，这两个月只发了五百块", C.WAGES, U.NORMAL),
    ("老闆欠我們兩個月工資不發", C.WAGES, U.HIGH),
    (
        "Our franchise boss cut the per-parcel fee without telling anyone and still owes us for "
        "March",
        C.WAGES,
        U.NORMAL,
    ),
    # social insurance
    ("入职时说缴五险，干了八个月查了一下一分没交", C.SOCIAL_INSURANCE, U.NORMAL),
    ("开网约车算不算灵活就业，能不能在这边交城乡居民养老", C.SOCIAL_INSURANCE, U.LOW),
    (
        "My employer never registered me for work-injury insurance, and now I've hurt my knee",
        C.SOCIAL_INSURANCE,
        U.CRITICAL,
    ),
    # rest and leave
    ("站里规定下雨天谁都不准请假，不然罚两百", C.REST_LEAVE, U.NORMAL),
    ("开车连续跑十六个小时，公司还催着装下一车", C.REST_LEAVE, U.HIGH),
    ("Nobody at our depot has had a weekend off in three months", C.REST_LEAVE, U.NORMAL),
    # equal employment
    ("主播公司招人看长相，说我太胖了不要", C.EQUAL_EMPLOYMENT, U.NORMAL),
    ("因为我是少数民族，车队说不方便安排", C.EQUAL_EMPLOYMENT, U.NORMAL),
    (
        "The hiring manager said they only take drivers under 40 with a local licence plate",
        C.EQUAL_EMPLOYMENT,
        U.NORMAL,
    ),
    # accommodation
    ("冬天宿舍没暖气，晚上冻得睡不着", C.ACCOMMODATION, U.NORMAL),
    ("停车场边上连个能住的旅馆都没有，只能睡驾驶座", C.ACCOMMODATION, U.NORMAL),
    (
        "The company dorm is being torn down next week and we have nowhere to go",
        C.ACCOMMODATION,
        U.HIGH,
    ),
    # insurance claims
    ("昨晚在停车区休息，两个轮胎被人卸走了，能不能走保险", C.INSURANCE_CLAIM, U.NORMAL),
    ("车上的冷链货被人打开偷了一半，报了警，保险说要派出所证明", C.INSURANCE_CLAIM, U.NORMAL),
    (
        "Thieves cut the tarp and took six boxes of electronics while I slept, who pays for this?",
        C.INSURANCE_CLAIM,
        U.NORMAL,
    ),
    # road access
    ("医院新规定外卖一律送到门口，骑手进一步都不行", C.ROAD_ACCESS, U.NORMAL),
    ("物业说快递车噪音大，早上九点前不让进园区", C.ROAD_ACCESS, U.NORMAL),
    (
        "The office park now requires a visitor pass for every delivery and the guard takes 20 "
        "minutes to issue it",
        C.ROAD_ACCESS,
        U.NORMAL,
    ),
    # sorting
    ("中转场的传送带太短，大件只能在地上拖着分", C.SORTING, U.NORMAL),
    ("站点没有遮雨棚，快件分拣全在露天，一下雨就泡水", C.SORTING, U.NORMAL),
    (
        "We get 3,000 parcels a day and only a 20-square-metre room to sort them in",
        C.SORTING,
        U.NORMAL,
    ),
    # schooling
    ("孩子户口在老家，在这边上幼儿园要交借读费吗", C.SCHOOLING, U.LOW),
    ("我们夫妻都跑外卖，暑假孩子没人看，有没有暑期班", C.SCHOOLING, U.LOW),
    (
        "My daughter was refused a place at the local middle school because I have no "
        "residence permit",
        C.SCHOOLING,
        U.NORMAL,
    ),
    # membership
    ("我的党组织关系在原单位，单位倒闭了，现在关系挂哪里", C.MEMBERSHIP, U.NORMAL),
    ("听说网约车司机可以成立联合党支部，我们几个党员想报名", C.MEMBERSHIP, U.LOW),
    (
        "I moved here from Shenzhen and my party organisation transfer letter got lost",
        C.MEMBERSHIP,
        U.NORMAL,
    ),
    # health
    ("长期憋尿得了肾结石，疼得开不了车", C.HEALTH, U.HIGH),
    ("跑夜班眼睛越来越模糊，想找个地方免费查查视力", C.HEALTH, U.LOW),
    ("外賣員在路口被撞倒，流了很多血", C.HEALTH, U.CRITICAL),
    (
        "My colleague collapsed from the heat at the loading dock and isn't responding",
        C.HEALTH,
        U.CRITICAL,
    ),
    # legal aid
    ("客户说货晚到要我赔违约金，合同上根本没写，我想请人帮我看看合同", C.LEGAL_AID, U.NORMAL),
    ("车队扣着我的驾驶证不还，说要赔完违约金才给，我想找人打官司", C.LEGAL_AID, U.NORMAL),
    (
        "I was dismissed on the spot without any notice, can a lawyer help me get compensation?",
        C.LEGAL_AID,
        U.NORMAL,
    ),
    # platform rules
    ("顾客没接电话我放在门口，平台判我虚假送达罚了一百", C.PLATFORM_RULES, U.NORMAL),
    ("这周接单量突然少了一大半，客服说是系统调整，问什么都不说", C.PLATFORM_RULES, U.NORMAL),
    ("直播平台突然改了打赏分成，主播只能拿三成", C.PLATFORM_RULES, U.NORMAL),
    (
        "The app lowered my acceptance score because I rejected two orders in a storm",
        C.PLATFORM_RULES,
        U.NORMAL,
    ),
    # safety hazards
    ("加油站旁边有人在烧垃圾，火苗挺大", C.SAFETY_HAZARD, U.CRITICAL),
    ("商场地下室一直有股煤气味，保安说没事", C.SAFETY_HAZARD, U.HIGH),
    (
        "Electric scooters are being charged in the stairwell of block 7 with extension cords "
        "running across the floor",
        C.SAFETY_HAZARD,
        U.HIGH,
    ),
    # public facilities
    ("天桥的台阶碎了一块，下雨天特别滑", C.PUBLIC_FACILITY, U.NORMAL),
    ("小区对面的公交站牌被车撞歪了", C.PUBLIC_FACILITY, U.NORMAL),
    (
        "The traffic signal at the Xinhua Road crossing has been stuck on red all morning",
        C.PUBLIC_FACILITY,
        U.NORMAL,
    ),
    # sanitation
    ("早市散了以后满地烂菜叶，苍蝇到处飞", C.SANITATION, U.NORMAL),
    ("公厕门口污水横流，味道冲得人进不去", C.SANITATION, U.NORMAL),
    (
        "Someone keeps dumping old mattresses and sofas next to the recycling station",
        C.SANITATION,
        U.NORMAL,
    ),
    # traffic order
    ("地铁口那排出租车天天并排停着拉客，电动车根本过不去", C.TRAFFIC_ORDER, U.NORMAL),
    ("小区门前的马路被摆摊的占了一半，车只能挤着走", C.TRAFFIC_ORDER, U.NORMAL),
    (
        "Trucks park along both sides of Gongye Road at night and riders keep nearly crashing",
        C.TRAFFIC_ORDER,
        U.NORMAL,
    ),
    # other
    ("驿站的微波炉能不能多放一台", C.OTHER, U.LOW),
    ("上次反映的问题解决了，给你们点个赞", C.OTHER, U.LOW),
    ("我想报名当兼职网格员，要什么条件", C.OTHER, U.LOW),
    ("How do I change the language of the mini-program to English?", C.OTHER, U.LOW),
]

# Set C — written for issue 16 before any change to the rules or the model, committed alone
# and never tuned on.  Colloquial Chinese with typos (社宝, 分捡, 中署, 公资), dialect
# (Cantonese, Sichuanese, north-eastern), traditional characters and English; weighted towards
# the urgencies that cost most when missed.  Labelled by issue 16's definitions:
# ``critical`` — a body or life at risk now: someone hurt, bleeding, unconscious, trapped or
# unable to get out, unable to breathe or with chest pain; or a danger under way: a gas smell,
# fire or smoke, sparking or live wires, a collapse or opening cracks, flooding around people;
# ``high`` — a deadline or time pressure (明天, 今晚, 下礼拜, 月底, a hearing, a payment
# due), nowhere to sleep tonight, unable to work or unwell now, many workers or months of
# arrears, a hazard likely to hurt someone soon; ``low`` — a question, suggestion or thanks
# that describes no loss or harm; ``normal`` — everything else.  A person hit, hurt or ill is
# ``health`` whatever led to it; fire, gas, wiring, collapse and people trapped by a hazard are
# ``safety_hazard``; other civic reports go by the thing reported.
EVAL_C: Labelled = [
    # wages
    ("老板说月底一定发，结果又拖到下个月，房租明天就到期了", C.WAGES, U.HIGH),
    ("干了仨月一分钱没见着，站长微信把我拉黑了", C.WAGES, U.HIGH),
    ("说好的一单两块五，结账的时候按一块八给的", C.WAGES, U.NORMAL),
    ("工資條上扣了個管理費三百，也沒人解釋", C.WAGES, U.NORMAL),
    ("俺们车队老板欠了十来个司机的运费，过年都回不了家", C.WAGES, U.HIGH),
    ("老板欠的公资到现在还没给，一拖再拖", C.WAGES, U.NORMAL),
    ("老细拖咗我哋两个月人工，打电话又唔听", C.WAGES, U.HIGH),
    (
        "The subcontractor paid us half of what was promised and says the rest comes later",
        C.WAGES,
        U.NORMAL,
    ),
    (
        "I quit two weeks ago and they're holding my last paycheck until I return the uniform",
        C.WAGES,
        U.NORMAL,
    ),
    (
        "The boss owes 11 of us about 80k yuan and the kids' school fees are due next week",
        C.WAGES,
        U.HIGH,
    ),
    # social insurance
    ("公司说给我们买了社保，一查缴费记录是空的", C.SOCIAL_INSURANCE, U.NORMAL),
    ("刚开始跑网约车，灵活就业的医保在哪儿交啊", C.SOCIAL_INSURANCE, U.LOW),
    ("我要回老家了，这边交的养老保险能不能转回去", C.SOCIAL_INSURANCE, U.LOW),
    ("社保断缴三个月了，下礼拜孩子办入学要社保证明，急死了", C.SOCIAL_INSURANCE, U.HIGH),
    ("公司没给交社宝，生病了只能全自费", C.SOCIAL_INSURANCE, U.NORMAL),
    ("公积金公司从来没给交过，人事说外包的没有", C.SOCIAL_INSURANCE, U.NORMAL),
    (
        "The platform says riders aren't covered by occupational injury insurance in this city, "
        "is that true?",
        C.SOCIAL_INSURANCE,
        U.LOW,
    ),
    (
        "They take 300 a month for social security but my record shows no contributions since May",
        C.SOCIAL_INSURANCE,
        U.NORMAL,
    ),
    # rest and leave
    ("连着跑了二十八天没歇，今天骑车的时候差点睡着了", C.REST_LEAVE, U.HIGH),
    ("老娘住院了想请三天假回去看看，站长说请假就别回来了", C.REST_LEAVE, U.NORMAL),
    ("春节不让回家，说谁走谁就没有年终奖", C.REST_LEAVE, U.NORMAL),
    ("每天在线十三四个钟，中午连口饭都没时间吃", C.REST_LEAVE, U.NORMAL),
    ("想咨询一下调休的事，国庆加了班后面能不能补休", C.REST_LEAVE, U.LOW),
    (
        "Our fleet makes us drive overnight and then load at 6am, no proper sleep for a week",
        C.REST_LEAVE,
        U.NORMAL,
    ),
    (
        "Can riders get paid sick days? I've got the flu right now and can't afford to stop",
        C.REST_LEAVE,
        U.HIGH,
    ),
    # equal employment
    ("面试的时候问我结婚没，说结了婚的女的不稳定，不要", C.EQUAL_EMPLOYMENT, U.NORMAL),
    ("我五十一了，平台说年龄超了要注销我的账号，明天就停", C.EQUAL_EMPLOYMENT, U.HIGH),
    ("就因为我是农村户口，劳务公司说只招城镇的", C.EQUAL_EMPLOYMENT, U.NORMAL),
    ("我左耳听力不好，车队不肯招我，说怕出事", C.EQUAL_EMPLOYMENT, U.NORMAL),
    ("招骑手的广告写着限男性35岁以下，这样合法吗", C.EQUAL_EMPLOYMENT, U.LOW),
    (
        "The station manager won't take on anyone who isn't from his home county",
        C.EQUAL_EMPLOYMENT,
        U.NORMAL,
    ),
    ("Are live-streaming agencies allowed to refuse women over 30?", C.EQUAL_EMPLOYMENT, U.LOW),
    # accommodation
    ("房东今天下午叫我们搬走，今晚不知道睡哪", C.ACCOMMODATION, U.HIGH),
    ("宿舍床位一个月要六百，还得八个人挤一间", C.ACCOMMODATION, U.NORMAL),
    ("跑长途的想问一下，这附近服务区有没有司机之家能洗澡过夜", C.ACCOMMODATION, U.LOW),
    ("出租屋漏水漏了一礼拜了，被子全湿了，房东不管", C.ACCOMMODATION, U.NORMAL),
    ("在驾驶室睡了三晚上了，脖子都僵了，附近有没有便宜点的住处", C.ACCOMMODATION, U.NORMAL),
    (
        "Our landlord is cutting off the electricity on Friday because the company hasn't paid "
        "the dorm rent",
        C.ACCOMMODATION,
        U.HIGH,
    ),
    (
        "Is there any subsidised rental housing for couriers in this district?",
        C.ACCOMMODATION,
        U.LOW,
    ),
    # insurance claims
    ("服务区停了一宿，早上起来油箱盖被撬了，油少了一大半", C.INSURANCE_CLAIM, U.NORMAL),
    ("车货无忧的理赔申请交了二十天了，一直显示审核中", C.INSURANCE_CLAIM, U.NORMAL),
    ("货拉到仓库一点数，少了五台电器，收货方说要我赔", C.INSURANCE_CLAIM, U.NORMAL),
    ("昨晚篷布叫人拿刀划了，偷走几箱酒，报案回执拿到了，接下来找谁赔", C.INSURANCE_CLAIM, U.NORMAL),
    ("电动车电池在驿站门口被偷了，保险能不能赔", C.INSURANCE_CLAIM, U.NORMAL),
    (
        "Somebody siphoned my tank dry at the truck stop and I can't reach tomorrow's delivery "
        "without fuel money",
        C.INSURANCE_CLAIM,
        U.HIGH,
    ),
    ("How long does a cargo insurance claim usually take to pay out?", C.INSURANCE_CLAIM, U.LOW),
    # road access
    ("那个新小区物业不让电动车进，还要押身份证才给登记", C.ROAD_ACCESS, U.NORMAL),
    ("大学宿舍区只让送到校门口，学生又不下来拿，超时全算我的", C.ROAD_ACCESS, U.NORMAL),
    ("城区早上七点到九点货车禁行，冷链车也不给通融", C.ROAD_ACCESS, U.NORMAL),
    ("写字楼电梯只让员工坐，送外卖的只能爬二十几层", C.ROAD_ACCESS, U.NORMAL),
    ("小区门卫不让进，说外卖一律放外卖柜，柜子又满了", C.ROAD_ACCESS, U.NORMAL),
    ("个保安唔俾我哋入屋苑送嘢，要我哋喺门口等人落嚟拎", C.ROAD_ACCESS, U.NORMAL),
    (
        "The hospital's new rule means we have to leave food at the main gate 500m from the wards",
        C.ROAD_ACCESS,
        U.NORMAL,
    ),
    ("Can couriers apply for an access card for the Lakeside compound?", C.ROAD_ACCESS, U.LOW),
    # sorting
    ("分拣场地租约下个月到期，新场地还没着落，几千件货到时候没地儿卸", C.SORTING, U.HIGH),
    ("中转站的分捡线又卡了，一上午都在干等件", C.SORTING, U.NORMAL),
    ("网点就一个小铺面，货到了只能摊在人行道上分", C.SORTING, U.NORMAL),
    ("双十一前能不能帮忙协调一个临时的分拣场地", C.SORTING, U.LOW),
    ("驛站太窄了，分件的時候只能在門口擺一地", C.SORTING, U.NORMAL),
    (
        "We sort parcels in a car park because the depot is too small, and it floods whenever "
        "it rains",
        C.SORTING,
        U.NORMAL,
    ),
    (
        "The conveyor at the transfer centre jams daily and our delivery window opens before it's "
        "fixed",
        C.SORTING,
        U.NORMAL,
    ),
    # schooling
    ("下礼拜就开学了，孩子的借读手续还没批下来", C.SCHOOLING, U.HIGH),
    ("娃跟着我们在这儿，想读公办学校，积分不够咋整", C.SCHOOLING, U.NORMAL),
    ("孩子放暑假了一个人在出租屋，附近有没有托管班", C.SCHOOLING, U.LOW),
    ("学校说外地孩子要交八千赞助费，我们交不起", C.SCHOOLING, U.NORMAL),
    ("孩子九月上一年级，学位申请月底截止，材料还差居住证", C.SCHOOLING, U.HIGH),
    (
        "My son has to sit the high school entrance exam back home, can he take it here instead?",
        C.SCHOOLING,
        U.LOW,
    ),
    (
        "The kindergarten turned my daughter away because my residence permit expired last month",
        C.SCHOOLING,
        U.NORMAL,
    ),
    # membership
    ("我是流动党员，出来跑车三年没参加过组织生活，想找个支部", C.MEMBERSHIP, U.LOW),
    ("党组织关系介绍信寄丢了，老单位说要重新开", C.MEMBERSHIP, U.NORMAL),
    ("想问问骑手能不能入工会，入了有啥用", C.MEMBERSHIP, U.LOW),
    ("党费这半年都没地方交，会不会被当成自动脱党", C.MEMBERSHIP, U.NORMAL),
    ("支部换了书记以后就没人通知我们开会了", C.MEMBERSHIP, U.NORMAL),
    ("I joined the trade union last year but never got my membership card", C.MEMBERSHIP, U.NORMAL),
    (
        "Which party branch should a ride-hailing driver report to after moving cities?",
        C.MEMBERSHIP,
        U.LOW,
    ),
    # health
    ("送餐送到一半胸口闷得慌，手都麻了，现在蹲在路边", C.HEALTH, U.CRITICAL),
    ("同事在仓库搬货的时候突然倒地不动了，叫也叫不醒", C.HEALTH, U.CRITICAL),
    ("热得不行，刚才差点晕过去，现在头还很晕", C.HEALTH, U.HIGH),
    ("骑手被电动车撞了，小腿划了好大口子，血止不住", C.HEALTH, U.CRITICAL),
    ("有个哥们喘不上气，嘴唇都发紫了，120还没到", C.HEALTH, U.CRITICAL),
    ("头好晕，感觉要中署了，附近哪有阴凉地方歇会", C.HEALTH, U.HIGH),
    ("腰间盘突出好几年了，有没有针对骑手的免费理疗", C.HEALTH, U.NORMAL),
    ("路口两辆车撞了，有个骑手压在车底下", C.HEALTH, U.CRITICAL),
    ("分拣场的传送带把一个小哥的手卷进去了", C.HEALTH, U.CRITICAL),
    ("连续开了三十六个小时的车，刚才在高速上眼前一黑，现在胸口疼", C.HEALTH, U.CRITICAL),
    (
        "My chest hurts and I can't catch my breath after climbing 20 floors with a delivery",
        C.HEALTH,
        U.CRITICAL,
    ),
    (
        "A courier fell from the third-floor walkway at the depot and isn't moving",
        C.HEALTH,
        U.CRITICAL,
    ),
    (
        "Our station has no first-aid kit and riders keep getting cuts from box straps",
        C.HEALTH,
        U.NORMAL,
    ),
    # legal aid
    ("劳动仲裁下周三开庭，证据都不知道怎么整理，想找个律师", C.LEGAL_AID, U.HIGH),
    ("车队扣了我的身份证和驾驶证，说干满一年才还，我想告他们", C.LEGAL_AID, U.NORMAL),
    ("出了交通事故，对方律师说要我赔二十万，我该咋办", C.LEGAL_AID, U.HIGH),
    ("被开除了还倒扣我三千块违约金，想申请法律援助", C.LEGAL_AID, U.NORMAL),
    ("想咨询一下，外包骑手跟平台算不算劳动关系", C.LEGAL_AID, U.LOW),
    (
        "Where can riders get free legal advice about a contract dispute with an agency?",
        C.LEGAL_AID,
        U.LOW,
    ),
    (
        "The fleet is suing me for breaking my contract and the court date is tomorrow",
        C.LEGAL_AID,
        U.HIGH,
    ),
    # platform rules
    ("系统说我绕路，扣了我一周的奖励，我明明是按导航走的", C.PLATFORM_RULES, U.NORMAL),
    ("账号莫名其妙被封，明天还要交房租，一天不跑就没饭吃", C.PLATFORM_RULES, U.HIGH),
    ("顾客恶意差评，平台的申诉通道点不开", C.PLATFORM_RULES, U.NORMAL),
    ("下雨天配送时间也不给延长，超时一单罚五块", C.PLATFORM_RULES, U.NORMAL),
    ("平台抽佣从百分之二十涨到了三十，跑一天等于白干", C.PLATFORM_RULES, U.NORMAL),
    ("请问平台的服务分是怎么算的，有没有规则说明", C.PLATFORM_RULES, U.LOW),
    (
        "The app suddenly changed the bonus rules mid-week and nobody told us",
        C.PLATFORM_RULES,
        U.NORMAL,
    ),
    (
        "My driver account was frozen for unusual activity and my car loan payment is due on "
        "Monday",
        C.PLATFORM_RULES,
        U.HIGH,
    ),
    # safety hazards
    ("楼道里一股很浓的煤气味，敲门没人应", C.SAFETY_HAZARD, U.CRITICAL),
    ("充电桩那边电线在冒火星子，噼里啪啦的", C.SAFETY_HAZARD, U.CRITICAL),
    ("地下车库有辆电瓶车烧起来了，烟很大", C.SAFETY_HAZARD, U.CRITICAL),
    ("工地的塔吊好像在晃，下面还有人在干活", C.SAFETY_HAZARD, U.CRITICAL),
    ("老楼外墙裂了好大一条缝，还在往下掉渣，底下就是小区出入口", C.SAFETY_HAZARD, U.CRITICAL),
    ("下暴雨，桥洞底下积水快没过车顶了，有个司机被困在车里出不来", C.SAFETY_HAZARD, U.CRITICAL),
    ("宿舍楼里烟很大，好像哪层着火了，楼梯口全是人", C.SAFETY_HAZARD, U.CRITICAL),
    ("出租屋的天花板塌下来一块，砸到了室友的头", C.SAFETY_HAZARD, U.CRITICAL),
    ("燃气管道被挖断了，一股臭鸡蛋味", C.SAFETY_HAZARD, U.CRITICAL),
    ("电动车电池鼓包了还在冒烟，就放在驿站里面", C.SAFETY_HAZARD, U.CRITICAL),
    ("饭店后厨气味不对劲，像是漏气了，服务员还在点火", C.SAFETY_HAZARD, U.CRITICAL),
    ("被困在电梯里半个钟头了，里面好闷，快喘不过气", C.SAFETY_HAZARD, U.CRITICAL),
    ("屋头煤气罐漏气咯，味道冲得很", C.SAFETY_HAZARD, U.CRITICAL),
    ("条街有电线跌咗落地，仲喺度闪火花", C.SAFETY_HAZARD, U.CRITICAL),
    ("哎呀妈呀，那楼道里整得全是烟，老吓人了", C.SAFETY_HAZARD, U.CRITICAL),
    ("仓库屋顶那根梁裂开了，今天下大雪怕压塌", C.SAFETY_HAZARD, U.CRITICAL),
    ("小区里好多人把电动车推进楼道充电，消防通道都堵了", C.SAFETY_HAZARD, U.HIGH),
    ("饭店后门的液化气罐就放在太阳底下暴晒", C.SAFETY_HAZARD, U.HIGH),
    (
        "Strong smell of gas on the 3rd floor of the food court and the kitchens are still cooking",
        C.SAFETY_HAZARD,
        U.CRITICAL,
    ),
    (
        "Sparks flying from a fallen power line across the road on Heping Street",
        C.SAFETY_HAZARD,
        U.CRITICAL,
    ),
    (
        "A rider is stuck in the lift at the Huamao building, 40 minutes now and he's panicking",
        C.SAFETY_HAZARD,
        U.CRITICAL,
    ),
    ("There's smoke pouring out of the basement of the night market", C.SAFETY_HAZARD, U.CRITICAL),
    (
        "Fire in the e-bike charging cabinet outside the station, flames are reaching the shop",
        C.SAFETY_HAZARD,
        U.CRITICAL,
    ),
    (
        "The ceiling of the underground car park is cracking and bits of concrete keep falling",
        C.SAFETY_HAZARD,
        U.CRITICAL,
    ),
    (
        "Water is pouring into the underpass and a car with a family inside has stalled",
        C.SAFETY_HAZARD,
        U.CRITICAL,
    ),
    # public facilities
    ("隧道里的灯全灭了，黑乎乎的，车都看不清", C.PUBLIC_FACILITY, U.HIGH),
    ("下水道井盖被人偷了，就在学校门口，小孩多", C.PUBLIC_FACILITY, U.HIGH),
    ("公交站的座椅坏了好久，一直没人修", C.PUBLIC_FACILITY, U.NORMAL),
    ("马路中间自来水管爆了，水哗哗往外冒，路面已经开始塌了", C.PUBLIC_FACILITY, U.CRITICAL),
    ("红绿灯一直闪黄灯，好几天了", C.PUBLIC_FACILITY, U.NORMAL),
    (
        "The pedestrian bridge railing is broken and hanging over the road",
        C.PUBLIC_FACILITY,
        U.HIGH,
    ),
    ("Streetlights along the riverside path have been off for a week", C.PUBLIC_FACILITY, U.NORMAL),
    ("Could the city add more public toilets near the delivery hub?", C.PUBLIC_FACILITY, U.LOW),
    # sanitation
    ("小区垃圾站好几天没清运，味道飘到楼上", C.SANITATION, U.NORMAL),
    ("饭馆天天把地沟油倒进雨水井", C.SANITATION, U.NORMAL),
    ("夜市烧烤摊收摊后竹签油污满地，也没人扫", C.SANITATION, U.NORMAL),
    ("公共厕所的化粪池满了往外冒", C.SANITATION, U.NORMAL),
    ("垃圾桶旁边老鼠成群，大白天都敢出来", C.SANITATION, U.NORMAL),
    (
        "Someone dumped a load of rubble and paint tins on the verge by the depot",
        C.SANITATION,
        U.NORMAL,
    ),
    (
        "Suggest putting a couple of bins at the rider rest stop, people just leave their food "
        "boxes around",
        C.SANITATION,
        U.LOW,
    ),
    # traffic order
    ("学校门口家长的车停成三排，电动车只能逆着走", C.TRAFFIC_ORDER, U.NORMAL),
    ("这个路口天天有渣土车闯红灯，昨天差点撞到骑手", C.TRAFFIC_ORDER, U.HIGH),
    ("商场门口网约车接客点被私家车占满了", C.TRAFFIC_ORDER, U.NORMAL),
    ("高速出口那段路大货车天天排长队占道，已经追尾好几回了", C.TRAFFIC_ORDER, U.HIGH),
    ("建议在外卖员取餐的地方划几个临时停车位", C.TRAFFIC_ORDER, U.LOW),
    (
        "Delivery scooters are parked all over the pavement outside the metro station, "
        "wheelchair users can't get past",
        C.TRAFFIC_ORDER,
        U.NORMAL,
    ),
    ("Cars keep parking in the bus lane at rush hour on Jianshe Road", C.TRAFFIC_ORDER, U.NORMAL),
    # other
    ("小程序咋改头像啊", C.OTHER, U.LOW),
    ("感谢党员司机老王那天帮我推车", C.OTHER, U.LOW),
    ("驿站周末开不开门", C.OTHER, U.LOW),
    ("能不能在驿站放个自动售货机", C.OTHER, U.LOW),
    ("我想当志愿者参加你们的活动，在哪报名", C.OTHER, U.LOW),
    ("Great job on the new rest area, the hot water is much appreciated", C.OTHER, U.LOW),
    ("How do I reset my password for the grievance app?", C.OTHER, U.LOW),
]


def _read_set(name: str) -> Labelled:
    """Return a frozen set kept as ``category<TAB>urgency<TAB>text`` lines (``#`` comments)."""
    path = Path(__file__).with_name(name)
    rows: Labelled = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            category, urgency, text = line.split("\t", 2)
            rows.append((text, Category(category), Urgency(urgency)))
    return rows


# Set D — frozen on 2026-12-02 before that day's tuning, written without reading the rules,
# the model, the corpus or sets A–C (see its header); never tuned on.
EVAL_D: Labelled = _read_set("classify_set_d.tsv")
