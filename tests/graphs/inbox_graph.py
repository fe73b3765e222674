"""`inbox_request`: asks with Agent Inbox's HumanInterrupt shape and acts on the response."""

from typing import TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    draft: str
    outcome: str


def review(state: State) -> dict:
    request = {
        "action_request": {"action": "publish", "args": {"draft": state.get("draft", "")}},
        "config": {"allow_accept": True, "allow_edit": True, "allow_respond": True, "allow_ignore": False},
        "description": "Publish this draft?",
    }
    (response,) = interrupt([request])
    return {"outcome": f"{response['type']}:{response.get('args')}"}


_builder = StateGraph(State)
_builder.add_node("review", review)
_builder.add_edge(START, "review")
graph = _builder.compile()
