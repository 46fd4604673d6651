from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

CLOCK_STATE_TRUSTED: ClockState
CLOCK_STATE_UNSPECIFIED: ClockState
CLOCK_STATE_UNTRUSTED: ClockState
DESCRIPTOR: _descriptor.FileDescriptor

class AcknowledgeClockRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class AcknowledgeClockResponse(_message.Message):
    __slots__ = ["status"]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: GetClockStatusResponse
    def __init__(self, status: _Optional[_Union[GetClockStatusResponse, _Mapping]] = ...) -> None: ...

class DriveStatus(_message.Message):
    __slots__ = ["blocks_healed", "corrupt_blocks_found", "error", "free_bytes", "missing_shards", "online", "path", "read_errors", "rebuilt_blocks", "used_bytes"]
    BLOCKS_HEALED_FIELD_NUMBER: _ClassVar[int]
    CORRUPT_BLOCKS_FOUND_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    FREE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MISSING_SHARDS_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    READ_ERRORS_FIELD_NUMBER: _ClassVar[int]
    REBUILT_BLOCKS_FIELD_NUMBER: _ClassVar[int]
    USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    blocks_healed: int
    corrupt_blocks_found: int
    error: str
    free_bytes: int
    missing_shards: int
    online: bool
    path: str
    read_errors: int
    rebuilt_blocks: int
    used_bytes: int
    def __init__(self, path: _Optional[str] = ..., online: bool = ..., used_bytes: _Optional[int] = ..., free_bytes: _Optional[int] = ..., corrupt_blocks_found: _Optional[int] = ..., blocks_healed: _Optional[int] = ..., error: _Optional[str] = ..., missing_shards: _Optional[int] = ..., rebuilt_blocks: _Optional[int] = ..., read_errors: _Optional[int] = ...) -> None: ...

class FixityReport(_message.Message):
    __slots__ = ["archives_checked", "bytes_verified", "corrupt_blocks_found", "corrupt_blocks_healed", "end_time", "failed", "missing_shards_found", "start_time", "unrecoverable_archives"]
    ARCHIVES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    BYTES_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    CORRUPT_BLOCKS_FOUND_FIELD_NUMBER: _ClassVar[int]
    CORRUPT_BLOCKS_HEALED_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    MISSING_SHARDS_FOUND_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    UNRECOVERABLE_ARCHIVES_FIELD_NUMBER: _ClassVar[int]
    archives_checked: int
    bytes_verified: int
    corrupt_blocks_found: int
    corrupt_blocks_healed: int
    end_time: _timestamp_pb2.Timestamp
    failed: _containers.RepeatedScalarFieldContainer[str]
    missing_shards_found: int
    start_time: _timestamp_pb2.Timestamp
    unrecoverable_archives: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., archives_checked: _Optional[int] = ..., bytes_verified: _Optional[int] = ..., corrupt_blocks_found: _Optional[int] = ..., corrupt_blocks_healed: _Optional[int] = ..., unrecoverable_archives: _Optional[_Iterable[str]] = ..., missing_shards_found: _Optional[int] = ..., failed: _Optional[_Iterable[str]] = ...) -> None: ...

class GetClockStatusRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetClockStatusResponse(_message.Message):
    __slots__ = ["high_water_mark", "reason", "state", "trusted_time", "wall_time"]
    HIGH_WATER_MARK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TRUSTED_TIME_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_FIELD_NUMBER: _ClassVar[int]
    high_water_mark: _timestamp_pb2.Timestamp
    reason: str
    state: ClockState
    trusted_time: _timestamp_pb2.Timestamp
    wall_time: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[_Union[ClockState, str]] = ..., wall_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., trusted_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., high_water_mark: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class GetStorageStatusRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetStorageStatusResponse(_message.Message):
    __slots__ = ["data_shards", "drives", "heal_pending", "parity_shards"]
    DATA_SHARDS_FIELD_NUMBER: _ClassVar[int]
    DRIVES_FIELD_NUMBER: _ClassVar[int]
    HEAL_PENDING_FIELD_NUMBER: _ClassVar[int]
    PARITY_SHARDS_FIELD_NUMBER: _ClassVar[int]
    data_shards: int
    drives: _containers.RepeatedCompositeFieldContainer[DriveStatus]
    heal_pending: int
    parity_shards: int
    def __init__(self, data_shards: _Optional[int] = ..., parity_shards: _Optional[int] = ..., drives: _Optional[_Iterable[_Union[DriveStatus, _Mapping]]] = ..., heal_pending: _Optional[int] = ...) -> None: ...

class HealRequest(_message.Message):
    __slots__ = ["vault"]
    VAULT_FIELD_NUMBER: _ClassVar[int]
    vault: str
    def __init__(self, vault: _Optional[str] = ...) -> None: ...

class HealResponse(_message.Message):
    __slots__ = ["archives_checked", "archives_healed", "archives_unrecoverable", "current_key", "done", "shards_rewritten"]
    ARCHIVES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    ARCHIVES_HEALED_FIELD_NUMBER: _ClassVar[int]
    ARCHIVES_UNRECOVERABLE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_KEY_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    SHARDS_REWRITTEN_FIELD_NUMBER: _ClassVar[int]
    archives_checked: int
    archives_healed: int
    archives_unrecoverable: int
    current_key: str
    done: bool
    shards_rewritten: int
    def __init__(self, archives_checked: _Optional[int] = ..., archives_healed: _Optional[int] = ..., shards_rewritten: _Optional[int] = ..., archives_unrecoverable: _Optional[int] = ..., done: bool = ..., current_key: _Optional[str] = ...) -> None: ...

class ListFixityReportsRequest(_message.Message):
    __slots__ = ["page_size"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    def __init__(self, page_size: _Optional[int] = ...) -> None: ...

class ListFixityReportsResponse(_message.Message):
    __slots__ = ["reports"]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[FixityReport]
    def __init__(self, reports: _Optional[_Iterable[_Union[FixityReport, _Mapping]]] = ...) -> None: ...

class RotateMasterKeyRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RotateMasterKeyResponse(_message.Message):
    __slots__ = ["new_key_id", "old_key_file", "old_key_id", "resumed", "rewrapped_kms_keys", "rewrapped_mfa_devices", "rewrapped_versions", "skipped_versions"]
    NEW_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    OLD_KEY_FILE_FIELD_NUMBER: _ClassVar[int]
    OLD_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    RESUMED_FIELD_NUMBER: _ClassVar[int]
    REWRAPPED_KMS_KEYS_FIELD_NUMBER: _ClassVar[int]
    REWRAPPED_MFA_DEVICES_FIELD_NUMBER: _ClassVar[int]
    REWRAPPED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    new_key_id: str
    old_key_file: str
    old_key_id: str
    resumed: bool
    rewrapped_kms_keys: int
    rewrapped_mfa_devices: int
    rewrapped_versions: int
    skipped_versions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, rewrapped_versions: _Optional[int] = ..., rewrapped_kms_keys: _Optional[int] = ..., rewrapped_mfa_devices: _Optional[int] = ..., skipped_versions: _Optional[_Iterable[str]] = ..., old_key_id: _Optional[str] = ..., new_key_id: _Optional[str] = ..., old_key_file: _Optional[str] = ..., resumed: bool = ...) -> None: ...

class ScrubRequest(_message.Message):
    __slots__ = ["bytes_per_second"]
    BYTES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    bytes_per_second: int
    def __init__(self, bytes_per_second: _Optional[int] = ...) -> None: ...

class ScrubResponse(_message.Message):
    __slots__ = ["report"]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: FixityReport
    def __init__(self, report: _Optional[_Union[FixityReport, _Mapping]] = ...) -> None: ...

class ClockState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
