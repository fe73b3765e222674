"""What every operation needs, built once by the app's lifespan and passed down.

It holds no worker: operations reach whichever worker holds a run through the broker (cancel
signals) and storage (notices), so nothing below the API imports the worker; a run queued in a
process with a free worker slot starts there through the RunStarter interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from waypost.auth.engine import NoAuth, Policy
from waypost.broker import Broker
from waypost.config import ServerConfig
from waypost.graphs import GraphRegistry
from waypost.inbox_config import InboxConfig
from waypost.models import Run
from waypost.settings import Settings
from waypost.storage.base import RunSetting, Storage
from waypost.waiters import RunWaiters


class RunStarter(Protocol):
    """This process's worker as queueing a run sees it. A run queued while one of its slots
    is free (and nothing else keeps the run waiting) is claimed for it by the transaction that
    queues it and starts here as that commits: no notice, no claim, no read of its own."""

    worker_id: str
    lease_s: float

    def reserve(self) -> bool:
        """Take a free slot for a run about to be queued; False if none is free or the
        worker is stopping. Every reserve() is followed by start() or unreserve()."""

    def unreserve(self) -> None:
        """The reserved slot was not used: the run was queued for a claim, or not at all."""

    def start(self, run: Run, setting: RunSetting) -> None:
        """Hold and execute a run its queueing transaction claimed for this worker (that
        transaction has committed), with the thread and assistant it read."""


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
    # This process's worker, when it runs one.
    starter: RunStarter | None = None
