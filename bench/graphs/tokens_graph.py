"""A chat node whose fake model streams `words` tokens: for measuring token streaming."""

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph


class State(MessagesState):
    words: int


async def speak(state: State) -> dict:
    text = " ".join(f"w{i}" for i in range(state.get("words", 1000)))
    model = GenericFakeChatModel(messages=iter([AIMessage(content=text)]))
    return {"messages": [await model.ainvoke(state["messages"])]}


builder = StateGraph(State)
builder.add_node("speak", speak)
builder.add_edge(START, "speak")
graph = builder.compile()
