from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AccessPoint(_message.Message):
    __slots__ = ["create_time", "name", "network_origin", "policy", "vault"]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    name: str
    network_origin: NetworkOrigin
    policy: str
    vault: str
    def __init__(self, name: _Optional[str] = ..., vault: _Optional[str] = ..., policy: _Optional[str] = ..., network_origin: _Optional[_Union[NetworkOrigin, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAccessPointRequest(_message.Message):
    __slots__ = ["name", "network_origin", "policy", "vault"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NETWORK_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    name: str
    network_origin: NetworkOrigin
    policy: str
    vault: str
    def __init__(self, name: _Optional[str] = ..., vault: _Optional[str] = ..., policy: _Optional[str] = ..., network_origin: _Optional[_Union[NetworkOrigin, _Mapping]] = ...) -> None: ...

class CreateAccessPointResponse(_message.Message):
    __slots__ = ["access_point"]
    ACCESS_POINT_FIELD_NUMBER: _ClassVar[int]
    access_point: AccessPoint
    def __init__(self, access_point: _Optional[_Union[AccessPoint, _Mapping]] = ...) -> None: ...

class DeleteAccessPointRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteAccessPointResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetAccessPointRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetAccessPointResponse(_message.Message):
    __slots__ = ["access_point"]
    ACCESS_POINT_FIELD_NUMBER: _ClassVar[int]
    access_point: AccessPoint
    def __init__(self, access_point: _Optional[_Union[AccessPoint, _Mapping]] = ...) -> None: ...

class ListAccessPointsRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "vault"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    vault: str
    def __init__(self, vault: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAccessPointsResponse(_message.Message):
    __slots__ = ["access_points", "next_page_token"]
    ACCESS_POINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    access_points: _containers.RepeatedCompositeFieldContainer[AccessPoint]
    next_page_token: str
    def __init__(self, access_points: _Optional[_Iterable[_Union[AccessPoint, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class NetworkOrigin(_message.Message):
    __slots__ = ["allowed_cidrs"]
    ALLOWED_CIDRS_FIELD_NUMBER: _ClassVar[int]
    allowed_cidrs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, allowed_cidrs: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateAccessPointPolicyRequest(_message.Message):
    __slots__ = ["name", "policy"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    name: str
    policy: str
    def __init__(self, name: _Optional[str] = ..., policy: _Optional[str] = ...) -> None: ...

class UpdateAccessPointPolicyResponse(_message.Message):
    __slots__ = ["access_point"]
    ACCESS_POINT_FIELD_NUMBER: _ClassVar[int]
    access_point: AccessPoint
    def __init__(self, access_point: _Optional[_Union[AccessPoint, _Mapping]] = ...) -> None: ...
