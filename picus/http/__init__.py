"""The HTTP edge: how requests reach the handlers and how every error is answered.

The server protocol (heads, timeouts), Connexion's fast path (validators built once,
handlers bound directly), the strict body validator, the route guard, problem answers,
API-key checks, ETags and the JSON shape of answers. Nothing here knows SQL.
"""
