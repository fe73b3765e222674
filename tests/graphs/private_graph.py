"""`private`: declared input and output schemas around private state, as langchain's
HumanInTheLoopMiddleware keeps `hitl_edited_tool_calls` beside the messages it returns.
Results carry the output schema's keys only; the thread's state holds everything."""

from typing import TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class Input(TypedDict):
    question: str


class Output(TypedDict):
    answer: str


class State(Input, Output):
    hitl_edited_tool_calls: list[str]


def draft(state: State) -> dict:
    return {"answer": state["question"] + "?", "hitl_edited_tool_calls": ["private"]}


def approve(state: State) -> dict:
    verdict = interrupt({"draft": state["answer"]})
    return {"answer": f"{state['answer']} ({verdict})"}


_builder = StateGraph(State, input_schema=Input, output_schema=Output)
_builder.add_node("draft", draft)
_builder.add_node("approve", approve)
_builder.add_edge(START, "draft")
_builder.add_edge("draft", "approve")

graph = _builder.compile()
