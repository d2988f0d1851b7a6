"""Service: the query engine (retrieve -> rescore -> answer) and the FastAPI app around it."""
