import * as v from 'valibot';
import { ColumnTextSchema } from './scalars.js';

// Ids go into the archive's unique keys; bound them well above Tencent's own limits (48 bytes
// custom group ids, 96 bytes topic ids, 32 bytes user ids) so one odd body cannot bloat an index.
const MAX_ID_LENGTH = 256;

/** A group, topic, user or message id: non-empty, bounded, and stored unchanged by the archive. */
export const IdSchema = v.pipe(
  ColumnTextSchema,
  v.minLength(1, 'must not be empty'),
  v.maxLength(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`),
);

/** `TopicId`: absent or `""` both mean "not in a topic"; identities treat them alike. */
export const TopicIdSchema = v.pipe(
  ColumnTextSchema,
  v.maxLength(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`),
);

/** `[{"Member_Account": "<UserID>"}]`, as every membership callback sends it. */
export const MemberListSchema = v.array(v.looseObject({ Member_Account: IdSchema }), 'must be an array');
