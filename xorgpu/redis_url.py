"""Redis URLs: read any form a user writes, hand one canonical form on, never show a secret.

A password may come in the URL's userinfo (`redis://:PASSWORD@host`, `redis://user:PASSWORD@host`,
percent-encoded or not, even with `/ # ? @` in it), as `?password=`, from
XORGPU_REDIS_PASSWORD, or from the file XORGPU_REDIS_PASSWORD_FILE names. `canonical` turns all of these into one URL with the userinfo
percent-encoded and no password in the query, which redis-py and Celery's kombu both read
the same way. `redact` hides the secrets of every URL in a text; every message that can
show a URL goes through it.

TLS (`rediss://`): the certificate files go in the URL as `ssl_ca_certs`, `ssl_certfile`
and `ssl_keyfile` parameters, or come from XORGPU_REDIS_CA / _CERT / _KEY, and the server's
certificate is verified (`ssl_cert_reqs=required`) unless the URL says otherwise; redis-py,
kombu (the broker) and Celery's result backend all read those parameters from the URL.
"""

from __future__ import annotations

import os
from urllib.parse import quote, unquote, urlsplit

from .config import ConfigError
from .errors import redact
from .settings import REDIS_TLS_FILES_ENV, redis_password

SCHEMES = ("redis", "rediss")
# the parameters a Redis URL may carry: what redis-py reads from a URL, and the TLS files
URL_PARAMETERS = frozenset({
    "db", "health_check_interval", "max_connections", "protocol", "retry_on_timeout", "socket_connect_timeout",
    "socket_keepalive", "socket_timeout", "timeout", "client_name", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile",
    "ssl_cert_reqs", "ssl_ca_path", "ssl_check_hostname", "ssl_min_version",
})


def canonical(url: str, password: str | None = None) -> str:
    """The URL in the one form passed to redis-py and Celery; ConfigError (redacted) if it
    is not a Redis URL. password: used when the URL has none (default: $XORGPU_REDIS_PASSWORD, or
    the file $XORGPU_REDIS_PASSWORD_FILE names)."""
    if not isinstance(url, str) or not url.strip():
        raise ConfigError("the Redis URL is empty")
    url = url.strip()
    shown = redact(url)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise ConfigError(f"bad Redis URL {shown!r}: it must start with redis:// or rediss://")
    problem = "no host"
    for reading in _readings(rest):
        try:
            parts = urlsplit(f"{scheme}://{reading}")
            host, port = parts.hostname, parts.port
        except ValueError as error:
            problem = redact(str(error))
            continue
        db = parts.path.strip("/")
        if not host or "@" in parts.path:
            continue
        if db and not (db.isascii() and db.isdigit() and int(db) < 2**31):
            problem = "the database after the host must be a number"
            continue
        break
    else:
        raise ConfigError(f"bad Redis URL {shown!r}: {problem}")
    user, secret = unquote(parts.username or ""), unquote(parts.password or "")
    if parts.fragment and not parts.query:
        raise ConfigError(f"bad Redis URL {shown!r}: it has a '#' part")
    # A Redis URL has no fragment: a '#' after the '?' belongs to a query value (a password)
    query_text = parts.query + (f"#{parts.fragment}" if parts.fragment else "")
    query = []
    for item in filter(None, query_text.split("&")):
        name, _, value = (unquote(part) for part in item.partition("="))
        if name == "password":
            secret = secret or value
        elif name == "username":
            user = user or value
        elif name not in URL_PARAMETERS:
            raise ConfigError(f"bad Redis URL {shown!r}: unknown parameter {name[:40]!r} (known: "
                              f"{', '.join(sorted(URL_PARAMETERS))})")
        else:
            _check_value(name, value, shown)
            query.append(f"{quote(name, safe='')}={quote(value, safe='')}")
    if scheme.lower() == "rediss":
        query += _tls_parameters({item.partition("=")[0] for item in query}, shown)
    secret = secret or (password if password is not None else redis_password())
    auth = ""
    if user or secret:
        auth = quote(user, safe="") + (":" + quote(secret, safe="") if secret else "") + "@"
    netloc = f"[{host}]" if ":" in host else host
    return (f"{scheme.lower()}://{auth}{netloc}:{port or 6379}/{int(db or 0)}"
            + (f"?{'&'.join(query)}" if query else ""))


def _check_value(name: str, value: str, shown: str) -> None:
    """A URL parameter's value as redis-py will read it: a number where it wants one."""
    from redis.connection import URL_QUERY_ARGUMENT_PARSERS  # noqa: PLC0415

    parse = URL_QUERY_ARGUMENT_PARSERS.get(name)
    try:
        if parse is not None and value:
            parse(value)
    except (TypeError, ValueError):
        raise ConfigError(f"bad Redis URL {shown!r}: {name}={value[:20]!r} is not a value redis-py reads") from None


def _tls_parameters(given: set[str], shown: str) -> list[str]:
    """The TLS parameters a rediss:// URL lacks: certificate files from the environment, and
    verification of the server's certificate."""
    added = []
    for name, variable in REDIS_TLS_FILES_ENV.items():
        path = os.environ.get(variable, "").strip()
        if name not in given and path:
            added.append(f"{name}={quote(path, safe='')}")
            given.add(name)
    for item in added:
        path = unquote(item.partition("=")[2])
        if not os.path.isfile(path):
            raise ConfigError(f"bad Redis URL {shown!r}: {item.partition('=')[0]} file {path} does not exist")
    if "ssl_cert_reqs" not in given:
        added.append("ssl_cert_reqs=required")
    return added


def _readings(rest: str) -> list[str]:
    """Ways to read what follows `scheme://`: as urlsplit reads it, then with the userinfo
    running to the last '@', so a password may hold '/', '#', '?' and '@' unencoded."""
    readings = [rest]
    if "@" in rest:
        userinfo, _, host = rest.rpartition("@")
        readings.append(quote(userinfo, safe=":%") + "@" + host)
    return readings
