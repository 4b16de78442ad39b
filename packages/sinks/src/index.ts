export { type PostgresArchiveOptions, PostgresArchiveSink } from './postgres/archive-sink.js';
export { isPermanentPgError } from './postgres/errors.js';
export { migrate } from './postgres/migrations.js';
export { createPool, type PoolOptions } from './postgres/pool.js';
export { type ArchivedMessage, PermanentSinkError, type Sink, type StoreOutcome } from './sink.js';
