"""What every operation needs, built once by the app's lifespan and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from waypost.broker import MemoryBroker
from waypost.graphs import GraphRegistry
from waypost.settings import Settings
from waypost.storage.base import Storage

if TYPE_CHECKING:
    from waypost.worker.pool import Worker
    from waypost.worker.webhooks import WebhookSender


@dataclass
class Runtime:
    settings: Settings
    storage: Storage
    graphs: GraphRegistry
    broker: MemoryBroker
    worker: Worker | None = None
    webhooks: WebhookSender | None = None
