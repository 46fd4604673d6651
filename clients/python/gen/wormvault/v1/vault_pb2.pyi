from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from wormvault.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateVaultRequest(_message.Message):
    __slots__ = ["default_encryption", "default_retention", "name"]
    DEFAULT_ENCRYPTION_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_RETENTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    default_encryption: _types_pb2.EncryptionInfo
    default_retention: _types_pb2.DefaultRetention
    name: str
    def __init__(self, name: _Optional[str] = ..., default_retention: _Optional[_Union[_types_pb2.DefaultRetention, _Mapping]] = ..., default_encryption: _Optional[_Union[_types_pb2.EncryptionInfo, _Mapping]] = ...) -> None: ...

class CreateVaultResponse(_message.Message):
    __slots__ = ["vault"]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    vault: _types_pb2.Vault
    def __init__(self, vault: _Optional[_Union[_types_pb2.Vault, _Mapping]] = ...) -> None: ...

class DeleteVaultAccessPolicyRequest(_message.Message):
    __slots__ = ["vault"]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    vault: str
    def __init__(self, vault: _Optional[str] = ...) -> None: ...

class DeleteVaultAccessPolicyResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class DeleteVaultRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteVaultResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetVaultAccessPolicyRequest(_message.Message):
    __slots__ = ["vault"]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    vault: str
    def __init__(self, vault: _Optional[str] = ...) -> None: ...

class GetVaultAccessPolicyResponse(_message.Message):
    __slots__ = ["policy"]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: str
    def __init__(self, policy: _Optional[str] = ...) -> None: ...

class GetVaultRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetVaultResponse(_message.Message):
    __slots__ = ["vault"]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    vault: _types_pb2.Vault
    def __init__(self, vault: _Optional[_Union[_types_pb2.Vault, _Mapping]] = ...) -> None: ...

class ListVaultsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVaultsResponse(_message.Message):
    __slots__ = ["next_page_token", "vaults"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VAULTS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    vaults: _containers.RepeatedCompositeFieldContainer[_types_pb2.Vault]
    def __init__(self, vaults: _Optional[_Iterable[_Union[_types_pb2.Vault, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SetVaultAccessPolicyRequest(_message.Message):
    __slots__ = ["policy", "vault"]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    policy: str
    vault: str
    def __init__(self, vault: _Optional[str] = ..., policy: _Optional[str] = ...) -> None: ...

class SetVaultAccessPolicyResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class UpdateVaultRequest(_message.Message):
    __slots__ = ["update_mask", "vault"]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    update_mask: _field_mask_pb2.FieldMask
    vault: _types_pb2.Vault
    def __init__(self, vault: _Optional[_Union[_types_pb2.Vault, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateVaultResponse(_message.Message):
    __slots__ = ["vault"]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    vault: _types_pb2.Vault
    def __init__(self, vault: _Optional[_Union[_types_pb2.Vault, _Mapping]] = ...) -> None: ...
