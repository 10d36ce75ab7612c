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
