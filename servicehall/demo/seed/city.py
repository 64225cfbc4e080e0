"""The demo city: Xicheng District, Beijing (北京市西城区), as static reference data.

Zones are a 4 × 4 grid of district metered areas over the district's real extent, named
after its subdistricts (街道). Halls, depots and streets are at plausible real places.
"""

from __future__ import annotations

from dataclasses import dataclass

# Xicheng spans roughly 116.32–116.40 E, 39.865–39.945 N.
WEST, EAST, SOUTH, NORTH = 116.320, 116.400, 39.865, 39.945
GRID = 4

# North-west to south-east, row by row.
SUBDISTRICTS: tuple[tuple[str, str], ...] = (
    ("展览路", "Zhanlanlu"),
    ("新街口", "Xinjiekou"),
    ("德胜", "Desheng"),
    ("什刹海", "Shichahai"),
    ("月坛", "Yuetan"),
    ("金融街", "Jinrongjie"),
    ("西长安街", "Xichang'anjie"),
    ("椿树", "Chunshu"),
    ("广安门外", "Guang'anmenwai"),
    ("广安门内", "Guang'anmennei"),
    ("菜市口", "Caishikou"),
    ("大栅栏", "Dashilan"),
    ("白纸坊", "Baizhifang"),
    ("牛街", "Niujie"),
    ("陶然亭", "Taoranting"),
    ("天桥", "Tianqiao"),
)

STREETS: tuple[tuple[str, str], ...] = (
    ("西四北大街", "Xisi North Street"),
    ("阜成门内大街", "Fuchengmennei Street"),
    ("赵登禹路", "Zhaodengyu Road"),
    ("平安里西大街", "Ping'anli West Street"),
    ("西直门内大街", "Xizhimennei Street"),
    ("月坛南街", "Yuetan South Street"),
    ("三里河路", "Sanlihe Road"),
    ("金融大街", "Jinrong Street"),
    ("宣武门外大街", "Xuanwumenwai Street"),
    ("广安门内大街", "Guang'anmennei Street"),
    ("牛街", "Niujie Street"),
    ("南礼士路", "Nanlishi Road"),
    ("新街口外大街", "Xinjiekouwai Street"),
    ("德胜门外大街", "Deshengmenwai Street"),
    ("白纸坊西街", "Baizhifang West Street"),
    ("陶然亭路", "Taoranting Road"),
    ("鼓楼西大街", "Gulou West Street"),
    ("西单北大街", "Xidan North Street"),
    ("菜市口大街", "Caishikou Street"),
    ("前门西大街", "Qianmen West Street"),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰志红文利辉鹏海波宁欣怡晨浩宇子涵"
)

MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "158",
    "186",
    "188",
    "189",
)
CARD_BINS = ("622202", "621700", "622848", "621661", "623668")  # debit BINs of large Chinese banks


@dataclass(frozen=True)
class HallSpec:
    code: str
    name_zh: str
    name_en: str
    lon: float
    lat: float
    address_zh: str
    address_en: str
    counters: tuple[tuple[str, ...], ...]  # per counter: the category codes it serves


@dataclass(frozen=True)
class CategorySpec:
    code: str
    prefix: str
    name_zh: str
    name_en: str
    is_priority: bool
    mean_service_seconds: int
    target_wait_minutes: int


CATEGORIES = (
    CategorySpec("payment", "A", "缴费", "Bill payment", False, 180, 10),
    CategorySpec("new_connection", "B", "报装", "New connection", False, 900, 20),
    CategorySpec("repair_complaint", "C", "报修 / 投诉", "Repairs & complaints", False, 480, 15),
    CategorySpec("enquiry", "D", "咨询", "Enquiries", False, 240, 15),
    CategorySpec("vip", "V", "贵宾 / 优先", "VIP & priority", True, 360, 5),
)

HALLS = (
    HallSpec(
        "hall-xicheng",
        "西城营业厅",
        "Xicheng Service Hall",
        116.3652,
        39.9142,
        "北京市西城区阜成门内大街 108 号",
        "108 Fuchengmennei Street, Xicheng District, Beijing",
        counters=(
            ("payment", "enquiry"),
            ("payment", "enquiry"),
            ("payment", "new_connection"),
            ("repair_complaint",),
            ("repair_complaint", "enquiry"),
            ("vip", "payment"),
            # Not staffed by the demo's simulated day: the counter for a person to try.
            ("payment", "enquiry", "repair_complaint"),
        ),
    ),
    HallSpec(
        "hall-guanganmen",
        "广安门营业厅",
        "Guang'anmen Service Hall",
        116.3571,
        39.8893,
        "北京市西城区广安门内大街 311 号",
        "311 Guang'anmennei Street, Xicheng District, Beijing",
        counters=(
            ("payment", "enquiry"),
            ("payment", "new_connection"),
            ("repair_complaint", "enquiry"),
            ("vip", "payment", "repair_complaint"),
        ),
    ),
)

CENTRAL = ("central", "客户服务中心", "Customer Service Centre", 116.3601, 39.9125)

# Crews: code, zh, en, depot (lon, lat), skills.
CREWS = (
    (
        "crew-north-1",
        "北区抢修一队",
        "North repair crew 1",
        116.3712,
        39.9401,
        ("burst_main", "leak", "no_water"),
    ),
    (
        "crew-north-2",
        "北区抢修二队",
        "North repair crew 2",
        116.3408,
        39.9356,
        ("low_pressure", "meter_fault", "leak"),
    ),
    (
        "crew-centre-1",
        "中区抢修队",
        "Central repair crew",
        116.3589,
        39.9069,
        ("burst_main", "no_water", "low_pressure"),
    ),
    (
        "crew-south-1",
        "南区抢修一队",
        "South repair crew 1",
        116.3651,
        39.8731,
        ("burst_main", "leak", "no_water"),
    ),
    (
        "crew-south-2",
        "南区抢修二队",
        "South repair crew 2",
        116.3322,
        39.8790,
        ("meter_fault", "low_pressure", "leak"),
    ),
    (
        "crew-service",
        "客服外勤组",
        "Customer field service",
        116.3760,
        39.8942,
        ("meter_fault", "complaint", "help"),
    ),
)

ANNOUNCEMENTS = (
    (
        "本厅营业时间：每天 8:00–17:30，17:00 停止取号。",
        "Opening hours: every day 8:00–17:30; no new tickets after 17:00.",
    ),
    (
        "自助终端支持银行卡缴费并打印收据，24 小时服务。",
        "Self-service kiosks take bank cards and print receipts, 24 hours a day.",
    ),
    (
        "请保管好您的号票，过号请重新取号。",
        "Please keep your ticket; if your number has passed, take a new one.",
    ),
)

# Opening hours of both halls, every day (local time): open, last ticket (停止取号), close.
HOURS = ("08:00", "17:00", "17:30")

# Counter staff of each hall: staff numbers S001 … and their names. Every demo staff member
# signs in with DEMO_STAFF_PIN — demo data only; a real hall sets PINs with `servicehall staff`.
STAFF = ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强")
DEMO_STAFF_PIN = "8642"

# Key accounts (大客户) with VIP cards, presented at the kiosk for VIP service.
VIP_CUSTOMERS = (
    ("北京金融街物业管理有限公司", "VIP-XC-0001"),
    ("西城区第一中学", "VIP-XC-0002"),
    ("广安门医院后勤处", "VIP-XC-0003"),
)
