"""What every operation needs, built once by the app's lifespan and passed down.

It holds no worker: operations reach whichever worker holds a run through the broker (cancel
signals) and storage (notices), so nothing below the API imports the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from waypost.auth.engine import NoAuth, Policy
from waypost.broker import Broker
from waypost.config import ServerConfig
from waypost.graphs import GraphRegistry
from waypost.inbox_config import InboxConfig
from waypost.settings import Settings
from waypost.storage.base import Storage
from waypost.waiters import RunWaiters


@dataclass
class Runtime:
    settings: Settings
    storage: Storage
    graphs: GraphRegistry
    broker: Broker
    auth: Policy = field(default_factory=NoAuth)
    config: ServerConfig | None = None
    waiters: RunWaiters = field(default_factory=RunWaiters)
    # Interrupt plans and notifications (langgraph.json's `waypost` section), with this
    # server's address for links.
    inbox: InboxConfig = field(default_factory=InboxConfig)
