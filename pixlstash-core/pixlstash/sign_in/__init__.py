"""Signing people in beyond a password: through the household's or studio's identity provider (``oidc``)."""
