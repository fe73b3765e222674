"""`whoami`: answers with the identity the server gave the run, then asks a person."""

from typing import TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    identity: str
    permissions: list[str]
    display_name: str
    answer: str


def whoami(state: State, config: RunnableConfig) -> dict:
    configurable = config["configurable"]
    user = configurable.get("langgraph_auth_user")
    return {
        "identity": configurable.get("langgraph_auth_user_id"),
        "permissions": configurable.get("langgraph_auth_permissions"),
        "display_name": user.display_name if user is not None else None,
    }


def ask(state: State) -> dict:
    return {"answer": interrupt({"question": "ok?"})}


_builder = StateGraph(State)
_builder.add_node("whoami", whoami)
_builder.add_node("ask", ask)
_builder.add_edge(START, "whoami")
_builder.add_edge("whoami", "ask")

graph = _builder.compile()
