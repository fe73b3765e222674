"""The resource-owner example of the LangGraph docs' custom authentication tutorial, as a
user would bring it: bearer tokens, every resource private to its creator."""

from langgraph_sdk import Auth

auth = Auth()

VALID_TOKENS = {
    "user1-token": {"id": "user1", "name": "Alice"},
    "user2-token": {"id": "user2", "name": "Bob"},
}


@auth.authenticate
async def get_current_user(authorization: str | None) -> Auth.types.MinimalUserDict:
    assert authorization
    scheme, token = authorization.split()
    assert scheme.lower() == "bearer"
    if token not in VALID_TOKENS:
        raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
    user_data = VALID_TOKENS[token]
    return {"identity": user_data["id"], "display_name": user_data["name"], "permissions": ["threads:write"]}


@auth.on
async def add_owner(ctx: Auth.types.AuthContext, value: dict):
    """Make resources private to their creator using resource metadata."""
    filters = {"owner": ctx.user.identity}
    metadata = value.setdefault("metadata", {})
    metadata.update(filters)
    return filters
