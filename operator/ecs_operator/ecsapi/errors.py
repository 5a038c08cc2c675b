"""ECS's exceptions, one class per error shape of botocore's model (plus the protocol's own errors).

An operation raises one of these; the endpoint writes it as `{"__type": <class name>, "message": …}` with
the `X-Amzn-ErrorType` header and its HTTP status (400 unless said otherwise); `kubectl ecs` prints it as
the AWS CLI does: `An error occurred (<name>) when calling the <Operation> operation: <message>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecs_operator.naming import is_ecs_name

if TYPE_CHECKING:
    from ecs_operator.resources import SpecError


class EcsError(Exception):
    """An error an ECS client reads: its name is the class name, `message` is ECS's wording."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def code(self) -> str:
        return type(self).__name__


# Error shapes of the supported operations (a unit test checks this list against awsmodel.ecs.ERRORS).
class AccessDeniedException(EcsError):
    pass


class BlockedException(EcsError):
    pass


class ClientException(EcsError):
    pass


class ClusterContainsCapacityProviderException(EcsError):
    pass


class ClusterContainsContainerInstancesException(EcsError):
    pass


class ClusterContainsServicesException(EcsError):
    pass


class ClusterContainsTasksException(EcsError):
    pass


class ClusterNotFoundException(EcsError):
    pass


class ConflictException(EcsError):
    pass


class InvalidParameterException(EcsError):
    pass


class LimitExceededException(EcsError):
    pass


class NamespaceNotFoundException(EcsError):
    pass


class PlatformTaskDefinitionIncompatibilityException(EcsError):
    pass


class PlatformUnknownException(EcsError):
    pass


class ResourceNotFoundException(EcsError):
    pass


class ResourceInUseException(EcsError):
    pass


class ServerException(EcsError):
    status = 500


class ServiceNotActiveException(EcsError):
    pass


class ServiceNotFoundException(EcsError):
    pass


class UnsupportedFeatureException(EcsError):
    pass


class UpdateInProgressException(EcsError):
    pass


# The protocol's errors, common to every AWS JSON service (botocore maps them by name too).
class SerializationException(EcsError):
    pass


class UnknownOperationException(EcsError):
    pass


class MissingAuthenticationTokenException(EcsError):
    status = 403


class IncompleteSignatureException(EcsError):
    pass


class InvalidSignatureException(EcsError):
    status = 403


class UnrecognizedClientException(EcsError):
    status = 403


class ExpiredTokenException(EcsError):
    """A session token (or a web identity token) past its expiration."""


class RequestEntityTooLargeException(EcsError):
    status = 413


class ServiceUnavailableException(EcsError):
    status = 503


def named(code: str) -> type[EcsError]:
    """The class of an error name (for tests and the CLI)."""
    found = globals().get(code)
    if isinstance(found, type) and issubclass(found, EcsError):
        return found
    raise KeyError(code)


def check_name(member: str, value: str, limit: int = 255) -> None:
    """ECS's name rule (up to 255 letters, numbers, hyphens and underscores)."""
    if not is_ecs_name(value) or len(value) > limit:
        raise InvalidParameterException(
            f"{member}: {value!r} is not a valid name "
            f"(up to {limit} letters, numbers, hyphens and underscores)"
        )


def refusal(error: SpecError, usual: type[EcsError]) -> EcsError:
    """A spec the models refuse, as the ECS exception the operation answers with (every broken rule)."""
    exception = named(error.ecs_exception) if error.ecs_exception else usual
    return exception("; ".join(str(e) for e in error.errors))
