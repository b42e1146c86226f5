"""Our staff comment on an order for our staff only or for the other party too: an internal
note never reaches the supplier (its page and its API), a shared comment does; our timeline
marks the internal-only entries and filters by kind and author on the server."""

from __future__ import annotations

import re

from internal_orders_support import ACME_USER, API, BUYER_USER, World, csrf_of

PO = "/purchase-orders/PO-1"


def titles(html: str) -> list[str]:
    return re.findall(r'<strong class="event-title">(.*?)</strong>', html)


async def comment(http: object, path: str, text: str, audience: str) -> int:
    import httpx

    assert isinstance(http, httpx.AsyncClient)
    page = await http.get(path)
    answer = await http.post(
        path + "/comments",
        data={"_csrf_token": csrf_of(page.text), "text": text, "audience": audience},
    )
    return answer.status_code


async def test_internal_notes_stay_internal_and_shared_comments_reach_the_supplier(
    world: World,
) -> None:
    await world.issue("PO-1")
    async with world.browser(BUYER_USER) as buyer:
        page = (await buyer.get(PO)).text
        assert 'value="internal" checked' in page
        assert "Shared with the supplier" in page
        assert await comment(buyer, PO, "仅限内部 供应商信用额度紧张", "internal") == 303
        assert await comment(buyer, PO, "Please confirm the packing", "shared") == 303

        refused = await buyer.post(
            PO + "/comments",
            data={"_csrf_token": csrf_of(page), "text": "   ", "audience": "shared"},
        )
        assert refused.status_code == 422
        assert "A comment cannot be empty." in refused.text

        ours = (await buyer.get(PO)).text
        assert "仅限内部 供应商信用额度紧张" in ours
        assert "Please confirm the packing" in ours
        marked = re.findall(r'<li id="event-(\d+)" class="[^"]*internal-only', ours)
        assert "3" in marked  # the note
        assert "4" not in marked  # the shared comment

    events = await world.po_events("PO-1")
    assert [(e.kind, [side.value for side in e.audience]) for e in events[2:]] == [
        ("comment.added", ["internal"]),
        ("comment.added", ["internal", "supplier"]),
    ]

    async with world.browser(ACME_USER) as supplier:
        theirs = await supplier.get("/supplier/purchase-orders/PO-1")
        assert theirs.status_code == 200
        assert "Please confirm the packing" in theirs.text
        assert "供应商信用额度紧张" not in theirs.text
        # The order page suppliers may also open shows neither the note nor our tools.
        same = (await supplier.get(PO)).text
        assert "供应商信用额度紧张" not in same
        assert "/comments" not in same and "/audit" not in same
        sneaked = await supplier.post(
            PO + "/comments",
            data={"_csrf_token": csrf_of(same), "text": "x", "audience": "internal"},
        )
        assert sneaked.status_code == 403
    async with world.api("acme-erp") as erp:
        read = await erp.get(API + "/purchase-orders/PO-1/timeline")
        assert read.status_code == 200
        texts = [event["data"].get("text") for event in read.json()["events"]]
        assert "Please confirm the packing" in texts
        assert "仅限内部 供应商信用额度紧张" not in texts
    assert len(await world.po_events("PO-1")) == 4


async def test_the_timeline_filters_by_kind_and_author(world: World) -> None:
    await world.issue("PO-1")
    async with world.browser(BUYER_USER) as buyer:
        assert await comment(buyer, PO, "A note", "internal") == 303
        everything = (await buyer.get(PO)).text
        assert titles(everything) == [
            "Comment added",
            "Purchase order issued",
            "Purchase order created",
        ]
        comments_only = await buyer.get(PO, params={"kind": "comment.added"})
        assert titles(comments_only.text) == ["Comment added"]
        assert "1 of 3 entries" in comments_only.text

        nobody = await buyer.get(PO, params={"author": "Someone else"})
        assert titles(nobody.text) == []
        assert "No entry matches this filter." in nobody.text

        fragment = await buyer.get(
            PO,
            params={"kind": "po.issued", "author": "Wang Fang"},
            headers={"HX-Request": "true", "HX-Target": "order-timeline"},
        )
        assert fragment.status_code == 200
        assert fragment.text.lstrip().startswith('<section id="order-timeline"')
        assert titles(fragment.text) == ["Purchase order issued"]
