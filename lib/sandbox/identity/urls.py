"""The identity platform's routes, on one screen."""
from starlette.routing import Route

from . import responses

url_paths = [
    Route("/{tenant}/v2.0/.well-known/openid-configuration", responses.openid_configuration, methods=["GET"]),
    Route("/{tenant}/discovery/v2.0/keys", responses.jwks, methods=["GET"]),
    Route("/{tenant}/oauth2/v2.0/token", responses.token, methods=["POST"]),
    Route("/{tenant}/oauth2/v2.0/devicecode", responses.devicecode, methods=["POST"]),
    Route("/{tenant}/oauth2/v2.0/authorize", responses.authorize, methods=["GET"]),
    Route("/devicelogin", responses.devicelogin, methods=["GET", "POST"]),
]
