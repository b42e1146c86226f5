"""The demo's plots: one line per order (or per sales order and the purchase order bought for
it), naming the steps of its life. Together they reach every purchase order, sales order and
change request status, so each screen of the portal has something to show.

A step names a `Story.step_<name>` method (`portal.demo.story`); a plot starts a random number
of days ago within its window, chosen so that its steps fit before today.

Steps: `so` creates the sales order; `draft`/`issue` create the purchase order, `release`
issues a draft; `link` links the sales lines to the purchase lines bought for them; `accept`,
`reject`, `propose_date|qty|item` are the supplier's acknowledgement; `cr_small|cr_late|
cr_price` are the supplier's change requests, `buyer_qty` and `cancel_by_cr` the buyer's;
`approve`, `reject_cr`, `counter`, `withdraw` answer the change request in play (by whichever
side may); `promise_late|promise_split` move a promise; `ship_part|ship_line1|ship_rest`,
`receive`, `receive_rejects` move goods: goods the warehouse turns away count as not shipped,
so a shipped order goes back in fulfilment and the next `ship_rest` replaces them; `close`
(short, when not everything arrived), `cancel` (which closes a change request still open on
the order); `so_ship|so_deliver|so_close|so_cancel` move the sales order; the rest are
comments (`*_note`, `chase`, `customer_*`, `thanks`), written by whoever the name says.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Plot:
    steps: tuple[str, ...]
    days_ago: tuple[float, float]
    supplier: str | None = None
    customer: str | None = None
    lines: tuple[int, int] = (1, 3)

    @property
    def buys(self) -> bool:
        return self.supplier is not None

    @property
    def sells(self) -> bool:
        return self.customer is not None


def po(
    supplier: str, days_ago: tuple[float, float], steps: str, lines: tuple[int, int] = (1, 3)
) -> Plot:
    """A purchase order for stock: nobody's sales order waits for it."""
    return Plot(tuple(steps.split()), days_ago, supplier=supplier, lines=lines)


def deal(customer: str, supplier: str, days_ago: tuple[float, float], steps: str) -> Plot:
    """A customer's order and the purchase order bought for it, back to back (采销协同)."""
    return Plot(tuple(steps.split()), days_ago, supplier=supplier, customer=customer)


def so(customer: str, days_ago: tuple[float, float], steps: str) -> Plot:
    """A sales order served from our own production or stock."""
    return Plot(tuple(steps.split()), days_ago, customer=customer, lines=(1, 2))


BOUGHT = "so issue link accept"
"""The start of every back-to-back deal the supplier accepted."""

PLOTS: tuple[Plot, ...] = (
    # draft
    po("HDJM", (0.5, 3), "draft note"),
    deal("YUNFAN", "XINDA", (0.5, 3), "so draft link"),
    po("KRAFT", (0.2, 2), "draft"),
    # issued: waiting for the supplier
    po("HDJM", (0.1, 1), "issue"),
    deal("YUEHAI", "XINDA", (3, 4.5), "so issue link chase"),
    po("HDJM", (5, 9), "issue propose_qty reject_cr supplier_note", lines=(1, 2)),
    po("KRAFT", (5, 9), "issue propose_date withdraw"),
    # acknowledged
    deal("YUNFAN", "HDJM", (4, 10), f"{BOUGHT} customer_ask"),
    deal("NORTHWIND", "KRAFT", (6, 12), f"{BOUGHT} promise_late"),
    po("XINDA", (8, 12), "draft release accept promise_split"),
    deal("YUEHAI", "HDJM", (5, 10), f"{BOUGHT} cr_small"),
    po("XINDA", (6, 12), "issue accept cr_price reject_cr"),
    deal("YUNFAN", "KRAFT", (8, 13), f"{BOUGHT} buyer_qty approve cr_late"),
    # rejected
    po("HDJM", (4, 14), "issue reject"),
    deal("NORTHWIND", "KRAFT", (5, 12), "so issue link reject resource_note"),
    # changes proposed: a change request from the acknowledgement is still open
    deal("YUNFAN", "XINDA", (1, 4), "so issue link propose_date"),
    po("HDJM", (1, 5), "issue propose_qty"),
    deal("YUEHAI", "HDJM", (5, 8), "so issue link propose_date counter counter"),
    po("KRAFT", (2, 6), "issue propose_item"),
    # in fulfilment: partly shipped, partly received
    deal("YUNFAN", "HDJM", (16, 22), f"{BOUGHT} so_note ship_part ship_note"),
    po("XINDA", (18, 24), "issue accept promise_split ship_part ship_note", lines=(1, 2)),
    deal("YUEHAI", "XINDA", (20, 26), f"{BOUGHT} ship_part receive_rejects"),
    po("KRAFT", (25, 31), "issue accept cr_late counter counter approve ship_part"),
    po("HDJM", (18, 24), "issue accept ship_line1 promise_late", lines=(2, 3)),
    deal("NORTHWIND", "XINDA", (20, 26), f"{BOUGHT} ship_part receive"),
    # ... and back in fulfilment: all shipped, part turned away, the replacement not yet sent
    po("XINDA", (22, 28), "issue accept ship_rest receive_rejects warehouse_note"),
    # shipped: every line is on its way
    deal("YUNFAN", "XINDA", (16, 22), f"{BOUGHT} inspect_note ship_rest ship_note"),
    po("HDJM", (20, 26), "issue accept ship_part ship_note ship_rest"),
    deal("YUEHAI", "HDJM", (24, 30), f"{BOUGHT} promise_late ship_rest"),
    po("KRAFT", (24, 30), "issue accept cr_small ship_rest"),
    # received
    deal("YUNFAN", "HDJM", (24, 32), f"{BOUGHT} ship_rest receive"),
    po("XINDA", (28, 36), "issue accept ship_part receive_rejects ship_rest receive"),
    deal("YUEHAI", "XINDA", (26, 34), f"{BOUGHT} ship_rest receive so_ship"),
    po("HDJM", (22, 30), "issue accept inspect_note ship_rest receive"),
    deal(
        "NORTHWIND",
        "KRAFT",
        (36, 40),
        f"{BOUGHT} promise_late ship_rest receive so_ship so_deliver",
    ),
    po("KRAFT", (32, 38), "issue accept ship_part receive ship_rest receive"),
    # ... after goods turned away from a shipped order were replaced
    po(
        "HDJM",
        (26, 34),
        "issue accept ship_rest receive_rejects warehouse_note replace_note ship_rest receive",
    ),
    # closed
    deal(
        "YUNFAN", "HDJM", (34, 40), f"{BOUGHT} ship_rest receive so_ship close so_deliver so_close"
    ),
    deal(
        "YUEHAI",
        "XINDA",
        (36, 41),
        f"{BOUGHT} promise_late ship_rest receive so_ship so_deliver thanks close so_close",
    ),
    deal(
        "NORTHWIND",
        "XINDA",
        (34, 40),
        f"{BOUGHT} so_note ship_rest receive so_ship so_deliver close",
    ),
    deal("YUNFAN", "KRAFT", (38, 41.5), f"{BOUGHT} ship_rest receive so_ship close"),
    deal(
        "YUEHAI", "HDJM", (34, 40), f"{BOUGHT} ship_rest receive so_ship so_deliver so_close close"
    ),
    po("HDJM", (30, 38), "issue accept ship_rest receive close"),
    po(
        "XINDA",
        (36, 41.5),
        "issue accept cr_small ship_part receive_rejects ship_rest receive close",
        lines=(1, 2),
    ),
    po("KRAFT", (38, 41.5), "issue accept ship_rest ship_note receive close"),
    po("HDJM", (34, 40), "issue propose_date approve ship_rest receive close"),
    # ... short: the buyer settles for what came
    po("KRAFT", (30, 38), "issue accept ship_part receive short_note close"),
    # cancelled
    po("HDJM", (3, 12), "draft cancel"),
    po("XINDA", (3, 12), "issue cancel"),
    po("KRAFT", (6, 16), "issue reject cancel"),
    deal("YUNFAN", "HDJM", (8, 16), f"{BOUGHT} customer_cancel so_cancel cancel_by_cr approve"),
    po("XINDA", (6, 14), "issue propose_qty reject_cr cancel"),
    # ... while the change request of the acknowledgement is still open (it is cancelled too)
    po("KRAFT", (4, 10), "issue propose_date counter cancel"),
    deal("YUNFAN", "XINDA", (6, 12), "so issue link propose_date customer_cancel so_cancel cancel"),
    # sales orders served from our own production or stock
    so("YUNFAN", (0.2, 6), "so"),
    so("YUEHAI", (1, 8), "so customer_ask so_note"),
    so("NORTHWIND", (1, 8), "so"),
    so("YUNFAN", (2, 10), "so customer_ask"),
    so("YUEHAI", (0.2, 4), "so"),
    so("NORTHWIND", (3, 10), "so customer_ask so_note"),
    so("YUNFAN", (4, 10), "so so_note"),
    so("YUNFAN", (16, 24), "so so_ship"),
    so("YUEHAI", (16, 24), "so so_ship"),
    so("NORTHWIND", (18, 26), "so so_ship"),
    so("YUEHAI", (16, 24), "so customer_ask so_ship"),
    so("YUNFAN", (16, 24), "so so_ship"),
    so("YUNFAN", (20, 30), "so so_ship so_deliver thanks"),
    so("YUEHAI", (20, 30), "so so_ship so_deliver"),
    so("NORTHWIND", (22, 32), "so so_ship so_deliver thanks"),
    so("YUEHAI", (20, 30), "so so_ship so_deliver"),
    so("YUNFAN", (20, 30), "so customer_ask so_ship so_deliver"),
    so("YUNFAN", (26, 40), "so so_ship so_deliver so_close"),
    so("YUEHAI", (26, 40), "so so_ship so_deliver thanks so_close"),
    so("NORTHWIND", (28, 41), "so so_ship so_deliver so_close"),
    so("YUNFAN", (26, 40), "so so_ship so_deliver so_close"),
    so("YUEHAI", (26, 40), "so customer_ask so_ship so_deliver so_close"),
    so("NORTHWIND", (28, 41), "so so_ship so_deliver thanks so_close"),
    so("YUNFAN", (26, 40), "so so_ship so_deliver so_close"),
    so("YUNFAN", (4, 30), "so customer_cancel so_cancel"),
    so("YUEHAI", (4, 30), "so customer_cancel so_cancel"),
    so("NORTHWIND", (4, 30), "so customer_cancel so_cancel"),
    so("YUEHAI", (4, 30), "so customer_cancel so_cancel"),
)
