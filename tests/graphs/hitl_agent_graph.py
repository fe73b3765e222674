"""`hitl_agent`: an agent built with langchain's own `create_agent` and its
HumanInTheLoopMiddleware, driven by a scripted chat model (no network): the model asks for
two tool calls, a person reviews them (one interrupt with two action requests), then the
model answers. `hitl_agent_per_call` is the same agent in the middleware's per-call mode."""

from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import HumanInTheLoopMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import tool


@tool
def send_email(to: str, subject: str) -> str:
    """Send an email."""
    return f"sent {subject!r} to {to}"


@tool
def lookup(query: str) -> str:
    """Look something up."""
    return f"found {query}"


class ScriptedModel(BaseChatModel):
    """Asks for the two tool calls until it has seen a tool result, then answers."""

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        if any(isinstance(m, ToolMessage) for m in messages):
            reply = AIMessage(content="all done")
        else:
            reply = AIMessage(
                content="",
                tool_calls=[
                    {"name": "send_email", "args": {"to": "ann@example.com", "subject": "hi"}, "id": "call_email"},
                    {"name": "lookup", "args": {"query": "weather"}, "id": "call_lookup"},
                ],
            )
        return ChatResult(generations=[ChatGeneration(message=reply)])

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> "ScriptedModel":
        return self


INTERRUPT_ON = {
    "send_email": {"allowed_decisions": ["approve", "edit", "reject"]},
    "lookup": {"allowed_decisions": ["approve", "respond"]},
}

graph = create_agent(
    ScriptedModel(), tools=[send_email, lookup], middleware=[HumanInTheLoopMiddleware(interrupt_on=INTERRUPT_ON)]
)
per_call_graph = create_agent(
    ScriptedModel(),
    tools=[send_email, lookup],
    middleware=[HumanInTheLoopMiddleware(interrupt_on=INTERRUPT_ON, interrupt_mode="per_call")],
)
