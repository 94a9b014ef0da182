"""Signing key, JWT issuance and access-token verification (RS256, PyJWT)."""
from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..certs import write_private
from ..directory import TENANT_ID, App, User

SIGNING_KEY_FILE = "signing-key.pem"
ACCESS_TOKEN_SECONDS = 75 * 60   # Entra issues 60-90 minutes; MSAL refuses to serve < 5 min left
VERIFY_CACHE_LIMIT = 20_000


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class SigningKey:
    """The sandbox's RSA token-signing key, persisted in the data folder."""

    def __init__(self, data_dir: Path):
        path = Path(data_dir) / SIGNING_KEY_FILE
        if path.exists():
            self.private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        else:
            self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            write_private(path, self.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.public_key = self.private_key.public_key()
        der = self.public_key.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = b64url(hashlib.sha256(der).digest()[:20])

    def jwks(self) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()
        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid, "x5t": self.kid,
                          "n": _int_b64(numbers.n), "e": _int_b64(numbers.e)}]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})


@dataclass
class IssuedToken:
    token: str
    claims: dict[str, Any]
    expires_in: int


class TokenIssuer:
    """Mints access and id tokens for this sandbox's resource (`aud` = graph_base_url)."""

    def __init__(self, key: SigningKey, base_url: str, tenant_id: str = TENANT_ID):
        self.key = key
        self.base_url = base_url
        self.tenant_id = tenant_id
        self.issuer = f"{base_url}/{tenant_id}/v2.0"

    def _common(self, now: int, lifetime: int) -> dict[str, Any]:
        return {"iss": self.issuer, "iat": now, "nbf": now, "exp": now + lifetime,
                "tid": self.tenant_id, "jti": uuid.uuid4().hex, "uti": b64url(uuid.uuid4().bytes)}

    def app_token(self, app: App, roles: list[str]) -> IssuedToken:
        """An app-only access token carrying `roles`."""
        now = int(time.time())
        claims = {"aud": self.base_url, **self._common(now, ACCESS_TOKEN_SECONDS),
                  "oid": _service_principal_id(app), "sub": _service_principal_id(app),
                  "appid": app.client_id, "azp": app.client_id, "app_displayname": app.display_name,
                  "idtyp": "app", "roles": roles, "ver": "1.0"}
        return IssuedToken(self.key.sign(claims), claims, ACCESS_TOKEN_SECONDS)

    def user_token(self, app: App, user: User, scopes: list[str]) -> IssuedToken:
        """A delegated access token carrying `scp`."""
        now = int(time.time())
        claims = {"aud": self.base_url, **self._common(now, ACCESS_TOKEN_SECONDS),
                  "oid": user.id, "sub": _pairwise_sub(user, app), "name": user.display_name,
                  "upn": user.upn, "unique_name": user.upn, "appid": app.client_id, "azp": app.client_id,
                  "app_displayname": app.display_name, "idtyp": "user", "scp": " ".join(scopes), "ver": "1.0"}
        return IssuedToken(self.key.sign(claims), claims, ACCESS_TOKEN_SECONDS)

    def id_token(self, app: App, user: User) -> str:
        now = int(time.time())
        claims = {"aud": app.client_id, **self._common(now, ACCESS_TOKEN_SECONDS),
                  "oid": user.id, "sub": _pairwise_sub(user, app), "name": user.display_name,
                  "preferred_username": user.upn, "ver": "2.0"}
        claims.pop("jti")
        return self.key.sign(claims)


def client_info(user: User, tenant_id: str = TENANT_ID) -> str:
    return b64url(json.dumps({"uid": user.id, "utid": tenant_id}).encode())


def _service_principal_id(app: App) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "sp:" + app.client_id))


def _pairwise_sub(user: User, app: App) -> str:
    return b64url(hashlib.sha256(f"{user.id}:{app.client_id}".encode()).digest()[:32])


class InvalidToken(Exception):
    """Why a bearer token was refused (401 InvalidAuthenticationToken)."""


class TokenVerifier:
    """Checks Graph bearer tokens; successful verifications are cached per token string until exp."""

    def __init__(self, key: SigningKey, base_url: str, is_known_jti, tenant_id: str = TENANT_ID):
        self.key = key
        self.base_url = base_url
        self.issuer = f"{base_url}/{tenant_id}/v2.0"
        self.tenant_id = tenant_id
        self.is_known_jti = is_known_jti
        self._cache: dict[str, dict[str, Any]] = {}

    def verify_header(self, authorization: str | None) -> dict[str, Any]:
        """Claims of the `Authorization: Bearer ...` header's token, or InvalidToken."""
        if not authorization:
            raise InvalidToken("Access token is empty.")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise InvalidToken("Access token is empty or the Authorization header is not a Bearer token.")
        return self.verify(token)

    def verify(self, token: str) -> dict[str, Any]:
        claims = self._cache.get(token)
        if claims is not None:
            if claims["exp"] > time.time():
                return claims
            del self._cache[token]
            raise InvalidToken("Lifetime validation failed, the token is expired.")
        if token.count(".") != 2:
            raise InvalidToken("IDX14100: JWT is not well formed, there are no dots (.). "
                               "The token needs to be in JWS or JWE Compact Serialization Format.")
        try:
            claims = jwt.decode(token, self.key.public_key, algorithms=["RS256"],
                                options={"verify_aud": False, "verify_iss": False,
                                         "require": ["exp", "iat", "aud", "iss"]})
        except jwt.InvalidSignatureError:
            raise InvalidToken("Access token validation failure: the signature does not match this "
                               "sandbox's signing key (foreign token).") from None
        except jwt.ExpiredSignatureError:
            raise InvalidToken("Lifetime validation failed, the token is expired.") from None
        except jwt.ImmatureSignatureError:
            raise InvalidToken("Lifetime validation failed, the token is not yet valid.") from None
        except jwt.MissingRequiredClaimError as e:
            raise InvalidToken(f"Access token validation failure: claim '{e.claim}' is missing.") from None
        except jwt.PyJWTError:
            raise InvalidToken("IDX14100: JWT is not well formed.") from None
        if claims.get("aud") != self.base_url:
            raise InvalidToken(f"Access token validation failure. Invalid audience '{claims.get('aud')}'; "
                               f"expected '{self.base_url}'.")
        if claims.get("iss") != self.issuer or claims.get("tid") != self.tenant_id:
            raise InvalidToken("Access token validation failure. Invalid issuer (foreign token).")
        if "scp" not in claims and "roles" not in claims:
            raise InvalidToken("Access token validation failure: an id token is not an access token.")
        if not self.is_known_jti(claims.get("jti", "")):
            raise InvalidToken("Access token validation failure: this token was not issued by this sandbox.")
        if len(self._cache) >= VERIFY_CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = claims
        return claims
