"""What the demo's people write: comments, reasons and receipt notes, each in Chinese and
English. The author's language decides which is used (see `Story.say`)."""

from __future__ import annotations

Said = tuple[str, str]
"""(中文, English)"""

COMMENTS: dict[str, tuple[Said, ...]] = {
    "note": (
        (
            "预算审批中,审批通过后下达。",
            "Waiting for budget approval before this goes to the supplier.",
        ),
        (
            "数量待生产计划确认,周五前下达。",
            "Quantities depend on the production plan; to be issued by Friday.",
        ),
    ),
    "chase": (
        (
            "请尽快确认交期,客户项目在等这批货。",
            "Could you please confirm the delivery dates? Our customer's project waits for these.",
        ),
    ),
    "customer_ask": (
        (
            "请问这批货能否提前两天到?我们产线下周一开工。",
            "Any chance to get these a couple of days earlier? Our line starts on Monday.",
        ),
        (
            "麻烦确认一下交货日期,我们要安排安装人员。",
            "Please confirm the delivery date, we need to book the installation crew.",
        ),
        (
            "发货前请发一下装箱单,谢谢。",
            "Please send the packing list before shipping. Thanks!",
        ),
    ),
    "customer_cancel": (
        (
            "项目延期到下季度,这张订单请取消。",
            "Our project moved to next quarter; please cancel this order.",
        ),
        (
            "终端客户取消了订单,我们这边也需要取消,抱歉。",
            "Our end customer cancelled, so we have to cancel this one too. Sorry about that.",
        ),
    ),
    "thanks": (
        ("货已收到,包装完好,谢谢!", "Goods received in good condition, thank you!"),
        ("已签收,数量核对无误。", "Signed for; quantities checked and correct."),
    ),
    "supplier_note": (
        (
            "理解。我们按原数量排产,最小起订量下次再议。",
            "Understood. We will produce the ordered quantity and discuss the MOQ next time.",
        ),
    ),
    "resource_note": (
        (
            "供应商拒单,已联系备选供应商报价,客户交期需要同步更新。",
            "Supplier declined; asking an alternative supplier for a quote. Keep the customer "
            "informed about the date.",
        ),
    ),
    "ship_note": (
        ("今天已发货,物流单号见发货通知。", "Shipped today; the tracking number is on the ASN."),
        (
            "这批分两次发,第二批下周发出。",
            "We ship this in two parts; the second leaves next week.",
        ),
    ),
    "inspect_note": (
        (
            "这批是新供应商批次,到货请做来料检验。",
            "First lot from a new production line: please inspect on arrival.",
        ),
    ),
    "so_note": (
        (
            "已安排生产,按预计交期发货,如有变化系统会自动通知。",
            "In production; we ship on the expected date and you are notified if it moves.",
        ),
    ),
    "warehouse_note": (
        (
            "不良品已隔离,等供应商补发后再关单。",
            "Rejected parts are quarantined; we close this once the supplier replaces them.",
        ),
    ),
    "replace_note": (
        (
            "不良品的补货已安排生产,近期发出,请查收。",
            "Replacements for the rejected parts are made; they ship in the next days.",
        ),
    ),
    "short_note": (
        (
            "剩余数量不用再发了,我们按已到数量结单。",
            "No need to ship the rest: we close the order with what has arrived.",
        ),
    ),
}

REJECT_PO: tuple[Said, ...] = (
    (
        "该型号已停产,无法接单。建议改用新款,我们可以另行报价。",
        "This item is discontinued; we can quote its successor instead.",
    ),
    (
        "二季度前产能已排满,无法满足需求日期。",
        "Our capacity is fully booked until Q2; we cannot meet the need dates.",
    ),
)

PROMISE_REASONS: dict[str, Said] = {
    "material_shortage": (
        "原材料(钢材)到货延迟一周。",
        "Raw material (steel) arrives a week late.",
    ),
    "capacity": (
        "热处理产能紧张,需要分批交货。",
        "Heat treatment capacity is tight; we deliver in parts.",
    ),
    "logistics": (
        "物流公司运力不足,发货顺延。",
        "The forwarder has no space this week; shipping moves.",
    ),
    "quality": (
        "首检发现尺寸偏差,返工中。",
        "First article inspection found a deviation; reworking.",
    ),
    "force_majeure": ("台风影响港口作业,交期顺延。", "A typhoon closed the port for three days."),
}

CHANGE_REASONS: dict[str, Said] = {
    "propose_date": (
        "排产冲突,这一行需要延后交货。",
        "Production slot conflict: this line needs more time.",
    ),
    "propose_qty": (
        "该物料最小起订量为整包装,按整包调整数量。",
        "Minimum order quantity is a full reel/box; we adjusted the quantity to it.",
    ),
    "propose_item": (
        "原型号已升级,建议改用新版本,性能兼容,价格不变。",
        "The item has a successor model, fully compatible, same price.",
    ),
    "cr_small": ("货代提货时间调整,稍有延后。", "Our forwarder moved the pickup a little later."),
    "cr_late": ("模具维修,产能下降。", "A mould is being repaired, so output is down."),
    "cr_price": (
        "铜价上涨12%,申请调整单价。",
        "Copper went up 12%; we ask to adjust the unit price.",
    ),
    "buyer_qty": (
        "客户追加订单,数量增加。",
        "Our customer ordered more; please raise the quantity.",
    ),
    "cancel_by_cr": (
        "客户取消订单,申请取消采购。",
        "Our customer cancelled; we ask to cancel this order.",
    ),
}

DECISIONS: dict[str, Said] = {
    "approve": ("同意。", "Agreed."),
    "reject_cr": (
        "不能接受,请按原订单执行。",
        "We cannot accept this; please deliver as ordered.",
    ),
    "counter": (
        "这个日期太晚了,最多能接受下面的日期。",
        "That is too late for us; this is the latest we can accept.",
    ),
    "withdraw": (
        "已找到库存,按原订单交货,撤回申请。",
        "We found stock after all and deliver as ordered; withdrawing our request.",
    ),
    "cancel": ("需求取消,订单作废。", "The need went away; this order is cancelled."),
}

RECEIPT_NOTE: Said = ("外观划伤,已退回供应商。", "Scratched surface; returned to the supplier.")
