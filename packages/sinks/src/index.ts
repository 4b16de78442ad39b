export { type PostgresArchiveOptions, PostgresArchiveSink } from './postgres/archive-sink.js';
export { isPermanentPgError } from './postgres/errors.js';
export { LATEST_VERSION, migrate, SchemaBehindError } from './postgres/migrations.js';
export { createPool, type PoolOptions } from './postgres/pool.js';
export { grantWriterRole, WRITER_GRANTS, type WriterRoleOptions } from './postgres/writer-role.js';
export { type ArchivedMessage, PermanentSinkError, type Sink, type StoreOutcome } from './sink.js';
