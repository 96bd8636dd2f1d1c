"""The GraphQL API: types, resolvers, auth, the Starlette app and the command line."""
