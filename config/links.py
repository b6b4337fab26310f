"""Signed tokens for personal links (no account). Infrastructure only: the business side
(purpose, expiry, revocation, use) lives in the rows that own the links."""

from django.core import signing


def make_token(*, link_id: int, nonce: str, purpose: str) -> str:
    return signing.dumps({"i": link_id, "n": nonce}, salt=f"link:{purpose}", compress=True)


def read_token(token: str, *, purpose: str) -> dict | None:
    """The payload, or None when the token was not signed by us for this purpose."""
    try:
        payload = signing.loads(token, salt=f"link:{purpose}")
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not {"i", "n"} <= payload.keys():
        return None
    return payload
