"""Who and what the demo is about: our company, its suppliers and customers, their people, the
items they trade and the carriers that move them. Plain data; nothing here touches storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from zoneinfo import ZoneInfo

DEMO_PASSWORD = "demo-portal-2026"
"""One password for every demo user: printed by `portal demo`, so it protects nothing."""


@dataclass(frozen=True, slots=True)
class Desk:
    """Where and when a party works: its time zone, working hours and days off (0 = Monday).
    Demo events happen while someone is at their desk, so timelines read like real ones."""

    time_zone: str
    days_off: frozenset[int] = frozenset({6})
    opens: time = time(8, 30)
    closes: time = time(18, 0)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


SHANGHAI = Desk("Asia/Shanghai")
BERLIN = Desk("Europe/Berlin", frozenset({5, 6}), time(7, 30), time(16, 30))
CHICAGO = Desk("America/Chicago", frozenset({5, 6}))


@dataclass(frozen=True, slots=True)
class Org:
    code: str
    name: str
    kind: str
    desk: Desk
    currency: str
    phone: str = ""


INTERNAL = Org(
    "HENGDA",
    "苏州恒达智能装备有限公司 / Suzhou Hengda Intelligent Equipment Co., Ltd.",
    "internal",
    SHANGHAI,
    "CNY",
)
HDJM = Org(
    "HDJM",
    "华东精密五金有限公司 / East China Precision Hardware Co., Ltd.",
    "supplier",
    SHANGHAI,
    "CNY",
)
XINDA = Org(
    "XINDA",
    "深圳鑫达电路科技有限公司 / Shenzhen Xinda Circuit Technology Co., Ltd.",
    "supplier",
    SHANGHAI,
    "CNY",
)
KRAFT = Org(
    "KRAFT",
    "Kraftwerk Antriebstechnik GmbH / 克拉夫特驱动技术有限公司",
    "supplier",
    BERLIN,
    "EUR",
)
YUNFAN = Org(
    "YUNFAN",
    "杭州云帆自动化设备有限公司 / Hangzhou Yunfan Automation Equipment Co., Ltd.",
    "customer",
    SHANGHAI,
    "CNY",
    "+86 571 8690 2231",
)
YUEHAI = Org(
    "YUEHAI",
    "广州粤海机电贸易有限公司 / Guangzhou Yuehai Electromechanical Trading Co., Ltd.",
    "customer",
    SHANGHAI,
    "CNY",
    "+86 20 3862 7105",
)
NORTHWIND = Org(
    "NORTHWIND",
    "Northwind Robotics Inc. / 北风机器人公司",
    "customer",
    CHICAGO,
    "USD",
    "+1 512 555 0148",
)

ORGANISATIONS: tuple[Org, ...] = (INTERNAL, HDJM, XINDA, KRAFT, YUNFAN, YUEHAI, NORTHWIND)
ORGS_BY_CODE = {org.code: org for org in ORGANISATIONS}


@dataclass(frozen=True, slots=True)
class Person:
    email: str
    display_name: str
    org: str
    role: str
    locale: str
    time_zone: str

    @property
    def writes_chinese(self) -> bool:
        return self.locale == "zh_CN"


# Roles: internal staff are buyer, sales, warehouse or admin; the people of a supplier or a
# customer act for their organisation, so their role says which side they are on.
BUYER = Person("wang.lei@hengda.example.com", "王磊", "HENGDA", "buyer", "zh_CN", "Asia/Shanghai")
BUYER_EN = Person("li.na@hengda.example.com", "Li Na", "HENGDA", "buyer", "en", "Asia/Shanghai")
SALES = Person("chen.jing@hengda.example.com", "陈静", "HENGDA", "sales", "zh_CN", "Asia/Shanghai")
WAREHOUSE = Person(
    "liu.qiang@hengda.example.com", "刘强", "HENGDA", "warehouse", "zh_CN", "Asia/Shanghai"
)
ADMIN = Person("admin@hengda.example.com", "赵敏", "HENGDA", "admin", "zh_CN", "Asia/Shanghai")

SUPPLIER_PEOPLE = {
    "HDJM": Person(
        "zhang.wei@hdjm.example.com", "张伟", "HDJM", "supplier", "zh_CN", "Asia/Shanghai"
    ),
    "XINDA": Person(
        "liang.hui@xinda.example.com", "梁慧", "XINDA", "supplier", "zh_CN", "Asia/Shanghai"
    ),
    "KRAFT": Person(
        "markus.becker@kraftwerk.example.com",
        "Markus Becker",
        "KRAFT",
        "supplier",
        "en",
        "Europe/Berlin",
    ),
}
CUSTOMER_PEOPLE = {
    "YUNFAN": Person(
        "sun.yu@yunfan.example.com", "孙宇", "YUNFAN", "customer", "zh_CN", "Asia/Shanghai"
    ),
    "YUEHAI": Person(
        "huang.li@yuehai.example.com", "黄丽", "YUEHAI", "customer", "zh_CN", "Asia/Shanghai"
    ),
    "NORTHWIND": Person(
        "emily.carter@northwind.example.com",
        "Emily Carter",
        "NORTHWIND",
        "customer",
        "en",
        "America/Chicago",
    ),
}

PEOPLE: tuple[Person, ...] = (
    BUYER,
    BUYER_EN,
    SALES,
    WAREHOUSE,
    ADMIN,
    *SUPPLIER_PEOPLE.values(),
    *CUSTOMER_PEOPLE.values(),
)


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    description: str
    unit: str
    price: Decimal
    """In the currency of whoever sells it: the supplier's, or ours (CNY) for our products."""
    lot: tuple[int, int, int]
    """Smallest and largest usual order quantity, and the step quantities come in."""
    lead_days: tuple[int, int]
    substitute: str = ""
    """The item code a supplier offers instead, when it proposes an item substitution."""


ITEMS: dict[str, tuple[Item, ...]] = {
    "HDJM": (
        Item(
            "BLT-M8X30-88",
            "六角螺栓 M8x30 8.8级 镀锌 / Hex bolt M8x30 grade 8.8, zinc plated",
            "pcs",
            Decimal("0.35"),
            (5000, 40000, 1000),
            (10, 16),
            "BLT-M8X30-88-DAC",
        ),
        Item(
            "BLT-M12X60-109",
            "六角螺栓 M12x60 10.9级 / Hex bolt M12x60 grade 10.9",
            "pcs",
            Decimal("1.28"),
            (2000, 12000, 500),
            (12, 18),
        ),
        Item(
            "NUT-M8-8",
            "六角螺母 M8 8级 / Hex nut M8 grade 8",
            "pcs",
            Decimal("0.08"),
            (10000, 50000, 5000),
            (8, 14),
        ),
        Item(
            "SCR-ST4.2X13",
            "十字盘头自攻螺钉 ST4.2x13 / Pan head tapping screw ST4.2x13",
            "kg",
            Decimal("28.50"),
            (50, 400, 25),
            (8, 14),
        ),
        Item(
            "BRK-AL-90",
            "铝合金角码 90° 40系列 / Aluminium angle bracket 90°, 40 series",
            "pcs",
            Decimal("4.60"),
            (500, 4000, 100),
            (12, 18),
        ),
        Item(
            "SHF-45-20X300",
            "45#钢光轴 Φ20x300 调质 / Steel shaft C45 Ø20x300, hardened",
            "pcs",
            Decimal("38.00"),
            (100, 800, 50),
            (14, 20),
        ),
    ),
    "XINDA": (
        Item(
            "PCB-MB-4L-V3",
            "主控板 PCB 4层 FR-4 1.6mm / Main control board PCB, 4 layers, FR-4 1.6 mm",
            "pcs",
            Decimal("42.00"),
            (300, 2000, 100),
            (12, 18),
        ),
        Item(
            "PCBA-DRV-V2",
            "电机驱动板 PCBA V2 / Motor driver board PCBA V2",
            "pcs",
            Decimal("186.00"),
            (200, 1200, 50),
            (14, 20),
            "PCBA-DRV-V2A",
        ),
        Item(
            "CON-JST-XH-4P",
            "JST XH 2.54mm 4芯连接器 / JST XH 2.54 mm connector, 4 pins",
            "pcs",
            Decimal("0.45"),
            (5000, 30000, 1000),
            (10, 14),
        ),
        Item(
            "PCB-LED-AL-2L",
            "LED铝基板 双层 / LED aluminium board, 2 layers",
            "pcs",
            Decimal("8.20"),
            (1000, 6000, 500),
            (10, 16),
        ),
        Item(
            "HRN-SENS-1M",
            "传感器线束 1米 / Sensor wire harness, 1 m",
            "pcs",
            Decimal("12.50"),
            (500, 3000, 100),
            (10, 15),
        ),
    ),
    "KRAFT": (
        Item(
            "MOT-BLDC-400W",
            "Brushless DC servo motor 400 W 48 V / 无刷直流伺服电机 400W",
            "pcs",
            Decimal("268.00"),
            (20, 120, 10),
            (18, 24),
            "MOT-BLDC-400W-G2",
        ),
        Item(
            "MOT-STP-NEMA23",
            "Stepper motor NEMA 23, 2.8 A / 步进电机 NEMA 23",
            "pcs",
            Decimal("46.50"),
            (50, 300, 25),
            (16, 22),
        ),
        Item(
            "GBX-PL60-10",
            "Planetary gearbox PL60, i=10 / 行星减速机 PL60 速比10",
            "pcs",
            Decimal("189.00"),
            (20, 100, 10),
            (18, 24),
        ),
        Item(
            "BRG-6205-2RS",
            "Deep groove ball bearing 6205-2RS / 深沟球轴承 6205-2RS",
            "pcs",
            Decimal("4.85"),
            (500, 3000, 100),
            (14, 20),
            "BRG-6205-2RS-C3",
        ),
        Item(
            "BRG-7206-B",
            "Angular contact ball bearing 7206 B / 角接触球轴承 7206 B",
            "pcs",
            Decimal("23.40"),
            (100, 600, 50),
            (16, 22),
        ),
    ),
}

ITEMS_BY_CODE = {item.code: item for items in ITEMS.values() for item in items}

OUR_PRODUCTS: tuple[Item, ...] = (
    Item(
        "HD-AGV-C200",
        "AGV 控制器 C200 / AGV controller C200",
        "set",
        Decimal("3800"),
        (2, 20, 1),
        (5, 12),
    ),
    Item(
        "HD-CNV-1200",
        "皮带输送模组 1200mm / Belt conveyor module 1200 mm",
        "set",
        Decimal("12600"),
        (1, 6, 1),
        (8, 16),
    ),
    Item(
        "HD-JIG-0420",
        "功能测试治具 / Functional test fixture",
        "set",
        Decimal("5200"),
        (1, 4, 1),
        (8, 14),
    ),
    Item(
        "HD-SPK-01",
        "备件包 (轴承、皮带、传感器) / Spare parts kit (bearings, belts, sensors)",
        "kit",
        Decimal("860"),
        (5, 40, 5),
        (3, 7),
    ),
    Item(
        "HD-SRV-INST",
        "现场安装调试 / On-site installation and commissioning",
        "day",
        Decimal("2400"),
        (2, 10, 1),
        (5, 12),
    ),
)

CNY_PER = {"CNY": Decimal(1), "USD": Decimal("7.20"), "EUR": Decimal("7.80")}
"""Fixed demo exchange rates, to price what we resell in the customer's currency."""


@dataclass(frozen=True, slots=True)
class Carrier:
    name: str
    prefix: str
    digits: int
    transit_days: tuple[int, int]


SF_EXPRESS = Carrier("顺丰速运 SF Express", "SF", 12, (1, 2))
DEPPON = Carrier("德邦快递 Deppon", "DPK", 12, (2, 4))
JD_LOGISTICS = Carrier("京东物流 JD Logistics", "JDVA", 11, (1, 3))
ZTO = Carrier("中通快递 ZTO Express", "7", 13, (2, 4))
DHL = Carrier("DHL Express", "", 10, (4, 6))
FEDEX = Carrier("FedEx International Priority", "", 12, (4, 7))
UPS = Carrier("UPS Worldwide Express", "1Z", 16, (4, 6))

SUPPLIER_CARRIERS: dict[str, tuple[Carrier, ...]] = {
    "HDJM": (DEPPON, DEPPON, SF_EXPRESS),
    "XINDA": (SF_EXPRESS, SF_EXPRESS, JD_LOGISTICS),
    "KRAFT": (DHL,),
}
"""Each supplier's usual carriers (listed twice: used twice as often); heavy hardware goes by
freight, boards by express, and Kraftwerk ships with its contracted air courier."""
DOMESTIC_CARRIERS: tuple[Carrier, ...] = (SF_EXPRESS, DEPPON, JD_LOGISTICS, ZTO)
INTERNATIONAL_CARRIERS: tuple[Carrier, ...] = (DHL, FEDEX, UPS)
"""How we ship to customers in China, and abroad."""
