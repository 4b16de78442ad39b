export { type Archive, type ArchivedEvent, PermanentSinkError, type StoreOutcome } from './archive.js';
export { PostgresArchive } from './postgres/archive.js';
export { migrate, SchemaBehindError } from './postgres/migrations.js';
export {
  type MaintenanceOptions,
  type MaintenanceReport,
  maintainArchive,
  PARTITIONED_ARCHIVES,
} from './postgres/partitions.js';
export { createPool } from './postgres/pool.js';
export {
  type AccountKind,
  createSequenceStore,
  type Hole,
  type SequenceKey,
  type SequenceMark,
  type SequenceStore,
} from './postgres/sequences.js';
export { grantWriterRole } from './postgres/writer-role.js';
