"""GraphQL schema, one module per area; `build_schema` assembles them."""
