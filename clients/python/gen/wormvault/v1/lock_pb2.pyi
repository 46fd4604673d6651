from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
VAULT_LOCK_STATE_IN_PROGRESS: VaultLockState
VAULT_LOCK_STATE_LOCKED: VaultLockState
VAULT_LOCK_STATE_UNSPECIFIED: VaultLockState

class AbortVaultLockRequest(_message.Message):
    __slots__ = ["vault"]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    vault: str
    def __init__(self, vault: _Optional[str] = ...) -> None: ...

class AbortVaultLockResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class CompleteVaultLockRequest(_message.Message):
    __slots__ = ["lock_id", "vault"]
    LOCK_ID_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    lock_id: str
    vault: str
    def __init__(self, vault: _Optional[str] = ..., lock_id: _Optional[str] = ...) -> None: ...

class CompleteVaultLockResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetVaultLockRequest(_message.Message):
    __slots__ = ["vault"]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    vault: str
    def __init__(self, vault: _Optional[str] = ...) -> None: ...

class GetVaultLockResponse(_message.Message):
    __slots__ = ["create_time", "expire_time", "policy", "state"]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    policy: str
    state: VaultLockState
    def __init__(self, policy: _Optional[str] = ..., state: _Optional[_Union[VaultLockState, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InitiateVaultLockRequest(_message.Message):
    __slots__ = ["policy", "vault"]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    policy: str
    vault: str
    def __init__(self, vault: _Optional[str] = ..., policy: _Optional[str] = ...) -> None: ...

class InitiateVaultLockResponse(_message.Message):
    __slots__ = ["expire_time", "lock_id"]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    LOCK_ID_FIELD_NUMBER: _ClassVar[int]
    expire_time: _timestamp_pb2.Timestamp
    lock_id: str
    def __init__(self, lock_id: _Optional[str] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VaultLockState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
