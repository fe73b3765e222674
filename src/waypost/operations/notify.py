"""Notifications, written to the outbox in the transaction of the event they tell of: a
crash after the commit loses none (a sender delivers it later), and a rolled-back event
sends nothing. worker/delivery.py sends them, signed, with retries.

Two kinds: interrupt events for the receivers langgraph.json's `waypost.notifications`
names (JSON, or a Slack incoming-webhook message), and the run-end webhook a run was given
(the official body: the run, its times and its result).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from waypost import serde
from waypost.inbox_config import DEFAULT_SECRET_ENV, InboxConfig, NotificationRule
from waypost.models import Delivery, PendingInterrupt, Run, now_iso
from waypost.storage.base import Tx

# What a Slack message says first, per event.
HEADLINES = {
    "interrupt.pending": "Waiting for an answer",
    "interrupt.reminder": "Deadline soon",
    "interrupt.deadline_passed": "Deadline passed",
    "interrupt.answered": "Answered",
    "interrupt.escalated": "Escalated",
    "interrupt.expired": "Expired",
}
SUMMARY_CHARS = 300


def inbox_link(base_url: str, item: PendingInterrupt) -> str:
    return f"{base_url}/inbox#/interrupts/{item.thread_id}/{item.interrupt_id}"


def summary(value: Any) -> str:
    """One line saying what an interrupt asks, from the shapes people use: a string, an
    object with a question, langchain's HITL middleware request, Agent Inbox requests."""
    text: str | None = None
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict):
        for key in ("question", "message", "description", "prompt", "text", "title"):
            if isinstance(value.get(key), str):
                text = value[key]
                break
        else:
            actions = value.get("action_requests")
            if isinstance(actions, list) and actions:
                names = [str(a.get("name")) for a in actions if isinstance(a, dict)]
                text = f"Review {len(actions)} action(s): {', '.join(names)}"
    elif isinstance(value, list) and value and isinstance(value[0], dict) and "action_request" in value[0]:
        first = value[0]
        action = first.get("action_request") or {}
        text = first.get("description") or f"Review action: {action.get('action')}"
    if text is None:
        text = serde.dumps(value).decode()
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1] + "…"


def event_body(event: str, item: PendingInterrupt, inbox: InboxConfig, detail: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "event": event,
        "occurred_at": now_iso(),
        "interrupt": item.resource(),
        "summary": summary(item.value),
        "inbox_url": inbox_link(inbox.base_url, item),
        "detail": detail or {},
    }


def slack_body(event: str, item: PendingInterrupt, inbox: InboxConfig, detail: dict[str, Any] | None) -> dict[str, Any]:
    """An incoming-webhook message: the question, where it waits, and a button to the inbox."""
    headline = HEADLINES.get(event, event)
    question = summary(item.value)
    context = [f"graph `{item.graph_id}`", f"thread `{item.thread_id}`"]
    if item.deadline:
        context.append(f"due {item.deadline}")
    if item.assignees:
        context.append("for " + ", ".join(item.assignees))
    if detail and detail.get("answered_by"):
        context.append(f"answered by {detail['answered_by']}")
    link = inbox_link(inbox.base_url, item)
    return {
        "text": f"{headline}: {question} <{link}|Open in the inbox>",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*\n>{question}"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Open in the inbox"}, "url": link}
                ],
            },
        ],
    }


def _body(
    rule: NotificationRule, event: str, item: PendingInterrupt, inbox: InboxConfig, detail: dict[str, Any] | None
) -> dict[str, Any]:
    return slack_body(event, item, inbox, detail) if rule.format == "slack" else event_body(event, item, inbox, detail)


async def interrupt_event(
    tx: Tx, inbox: InboxConfig, event: str, item: PendingInterrupt, detail: dict[str, Any] | None = None
) -> int:
    """Queue `event` about `item` for every receiver that wants it; how many were queued."""
    now = now_iso()
    queued = 0
    for rule in inbox.notifications:
        if not rule.wants(event, item.graph_id):
            continue
        await tx.add_delivery(
            Delivery(
                delivery_id=str(uuid.uuid4()),
                event=event,
                url=rule.url,
                body=_body(rule, event, item, inbox, detail),
                created_at=now,
                next_attempt_at=now,
                secret_env=rule.secret_env,
                thread_id=item.thread_id,
                interrupt_id=item.interrupt_id,
                run_id=item.run_id,
            )
        )
        queued += 1
    if queued:
        tx.notify("due")
    return queued


async def run_webhook(tx: Tx, inbox: InboxConfig, run: Run, payload: dict[str, Any]) -> bool:
    """Queue the run-end webhook the run was given (http.disable_webhooks: none). Signed
    when WAYPOST_WEBHOOK_SECRET is set; langgraph.json's webhooks.headers go with it."""
    url = run.kwargs.get("webhook")
    if not url or inbox.run_webhooks_disabled:
        return False
    now = now_iso()
    await tx.add_delivery(
        Delivery(
            delivery_id=str(uuid.uuid4()),
            event="run.ended",
            url=url,
            body=payload,
            created_at=now,
            next_attempt_at=now,
            secret_env=DEFAULT_SECRET_ENV if os.environ.get(DEFAULT_SECRET_ENV) else None,
            static_headers=True,
            thread_id=run.thread_id,
            run_id=run.run_id,
        )
    )
    tx.notify("due")
    return True
