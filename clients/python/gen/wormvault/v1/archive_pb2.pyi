from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from wormvault.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ArchiveHeader(_message.Message):
    __slots__ = ["content_type", "encryption", "expected_sha256", "key", "legal_hold", "metadata", "retention", "vault"]
    class MetadataEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHA256_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LEGAL_HOLD_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    encryption: _types_pb2.EncryptionInfo
    expected_sha256: bytes
    key: str
    legal_hold: bool
    metadata: _containers.ScalarMap[str, str]
    retention: _types_pb2.Retention
    vault: str
    def __init__(self, vault: _Optional[str] = ..., key: _Optional[str] = ..., content_type: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., expected_sha256: _Optional[bytes] = ..., retention: _Optional[_Union[_types_pb2.Retention, _Mapping]] = ..., legal_hold: bool = ..., encryption: _Optional[_Union[_types_pb2.EncryptionInfo, _Mapping]] = ...) -> None: ...

class DeleteArchiveRequest(_message.Message):
    __slots__ = ["bypass_governance_retention", "key", "vault", "version_id"]
    BYPASS_GOVERNANCE_RETENTION_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    bypass_governance_retention: bool
    key: str
    vault: str
    version_id: str
    def __init__(self, vault: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ..., bypass_governance_retention: bool = ...) -> None: ...

class DeleteArchiveResponse(_message.Message):
    __slots__ = ["delete_marker", "version_id"]
    DELETE_MARKER_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    delete_marker: bool
    version_id: str
    def __init__(self, version_id: _Optional[str] = ..., delete_marker: bool = ...) -> None: ...

class DownloadArchiveRequest(_message.Message):
    __slots__ = ["if_range_sha256", "key", "length", "offset", "vault", "version_id"]
    IF_RANGE_SHA256_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    if_range_sha256: bytes
    key: str
    length: int
    offset: int
    vault: str
    version_id: str
    def __init__(self, vault: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ..., if_range_sha256: _Optional[bytes] = ...) -> None: ...

class DownloadArchiveResponse(_message.Message):
    __slots__ = ["archive", "chunk"]
    ARCHIVE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    archive: _types_pb2.Archive
    chunk: bytes
    def __init__(self, archive: _Optional[_Union[_types_pb2.Archive, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ExplainProtectionRequest(_message.Message):
    __slots__ = ["key", "vault", "version_id"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    key: str
    vault: str
    version_id: str
    def __init__(self, vault: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ...) -> None: ...

class ExplainProtectionResponse(_message.Message):
    __slots__ = ["deletable", "protections", "version_id"]
    DELETABLE_FIELD_NUMBER: _ClassVar[int]
    PROTECTIONS_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    deletable: bool
    protections: _containers.RepeatedCompositeFieldContainer[Protection]
    version_id: str
    def __init__(self, version_id: _Optional[str] = ..., protections: _Optional[_Iterable[_Union[Protection, _Mapping]]] = ..., deletable: bool = ...) -> None: ...

class GetArchiveRequest(_message.Message):
    __slots__ = ["key", "vault", "version_id"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    key: str
    vault: str
    version_id: str
    def __init__(self, vault: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ...) -> None: ...

class GetArchiveResponse(_message.Message):
    __slots__ = ["archive"]
    ARCHIVE_FIELD_NUMBER: _ClassVar[int]
    archive: _types_pb2.Archive
    def __init__(self, archive: _Optional[_Union[_types_pb2.Archive, _Mapping]] = ...) -> None: ...

class GetLegalHoldRequest(_message.Message):
    __slots__ = ["key", "vault", "version_id"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    key: str
    vault: str
    version_id: str
    def __init__(self, vault: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ...) -> None: ...

class GetLegalHoldResponse(_message.Message):
    __slots__ = ["holds", "legal_hold", "version_id"]
    HOLDS_FIELD_NUMBER: _ClassVar[int]
    LEGAL_HOLD_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    holds: _containers.RepeatedCompositeFieldContainer[_types_pb2.LegalHoldEntry]
    legal_hold: bool
    version_id: str
    def __init__(self, legal_hold: bool = ..., holds: _Optional[_Iterable[_Union[_types_pb2.LegalHoldEntry, _Mapping]]] = ..., version_id: _Optional[str] = ...) -> None: ...

class GetRetentionRequest(_message.Message):
    __slots__ = ["key", "vault", "version_id"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    key: str
    vault: str
    version_id: str
    def __init__(self, vault: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ...) -> None: ...

class GetRetentionResponse(_message.Message):
    __slots__ = ["retention", "version_id"]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    retention: _types_pb2.Retention
    version_id: str
    def __init__(self, retention: _Optional[_Union[_types_pb2.Retention, _Mapping]] = ..., version_id: _Optional[str] = ...) -> None: ...

class ListArchivesRequest(_message.Message):
    __slots__ = ["all_versions", "page_size", "page_token", "prefix", "vault"]
    ALL_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    all_versions: bool
    page_size: int
    page_token: str
    prefix: str
    vault: str
    def __init__(self, vault: _Optional[str] = ..., prefix: _Optional[str] = ..., all_versions: bool = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListArchivesResponse(_message.Message):
    __slots__ = ["archives", "next_page_token"]
    ARCHIVES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    archives: _containers.RepeatedCompositeFieldContainer[_types_pb2.Archive]
    next_page_token: str
    def __init__(self, archives: _Optional[_Iterable[_Union[_types_pb2.Archive, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Protection(_message.Message):
    __slots__ = ["description", "end_time", "from_default", "hold_id", "kind", "retention_mode", "statement_sid"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    FROM_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RETENTION_MODE_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_SID_FIELD_NUMBER: _ClassVar[int]
    description: str
    end_time: _timestamp_pb2.Timestamp
    from_default: bool
    hold_id: str
    kind: str
    retention_mode: _types_pb2.RetentionMode
    statement_sid: str
    def __init__(self, kind: _Optional[str] = ..., description: _Optional[str] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., retention_mode: _Optional[_Union[_types_pb2.RetentionMode, str]] = ..., from_default: bool = ..., hold_id: _Optional[str] = ..., statement_sid: _Optional[str] = ...) -> None: ...

class SetLegalHoldRequest(_message.Message):
    __slots__ = ["hold_id", "key", "legal_hold", "reason", "vault", "version_id"]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LEGAL_HOLD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    key: str
    legal_hold: bool
    reason: str
    vault: str
    version_id: str
    def __init__(self, vault: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ..., legal_hold: bool = ..., hold_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SetLegalHoldResponse(_message.Message):
    __slots__ = ["archive", "receipt"]
    ARCHIVE_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    archive: _types_pb2.Archive
    receipt: _types_pb2.Receipt
    def __init__(self, archive: _Optional[_Union[_types_pb2.Archive, _Mapping]] = ..., receipt: _Optional[_Union[_types_pb2.Receipt, _Mapping]] = ...) -> None: ...

class SetRetentionRequest(_message.Message):
    __slots__ = ["bypass_governance_retention", "key", "retention", "vault", "version_id"]
    BYPASS_GOVERNANCE_RETENTION_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    bypass_governance_retention: bool
    key: str
    retention: _types_pb2.Retention
    vault: str
    version_id: str
    def __init__(self, vault: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ..., retention: _Optional[_Union[_types_pb2.Retention, _Mapping]] = ..., bypass_governance_retention: bool = ...) -> None: ...

class SetRetentionResponse(_message.Message):
    __slots__ = ["archive", "receipt"]
    ARCHIVE_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    archive: _types_pb2.Archive
    receipt: _types_pb2.Receipt
    def __init__(self, archive: _Optional[_Union[_types_pb2.Archive, _Mapping]] = ..., receipt: _Optional[_Union[_types_pb2.Receipt, _Mapping]] = ...) -> None: ...

class UploadArchiveRequest(_message.Message):
    __slots__ = ["chunk", "header"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    chunk: bytes
    header: ArchiveHeader
    def __init__(self, header: _Optional[_Union[ArchiveHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class UploadArchiveResponse(_message.Message):
    __slots__ = ["archive", "receipt"]
    ARCHIVE_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    archive: _types_pb2.Archive
    receipt: _types_pb2.Receipt
    def __init__(self, archive: _Optional[_Union[_types_pb2.Archive, _Mapping]] = ..., receipt: _Optional[_Union[_types_pb2.Receipt, _Mapping]] = ...) -> None: ...
