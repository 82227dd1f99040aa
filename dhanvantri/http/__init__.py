"""What every HTTP area shares: the error shape, the caller, permissions, endpoints, OpenAPI.

``errors`` (exceptions with a stable UPPER_SNAKE code and one status each), ``principal`` (roles
and the authenticated caller), ``permissions`` (which role may do what), ``auth`` (bearer tokens
to a principal through the authenticator the back office installs), ``endpoint`` (one
``Endpoint`` list per area drives routing, validation, the permission check and the OpenAPI
document), ``openapi`` and ``middleware`` (request ids, errors to JSON). Nothing here imports
another area.
"""
