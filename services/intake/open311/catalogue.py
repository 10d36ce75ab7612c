"""The GeoReport services: our categories, their plain descriptions and their definitions.

Pure data and lookups, no I/O.  Every category is a service; every service has a
definition (``GET services/{code}``), most with no attributes.  Where a report is about a
place, the definition asks "where exactly" (the building, the gate, the corner a photo
cannot show); where a photo helps, it takes one more photo URL beside ``media_url``.
"""

from __future__ import annotations

from typing import Any

from shared.events import CIVIC_CATEGORIES, Category

SERVICE_NAMES: dict[Category, str] = {
    Category.WAGES: "欠薪 Wage arrears",
    Category.SOCIAL_INSURANCE: "社保 Social insurance",
    Category.REST_LEAVE: "休息休假 Rest and leave",
    Category.EQUAL_EMPLOYMENT: "平等就业 Equal employment",
    Category.ACCOMMODATION: "住宿 Accommodation",
    Category.INSURANCE_CLAIM: "货损油损理赔 Insurance claims",
    Category.ROAD_ACCESS: "通行难 Road and compound access",
    Category.SORTING: "分拣难 Sorting space",
    Category.SCHOOLING: "子女入学 Children's schooling",
    Category.MEMBERSHIP: "关系迁转 Membership transfer",
    Category.HEALTH: "健康诊疗 Health",
    Category.LEGAL_AID: "法律援助 Legal aid",
    Category.PLATFORM_RULES: "平台规则 Platform rules",
    Category.SAFETY_HAZARD: "安全隐患 Safety hazard",
    Category.PUBLIC_FACILITY: "公共设施损坏 Damaged public facility",
    Category.SANITATION: "环境卫生 Sanitation",
    Category.TRAFFIC_ORDER: "乱停乱放 Traffic order",
    Category.OTHER: "其他 Other",
}
# What each service is for, in the words a reporter would use (zh-CN, then English).
SERVICE_DESCRIPTIONS: dict[Category, str] = {
    Category.WAGES: "工资、运费被拖欠或克扣 Pay or delivery fees withheld, late or cut",
    Category.SOCIAL_INSURANCE: "没有参保或断缴社保 No or interrupted social insurance",
    Category.REST_LEAVE: "没有休息日、不能请假 No rest days, leave refused",
    Category.EQUAL_EMPLOYMENT: "因性别、年龄、户籍受到歧视 Treated unfairly for sex, age or origin",
    Category.ACCOMMODATION: "住宿条件差或没有住处 Poor or no accommodation",
    Category.INSURANCE_CLAIM: "货物损坏、油损后理赔不公 Unfair claims for damaged goods or fuel",
    Category.ROAD_ACCESS: "小区、园区、道路不让进 Barred from a compound, campus or road",
    Category.SORTING: "没有分拣场地 No space to sort parcels",
    Category.SCHOOLING: "孩子上学遇到困难 Trouble getting children into school",
    Category.MEMBERSHIP: "工会关系转入转出 Moving a union membership",
    Category.HEALTH: "看病、体检、职业伤害 Medical care, check-ups, injuries at work",
    Category.LEGAL_AID: "需要律师或法律咨询 Need a lawyer or legal advice",
    Category.PLATFORM_RULES: "平台规则、罚款、封号不合理 Unfair platform rules, fines or bans",
    Category.SAFETY_HAZARD: "路上、楼里的安全隐患 Something dangerous on a road or in a building",
    Category.PUBLIC_FACILITY: "路灯、水管、井盖等损坏 Broken street light, pipe, manhole cover…",
    Category.SANITATION: "垃圾堆积、污水 Rubbish piling up, sewage",
    Category.TRAFFIC_ORDER: "车辆乱停乱放、占道 Vehicles parked on walkways or blocking roads",
    Category.OTHER: "以上都不是 None of the above",
}
CODES = frozenset(c.value for c in Category)
# Services about a place: a dashboard needs to know where exactly to send someone.
_PLACES = frozenset({*CIVIC_CATEGORIES, Category.ROAD_ACCESS, Category.SORTING})
# Services where a second photo helps (the damage, the parcel, the blocked gate).
_PHOTOS = frozenset({*CIVIC_CATEGORIES, Category.INSURANCE_CLAIM, Category.ROAD_ACCESS})

WHERE_EXACTLY = "where_exactly"
PHOTO_URL = "photo_url"
ATTRIBUTES: dict[str, dict[str, Any]] = {
    WHERE_EXACTLY: {
        "variable": True,
        "code": WHERE_EXACTLY,
        "datatype": "string",
        "required": False,
        "datatype_description": "一句话，例如“3号楼东门”或“解放路与平凉路路口” "
        "One line, e.g. 'east gate of building 3' or 'corner of Jiefang Rd and Pingliang Rd'",
        "order": 1,
        "description": "具体在哪里？ Where exactly?",
        "values": [],
    },
    PHOTO_URL: {
        "variable": True,
        "code": PHOTO_URL,
        "datatype": "string",
        "required": False,
        "datatype_description": "照片的网址（http/https） The photo's web address (http/https)",
        "order": 2,
        "description": "再加一张照片 One more photo",
        "values": [],
    },
}


def service_name(code: str) -> str:
    """Return the service's display name (the code itself when it is not one of ours)."""
    return SERVICE_NAMES[Category(code)] if code in CODES else code or "report"


def attribute_codes(category: Category) -> tuple[str, ...]:
    """Return the codes of the attributes a service's definition declares, in order."""
    codes = []
    if category in _PLACES:
        codes.append(WHERE_EXACTLY)
    if category in _PHOTOS:
        codes.append(PHOTO_URL)
    return tuple(codes)


def service_list() -> list[dict[str, Any]]:
    """Return every service as GeoReport lists them, civic ones first."""
    ordered = sorted(Category, key=lambda c: c not in CIVIC_CATEGORIES)
    return [
        {
            "service_code": c.value,
            "service_name": SERVICE_NAMES[c],
            "description": SERVICE_DESCRIPTIONS[c],
            "metadata": bool(attribute_codes(c)),
            "type": "realtime",
            "keywords": c.value.replace("_", ","),
            "group": "civic" if c in CIVIC_CATEGORIES else "worker",
        }
        for c in ordered
    ]


def service_definition(category: Category) -> dict[str, Any]:
    """Return a service's definition: its code and the attributes a report may carry."""
    return {
        "service_code": category.value,
        "attributes": [ATTRIBUTES[code] for code in attribute_codes(category)],
    }
