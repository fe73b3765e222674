"""The worker: claims queued runs and drives each graph with langgraph's checkpointer."""
