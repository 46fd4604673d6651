from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
ENCRYPTION_MODE_CUSTOMER: EncryptionMode
ENCRYPTION_MODE_KMS: EncryptionMode
ENCRYPTION_MODE_NONE: EncryptionMode
ENCRYPTION_MODE_SERVICE: EncryptionMode
ENCRYPTION_MODE_UNSPECIFIED: EncryptionMode
RETENTION_MODE_COMPLIANCE: RetentionMode
RETENTION_MODE_GOVERNANCE: RetentionMode
RETENTION_MODE_UNSPECIFIED: RetentionMode

class Archive(_message.Message):
    __slots__ = ["content_type", "create_time", "delete_marker", "encryption", "is_latest", "key", "legal_hold", "legal_holds", "metadata", "retention", "sha256", "size_bytes", "tree_sha256", "vault", "version_id"]
    class MetadataEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELETE_MARKER_FIELD_NUMBER: _ClassVar[int]
    ENCRYPTION_FIELD_NUMBER: _ClassVar[int]
    IS_LATEST_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LEGAL_HOLDS_FIELD_NUMBER: _ClassVar[int]
    LEGAL_HOLD_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    RETENTION_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    TREE_SHA256_FIELD_NUMBER: _ClassVar[int]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    create_time: _timestamp_pb2.Timestamp
    delete_marker: bool
    encryption: EncryptionInfo
    is_latest: bool
    key: str
    legal_hold: bool
    legal_holds: _containers.RepeatedCompositeFieldContainer[LegalHoldEntry]
    metadata: _containers.ScalarMap[str, str]
    retention: Retention
    sha256: bytes
    size_bytes: int
    tree_sha256: bytes
    vault: str
    version_id: str
    def __init__(self, vault: _Optional[str] = ..., key: _Optional[str] = ..., version_id: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[bytes] = ..., tree_sha256: _Optional[bytes] = ..., content_type: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., is_latest: bool = ..., delete_marker: bool = ..., retention: _Optional[_Union[Retention, _Mapping]] = ..., legal_hold: bool = ..., legal_holds: _Optional[_Iterable[_Union[LegalHoldEntry, _Mapping]]] = ..., encryption: _Optional[_Union[EncryptionInfo, _Mapping]] = ...) -> None: ...

class CorsRule(_message.Message):
    __slots__ = ["allowed_headers", "allowed_methods", "allowed_origins", "expose_headers", "max_age_seconds"]
    ALLOWED_HEADERS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_METHODS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_ORIGINS_FIELD_NUMBER: _ClassVar[int]
    EXPOSE_HEADERS_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    allowed_headers: _containers.RepeatedScalarFieldContainer[str]
    allowed_methods: _containers.RepeatedScalarFieldContainer[str]
    allowed_origins: _containers.RepeatedScalarFieldContainer[str]
    expose_headers: _containers.RepeatedScalarFieldContainer[str]
    max_age_seconds: int
    def __init__(self, allowed_origins: _Optional[_Iterable[str]] = ..., allowed_methods: _Optional[_Iterable[str]] = ..., allowed_headers: _Optional[_Iterable[str]] = ..., expose_headers: _Optional[_Iterable[str]] = ..., max_age_seconds: _Optional[int] = ...) -> None: ...

class DefaultRetention(_message.Message):
    __slots__ = ["days", "mode", "years"]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    YEARS_FIELD_NUMBER: _ClassVar[int]
    days: int
    mode: RetentionMode
    years: int
    def __init__(self, mode: _Optional[_Union[RetentionMode, str]] = ..., days: _Optional[int] = ..., years: _Optional[int] = ...) -> None: ...

class EncryptionInfo(_message.Message):
    __slots__ = ["kms_key", "mode"]
    KMS_KEY_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    kms_key: str
    mode: EncryptionMode
    def __init__(self, mode: _Optional[_Union[EncryptionMode, str]] = ..., kms_key: _Optional[str] = ...) -> None: ...

class LegalHoldEntry(_message.Message):
    __slots__ = ["hold_id", "reason", "set_by", "set_time"]
    HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SET_BY_FIELD_NUMBER: _ClassVar[int]
    SET_TIME_FIELD_NUMBER: _ClassVar[int]
    hold_id: str
    reason: str
    set_by: str
    set_time: _timestamp_pb2.Timestamp
    def __init__(self, hold_id: _Optional[str] = ..., reason: _Optional[str] = ..., set_by: _Optional[str] = ..., set_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ["key_id", "payload", "signature"]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    payload: bytes
    signature: bytes
    def __init__(self, payload: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., key_id: _Optional[str] = ...) -> None: ...

class Retention(_message.Message):
    __slots__ = ["from_default", "mode", "retain_until_time"]
    FROM_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    RETAIN_UNTIL_TIME_FIELD_NUMBER: _ClassVar[int]
    from_default: bool
    mode: RetentionMode
    retain_until_time: _timestamp_pb2.Timestamp
    def __init__(self, mode: _Optional[_Union[RetentionMode, str]] = ..., retain_until_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., from_default: bool = ...) -> None: ...

class Vault(_message.Message):
    __slots__ = ["cors", "create_time", "default_encryption", "default_retention", "logging", "max_retention", "mfa_delete", "name"]
    CORS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ENCRYPTION_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_RETENTION_FIELD_NUMBER: _ClassVar[int]
    LOGGING_FIELD_NUMBER: _ClassVar[int]
    MAX_RETENTION_FIELD_NUMBER: _ClassVar[int]
    MFA_DELETE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    cors: VaultCors
    create_time: _timestamp_pb2.Timestamp
    default_encryption: EncryptionInfo
    default_retention: DefaultRetention
    logging: VaultLogging
    max_retention: _duration_pb2.Duration
    mfa_delete: bool
    name: str
    def __init__(self, name: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., default_retention: _Optional[_Union[DefaultRetention, _Mapping]] = ..., max_retention: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., mfa_delete: bool = ..., default_encryption: _Optional[_Union[EncryptionInfo, _Mapping]] = ..., logging: _Optional[_Union[VaultLogging, _Mapping]] = ..., cors: _Optional[_Union[VaultCors, _Mapping]] = ...) -> None: ...

class VaultCors(_message.Message):
    __slots__ = ["rules"]
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[CorsRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[CorsRule, _Mapping]]] = ...) -> None: ...

class VaultLogging(_message.Message):
    __slots__ = ["prefix", "target_vault"]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    TARGET_VAULT_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    target_vault: str
    def __init__(self, target_vault: _Optional[str] = ..., prefix: _Optional[str] = ...) -> None: ...

class RetentionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class EncryptionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
