"""Words for the codes the domain stores: statuses, event kinds, reason codes and the like.

Each value is an English msgid marked with `N_` for extraction; it is translated where it is
shown, in the reader's language.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark `message` for the catalog without translating it here."""
    return message


PO_STATUSES: dict[str, str] = {
    "draft": N_("Draft"),
    "issued": N_("Issued"),
    "acknowledged": N_("Acknowledged"),
    "rejected": N_("Rejected"),
    "changes_proposed": N_("Changes proposed"),
    "in_fulfilment": N_("In fulfilment"),
    "partially_shipped": N_("Partially shipped"),
    "shipped": N_("Shipped"),
    "partially_received": N_("Partially received"),
    "received": N_("Received"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}
"""Stored purchase order statuses, and the partial ones derived from the lines."""

SO_STATUSES: dict[str, str] = {
    "open": N_("Open"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "closed": N_("Closed"),
    "cancelled": N_("Cancelled"),
}

EVENT_KINDS: dict[str, str] = {
    "po.created": N_("Purchase order created"),
    "po.issued": N_("Purchase order issued"),
    "po.acknowledged": N_("Purchase order acknowledged"),
    "po.rejected": N_("Purchase order rejected"),
    "po.cancelled": N_("Purchase order cancelled"),
    "po.closed": N_("Purchase order closed"),
    "line.promise_changed": N_("Promised date changed"),
    "cr.opened": N_("Change request opened"),
    "cr.approved": N_("Change request approved"),
    "cr.auto_approved": N_("Change request approved automatically"),
    "cr.rejected": N_("Change request rejected"),
    "cr.countered": N_("Change request countered"),
    "cr.withdrawn": N_("Change request withdrawn"),
    "shipment.posted": N_("Shipment posted"),
    "shipment.corrected": N_("Shipment corrected"),
    "shipment.cancelled": N_("Shipment cancelled"),
    "receipt.recorded": N_("Receipt recorded"),
    "comment.added": N_("Comment added"),
    "so.created": N_("Sales order created"),
    "line.linked": N_("Line linked to a purchase order"),
    "line.expected_date_changed": N_("Expected date changed"),
    "line.confirmed": N_("Line confirmed"),
    "so.shipped": N_("Sales order shipped"),
    "so.delivered": N_("Sales order delivered"),
    "so.closed": N_("Sales order closed"),
    "so.cancelled": N_("Sales order cancelled"),
    "org.created": N_("Organisation created"),
    "org.updated": N_("Organisation changed"),
    "user.created": N_("User created"),
    "user.updated": N_("User changed"),
    "user.disabled": N_("User disabled"),
    "user.enabled": N_("User enabled"),
    "client.registered": N_("OAuth client registered"),
    "client.secret_rotated": N_("OAuth client secret replaced"),
    "client.disabled": N_("OAuth client disabled"),
    "identity_provider.set": N_("Sign-in provider set"),
    "identity_provider.cleared": N_("Sign-in provider removed"),
    "notification.sent": N_("Notification sent"),
    "webhook.created": N_("Webhook added"),
    "webhook.updated": N_("Webhook changed"),
    "webhook.secret_rotated": N_("Webhook secret rotated"),
    "webhook.disabled": N_("Webhook disabled"),
    "webhook.enabled": N_("Webhook enabled"),
    "webhook.deleted": N_("Webhook removed"),
    "notification.preferences_changed": N_("Notification preferences changed"),
    "alert.raised": N_("Alert raised"),
    "alert.escalated": N_("Alert escalated"),
    "alert.resolved": N_("Alert resolved"),
    "settings.changed": N_("Settings changed"),
    "reason_code.added": N_("Reason code added"),
    "reason_code.changed": N_("Reason code changed"),
    "import.completed": N_("Import completed"),
}

REASONS: dict[str, str] = {
    "material_shortage": N_("Material shortage"),
    "capacity": N_("Capacity"),
    "quality": N_("Quality"),
    "logistics": N_("Logistics"),
    "customer_request": N_("Customer request"),
    "buyer_request": N_("Buyer request"),
    "force_majeure": N_("Force majeure"),
    "other": N_("Other"),
}

DECISIONS: dict[str, str] = {
    "accepted": N_("Accepted"),
    "rejected": N_("Rejected"),
    "accepted_with_changes": N_("Accepted with changes"),
}

CHANGE_KINDS: dict[str, str] = {
    "quantity": N_("Quantity"),
    "date": N_("Delivery schedule"),
    "price": N_("Unit price"),
    "item": N_("Item"),
    "cancel": N_("Cancel line"),
    "promise": N_("Promised date"),
}

CAUSES: dict[str, str] = {
    "linked": N_("Planned against our supply schedule"),
    "acknowledged": N_("Our supply for it was confirmed"),
    "promise_changed": N_("Our supply schedule changed"),
    "change_approved": N_("Our supply plan was updated"),
}
"""Why a linked sales line's expected date moved, in words a customer may read: they never
name a supplier, its order or anything said between us and it."""

VIA: dict[str, str] = {
    "web": N_("web"),
    "api": N_("API"),
    "import": N_("import"),
    "system": N_("system"),
    "email": N_("e-mail link"),
}

ALERT_RULES: dict[str, str] = {
    "po_unacknowledged": N_("Purchase order not acknowledged"),
    "promise_after_need": N_("Promise later than need date"),
    "promise_passed_unshipped": N_("Promised date passed, not shipped"),
    "shipment_overdue": N_("Shipment overdue"),
    "cr_overdue": N_("Change request overdue"),
    "so_late": N_("Sales order line late"),
}
"""The early-warning rules (portal.domain.alerts.Rule), as pages and messages name them."""

ALERT_LEVELS: dict[str, str] = {"raised": N_("Raised"), "escalated": N_("Escalated")}
