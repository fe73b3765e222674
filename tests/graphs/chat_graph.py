"""`chat` and `custom`: token streaming and `get_stream_writer()` output, for tests/stream.

`chat`: a fake chat model (langchain-core's GenericFakeChatModel, which streams its reply
word by word) answers, then an optional `settle` pause (`delay` from the input, default 0)
keeps the run alive a moment so a test can see that tokens left before the run ended.

`custom`: one node writes {"progress": i} three times through the stream writer.
"""

import asyncio
from typing import NotRequired, TypedDict

from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.config import get_stream_writer
from langgraph.graph import START, MessagesState, StateGraph

REPLY = "hello there brave new world"


class ChatState(MessagesState):
    delay: NotRequired[float]


async def chat(state: ChatState) -> dict:
    # A fresh model per call: the fake consumes its iterator of replies.
    model = GenericFakeChatModel(messages=iter([AIMessage(content=REPLY)]))
    response = await model.ainvoke(state["messages"])
    return {"messages": [response]}


async def settle(state: ChatState) -> dict:
    await asyncio.sleep(state.get("delay", 0) or 0)
    return {}


_chat = StateGraph(ChatState)
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
