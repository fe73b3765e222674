"""The standard shapes of a request for a human decision, checked before an answer is taken.

Two shapes are recognised from the interrupt's value:

- langchain's HumanInTheLoopMiddleware (batched mode): {"action_requests": [...],
  "review_configs": [...]}, answered with {"decisions": [...]}: one decision per action
  request, each of a type that action's review config allows (the decision types are the
  installed langchain's), an edit carrying {"name", "args"} whose args are valid against the
  review config's `args_schema` when it has one. (Its per-call mode states its own
  `response_schema`, which is checked like any other.)
- Agent Inbox's HumanInterrupt: [{"action_request": {...}, "config": {"allow_accept", ...}}],
  answered with a list of HumanResponse: {"type": "accept"|"edit"|"response"|"ignore",
  "args": ...}, each of a type the request's config allows.

A wrong answer is refused (422) saying which decision is wrong, whichever route it came
through, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, get_args

import jsonschema

from waypost.errors import InvalidInput

# What langchain's middleware accepts today; the installed langchain's own list wins.
_DEFAULT_DECISION_TYPES = ("approve", "edit", "reject", "respond")
INBOX_TYPES = {"accept": "allow_accept", "edit": "allow_edit", "response": "allow_respond", "ignore": "allow_ignore"}


def decision_types() -> tuple[str, ...]:
    try:
        from langchain.agents.middleware.human_in_the_loop import DecisionType
    except ImportError:
        return _DEFAULT_DECISION_TYPES
    return tuple(get_args(DecisionType)) or _DEFAULT_DECISION_TYPES


def check_decision(request: Any, answer: Any) -> None:
    """Refuse an answer that does not fit the standard request it answers (if it is one)."""
    if is_hitl_request(request):
        _check_hitl(request, answer)
    elif is_inbox_request(request):
        _check_inbox(request, answer)


def is_hitl_request(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and isinstance(value.get("action_requests"), list)
        and isinstance(value.get("review_configs"), list)
    )


def is_inbox_request(value: Any) -> bool:
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(
        isinstance(i, Mapping) and isinstance(i.get("action_request"), Mapping) and isinstance(i.get("config"), Mapping)
        for i in items
    )


def _check_hitl(request: Mapping[str, Any], answer: Any) -> None:
    actions: list[Any] = request["action_requests"]
    configs = {c.get("action_name"): c for c in request["review_configs"] if isinstance(c, Mapping)}
    if not isinstance(answer, Mapping) or not isinstance(answer.get("decisions"), list):
        raise InvalidInput('answer with {"decisions": [...]}, one decision per action request')
    decisions = answer["decisions"]
    if len(decisions) != len(actions):
        raise InvalidInput(f"{len(actions)} action request(s) need {len(actions)} decision(s), got {len(decisions)}")
    known = decision_types()
    for i, (action, decision) in enumerate(zip(actions, decisions, strict=True)):
        name = action.get("name") if isinstance(action, Mapping) else None
        where = f"decision {i} (for {name!r})"
        if not isinstance(decision, Mapping) or decision.get("type") not in known:
            raise InvalidInput(f"{where}: type must be one of {', '.join(known)}")
        kind = decision["type"]
        allowed = (configs.get(name) or {}).get("allowed_decisions") or []
        if kind not in allowed:
            raise InvalidInput(f"{where}: {kind!r} is not allowed here; allowed: {', '.join(allowed) or 'none'}")
        if kind == "edit":
            _check_edit(where, decision.get("edited_action"), (configs.get(name) or {}).get("args_schema"))
        elif kind == "respond" and not isinstance(decision.get("message"), str):
            raise InvalidInput(f"{where}: a respond decision needs a string message")
        elif kind == "reject" and "message" in decision and not isinstance(decision["message"], str):
            raise InvalidInput(f"{where}: a reject message must be a string")


def _check_edit(where: str, edited: Any, args_schema: Any) -> None:
    if not isinstance(edited, Mapping) or not isinstance(edited.get("name"), str):
        raise InvalidInput(f'{where}: an edit needs edited_action {{"name": str, "args": object}}')
    if not isinstance(edited.get("args"), Mapping):
        raise InvalidInput(f"{where}: edited_action.args must be an object")
    if isinstance(args_schema, Mapping) and args_schema:
        try:
            jsonschema.validate(edited["args"], args_schema)
        except jsonschema.ValidationError as exc:
            path = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise InvalidInput(
                f"{where}: edited args violate the action's args_schema at {path}: {exc.message}"
            ) from None
        except jsonschema.SchemaError:
            pass  # the graph's schema is broken, not the answer: langgraph decides


def _check_inbox(request: Any, answer: Any) -> None:
    requests: Sequence[Any] = request if isinstance(request, list) else [request]
    responses = answer if isinstance(answer, list) else [answer]
    if len(responses) != len(requests):
        raise InvalidInput(f"{len(requests)} request(s) need {len(requests)} response(s), got {len(responses)}")
    for i, (req, resp) in enumerate(zip(requests, responses, strict=True)):
        action = req["action_request"].get("action")
        where = f"response {i} (for {action!r})"
        if not isinstance(resp, Mapping) or resp.get("type") not in INBOX_TYPES:
            raise InvalidInput(f"{where}: type must be one of {', '.join(INBOX_TYPES)}")
        kind = resp["type"]
        if not req["config"].get(INBOX_TYPES[kind]):
            allowed = [t for t, flag in INBOX_TYPES.items() if req["config"].get(flag)]
            raise InvalidInput(f"{where}: {kind!r} is not allowed here; allowed: {', '.join(allowed) or 'none'}")
        args = resp.get("args")
        if kind == "response" and not isinstance(args, str):
            raise InvalidInput(f"{where}: a response needs its text in args")
        if kind == "edit" and not (
            isinstance(args, Mapping) and isinstance(args.get("action"), str) and isinstance(args.get("args"), Mapping)
        ):
            raise InvalidInput(f'{where}: an edit needs args {{"action": str, "args": object}}')
