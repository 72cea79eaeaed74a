"""Step failures that no retry can fix, raised so that Dagster does not retry them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Failure
from pymongo.errors import ConfigurationError, OperationFailure

# MongoDB error codes of a rejected login (AuthenticationFailed) and of a
# user without the role a command needs (Unauthorized).
_MONGO_ACCESS_DENIED_CODES = frozenset({18, 13})


@contextmanager
def configuration_failures() -> Iterator[None]:
    """Raise ``Failure(allow_retries=False)`` for a configuration error raised inside the block.

    A configuration error is a ValueError or TypeError, which the resources
    raise for a missing or invalid setting, a pymongo ConfigurationError, or a
    MongoDB login or permission rejection. Such a step fails at once with the
    error's message. Any other error, such as a MongoDB server that does not
    respond, passes through to the step's retry policy.

    Wrap only the code that builds clients from resources, so that a bug in
    the step's own code that raises ValueError is not reported as a setting.
    """
    try:
        yield
    except (ValueError, TypeError, ConfigurationError) as error:
        raise _no_retry(str(error), error) from error
    except OperationFailure as error:
        if error.code not in _MONGO_ACCESS_DENIED_CODES:
            raise
        message = (
            f"MongoDB rejected the login or the command: {error}. "
            "Fix the user or password in MONGO_URI, or grant the user the readWrite role on the database"
        )
        raise _no_retry(message, error) from error


def _no_retry(description: str, error: Exception) -> Failure:
    return Failure(
        description=description,
        metadata={"error": type(error).__name__, "retried": False},
        allow_retries=False,
    )
