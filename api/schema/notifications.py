"""Customer mails: an agent sends one again."""

from __future__ import annotations

import strawberry

from api.context import Context
from api.errors import UserError, attempt
from api.schema.notification_types import OrderNotification
from domain import access


@strawberry.input
class ResendNotificationInput:
    id: strawberry.ID


@strawberry.type
class ResendNotificationPayload:
    notification: OrderNotification | None
    user_errors: list[UserError]


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Send a mail again (agents): a new notification, QUEUED "
                                     "until the notifications consumer hands it over.")
    async def resend_notification(self, info: strawberry.Info[Context, None],
                                  input: ResendNotificationInput) -> ResendNotificationPayload:
        ctx = info.context
        sent, errors = await attempt(lambda: ctx.app.notifications.resend(
            str(input.id), principal=ctx.principal))
        return ResendNotificationPayload(
            notification=OrderNotification.seen(access.FULL_VIEW, sent) if sent else None,
            user_errors=errors)
