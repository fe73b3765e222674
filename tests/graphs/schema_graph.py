"""`schema`: an interrupt that declares the JSON Schema of the expected answer."""

from typing import TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt

REVIEW_SCHEMA = {
    "type": "object",
    "properties": {
        "approved": {"type": "boolean"},
        "note": {"type": "string"},
    },
    "required": ["approved"],
    "additionalProperties": False,
}


class State(TypedDict):
    some_text: str


def review(state: State) -> dict:
    value = interrupt({"draft": state["some_text"]}, response_schema=REVIEW_SCHEMA)
    return {"some_text": f"{state['some_text']} approved={value['approved']}"}


_builder = StateGraph(State)
_builder.add_node("review", review)
_builder.add_edge(START, "review")

graph = _builder.compile()
