"""Signed tokens for personal links (no account). Infrastructure only: the business side
(purpose, expiry, revocation, use) lives in the rows that own the links.

A token is the HMAC signature (SECRET_KEY, a salt per purpose) of the row's id and nonce:
it cannot be guessed or altered, a token made for one purpose is unknown to every other, and
changing the row's nonce revokes it. It carries no date — the row says until when the link
serves — so the same link always has the same address.
"""

from django.core import signing

# Longer than any token we make (about 80 characters): anything beyond is not ours, and is
# refused before the signature is computed over it.
MAX_TOKEN_LENGTH = 200


def _signer(purpose: str) -> signing.Signer:
    return signing.Signer(salt=f"link:{purpose}")


def make_token(*, link_id: int, nonce: str, purpose: str) -> str:
    return _signer(purpose).sign_object({"i": link_id, "n": nonce}, compress=True)


def read_token(token: str, *, purpose: str) -> dict | None:
    """The payload, or None when the token was not signed by us for this purpose."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload = _signer(purpose).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(payload, dict) or not {"i", "n"} <= payload.keys():
        return None
    if not isinstance(payload["i"], int) or isinstance(payload["i"], bool) \
            or not isinstance(payload["n"], str):
        return None
    return payload
