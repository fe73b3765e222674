"""A refund that waits for a person's approval, with a deadline (see langgraph.json).

The interrupt says what an answer must look like (`response_schema`), so Waypost refuses an
answer that does not fit before anything runs, and the inbox page draws a form from it.
"""

from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    customer: str
    amount: float
    approved: bool
    note: str


ANSWER = {
    "type": "object",
    "properties": {
        "approved": {"type": "boolean", "title": "Approve the refund"},
        "note": {"type": "string", "title": "Note to the customer"},
    },
    "required": ["approved"],
}


def approve(state: State) -> State:
    answer = interrupt(
        {"question": f"Refund {state['amount']:.2f} EUR to {state['customer']}?", "amount": state["amount"]},
        response_schema=ANSWER,
    )
    return {"approved": answer["approved"], "note": answer.get("note", "")}


def settle(state: State) -> State:
    # A real graph would call the payment service here.
    return {"note": state.get("note") or ("refunded" if state["approved"] else "refused")}


graph = StateGraph(State).add_node(approve).add_node(settle)
graph = graph.add_edge(START, "approve").add_edge("approve", "settle").add_edge("settle", END).compile()
