"""A refusal speaks the caller's language: the problem's `detail` of a domain error is
translated for a Chinese caller and stays English for an English one."""

from __future__ import annotations

from api_support import World, problem


async def test_a_missing_order_is_explained_in_the_callers_language(world: World) -> None:
    chinese = await world.caller("acme-erp", language="zh-CN")
    english = await world.caller("acme-erp")

    answer = await chinese.get("/purchase-orders/PO-NONE")
    assert problem(answer, 404)["detail"] == "未找到采购订单 PO-NONE。"
    answer = await english.get("/purchase-orders/PO-NONE")
    assert problem(answer, 404)["detail"] == "Purchase order PO-NONE was not found."
