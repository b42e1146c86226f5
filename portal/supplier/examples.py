"""The request bodies of the public API v1 as its OpenAPI document shows them: what each one is
for, and examples a supplier's developer can start from."""

from __future__ import annotations

from litestar.openapi.spec import Example
from litestar.params import Body

ACKNOWLEDGEMENT = Body(
    description="The supplier's answer to the order.",
    examples=[
        Example(summary="Accept as ordered", value={"decision": "accept", "version": 1}),
        Example(
            summary="Reject",
            value={"decision": "reject", "version": 1, "reason": "Item discontinued"},
        ),
        Example(
            summary="Answer line by line",
            value={
                "decision": "per_line",
                "version": 1,
                "lines": [
                    {
                        "line_no": 1,
                        "answer": "change",
                        "schedule": [
                            {"quantity": "300", "date": "2027-01-11"},
                            {"quantity": "200", "date": "2027-01-25"},
                        ],
                    },
                    {"line_no": 2, "answer": "reject"},
                ],
                "reason_code": "capacity",
                "comment": "Second half after the new line starts",
            },
        ),
    ],
)

PROMISE = Body(
    description="The line's new promise, with the reason it moves.",
    examples=[
        Example(
            summary="A new date for what is left",
            value={"date": "2027-01-14", "reason_code": "logistics", "version": 3},
        ),
        Example(
            summary="A delivery schedule",
            value={
                "schedule": [
                    {"quantity": "60", "date": "2027-01-11"},
                    {"quantity": "40", "date": "2027-01-18"},
                ],
                "reason_code": "capacity",
                "comment": "Second shift from the 15th",
            },
        ),
    ],
)

PROMISE_UPDATES = Body(
    description="New promises for several lines, or a shift of whole orders.",
    examples=[
        Example(
            summary="Several lines",
            value={
                "versions": {"PO-2026-00041": 3, "PO-2026-00042": 5},
                "updates": [
                    {
                        "po_number": "PO-2026-00041",
                        "line_no": 1,
                        "date": "2027-01-14",
                        "reason_code": "logistics",
                    },
                    {
                        "po_number": "PO-2026-00042",
                        "line_no": 2,
                        "schedule": [{"quantity": "40", "date": "2027-02-01"}],
                        "reason_code": "capacity",
                    },
                ],
            },
        ),
        Example(
            summary="Move whole orders by three days",
            value={
                "versions": {"PO-2026-00041": 3, "PO-2026-00042": 5},
                "po_numbers": ["PO-2026-00041", "PO-2026-00042"],
                "shift_days": 3,
                "reason_code": "logistics",
                "comment": "Port congestion",
            },
        ),
    ],
)

NEW_CHANGE_REQUEST = Body(
    description="The changes proposed, per line, with a reason.",
    examples=[
        Example(
            summary="Less, and later",
            value={
                "version": 4,
                "changes": [
                    {"line_no": 1, "kind": "quantity", "quantity": "80"},
                    {
                        "line_no": 1,
                        "kind": "date",
                        "schedule": [{"quantity": "80", "date": "2027-02-01"}],
                    },
                ],
                "reason_code": "material_shortage",
                "comment": "Steel allocation cut",
            },
        ),
        Example(
            summary="Cancel a line",
            value={
                "version": 4,
                "changes": [{"line_no": 2, "kind": "cancel"}],
                "reason_code": "other",
            },
        ),
    ],
)

DECISION = Body(
    description="The decision, based on the change request's version.",
    examples=[
        Example(summary="Approve", value={"verdict": "approve", "version": 1}),
        Example(
            summary="Counter",
            value={
                "verdict": "counter",
                "version": 1,
                "changes": [
                    {
                        "line_no": 1,
                        "kind": "date",
                        "schedule": [{"quantity": "100", "date": "2027-01-20"}],
                    }
                ],
                "reason_code": "buyer_request",
                "comment": "We can take it on the 20th, not later",
            },
        ),
        Example(
            summary="Withdraw one's own",
            value={"verdict": "withdraw", "version": 1, "comment": "Solved"},
        ),
    ],
)

NEW_SHIPMENT = Body(
    description="What was shipped against the order.",
    examples=[
        Example(
            summary="A partial shipment",
            value={
                "version": 5,
                "ship_date": "2027-01-08",
                "carrier": "SF Express",
                "tracking_no": "SF1234567890",
                "expected_arrival": "2027-01-10",
                "lines": [{"line_no": 1, "quantity": "60"}],
            },
        )
    ],
)

SHIPMENT_CORRECTION = Body(
    description="The shipment as it really went, and why it is corrected.",
    examples=[
        Example(
            summary="Fewer went on the truck",
            value={
                "version": 6,
                "reason": "Two cartons left behind",
                "ship_date": "2027-01-08",
                "carrier": "SF Express",
                "tracking_no": "SF1234567890",
                "lines": [{"line_no": 1, "quantity": "50"}],
            },
        )
    ],
)

SHIPMENT_CANCELLATION = Body(
    description="Why the shipment is taken back.",
    examples=[Example(summary="Cancel", value={"version": 6, "reason": "Posted twice"})],
)
