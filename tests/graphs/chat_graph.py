"""`chat` and `custom`: token streaming and `get_stream_writer()` output, for tests/stream.

`chat`: a fake chat model (langchain-core's GenericFakeChatModel, which streams its reply
word by word) answers, then a `settle` node marks itself (tests/graphs/markers.py): a test
can hold the run there, alive after its last token, to see that tokens left before it ended.

`custom`: one node writes {"progress": i} three times through the stream writer.
"""

import asyncio
from typing import TypedDict

from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import START, MessagesState, StateGraph
from tests.graphs.markers import reached

REPLY = "hello there brave new world"


async def chat(state: MessagesState) -> dict:
    # A fresh model per call: the fake consumes its iterator of replies.
    model = GenericFakeChatModel(messages=iter([AIMessage(content=REPLY)]))
    response = await model.ainvoke(state["messages"])
    return {"messages": [response]}


async def settle(state: MessagesState, config: RunnableConfig) -> dict:
    await reached(config, "settle")
    return {}


_chat = StateGraph(MessagesState)
_chat.add_node("chat", chat)
_chat.add_node("settle", settle)
_chat.add_edge(START, "chat")
_chat.add_edge("chat", "settle")
graph = _chat.compile()


class CustomState(TypedDict):
    some_text: str


async def report(state: CustomState) -> dict:
    write = get_stream_writer()
    for i in range(3):
        write({"progress": i})
        await asyncio.sleep(0.01)
    return {"some_text": state["some_text"] + " (reported)"}


_custom = StateGraph(CustomState)
_custom.add_node("report", report)
_custom.add_edge(START, "report")
custom_graph = _custom.compile()
