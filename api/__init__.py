"""The HTTP edge: Falcon resources, pydantic models, one error mapping, the OpenAPI document."""
