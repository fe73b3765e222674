"""Who is asking, and what they may see: authentication (a langgraph_sdk `Auth` module from
langgraph.json, or built-in API keys), authorization handlers, and the metadata filters they
return."""
