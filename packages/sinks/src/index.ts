export { type Archive, type ArchivedEvent, PermanentSinkError, type StoreOutcome } from './archive.js';
export { PostgresArchive } from './postgres/archive.js';
export { isPermanentPgError } from './postgres/errors.js';
export { LATEST_VERSION, migrate, SchemaBehindError } from './postgres/migrations.js';
export { createPool, type PoolOptions } from './postgres/pool.js';
export { grantWriterRole, WRITER_GRANTS, type WriterRoleOptions } from './postgres/writer-role.js';
