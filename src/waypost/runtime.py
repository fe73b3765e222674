"""What every operation needs, built once by the app's lifespan and passed down.

It holds no worker: operations reach whichever worker holds a run through the broker,
so nothing below the API imports the worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from waypost.broker import MemoryBroker
from waypost.graphs import GraphRegistry
from waypost.settings import Settings
from waypost.storage.base import Storage


@dataclass
class Runtime:
    settings: Settings
    storage: Storage
    graphs: GraphRegistry
    broker: MemoryBroker
