import type { Pool } from 'pg';

/** One sequence of group messages: a group, or a topic of a Community. */
export interface SequenceKey {
  readonly sdkAppId: string;
  readonly groupId: string;
  /** `''` outside topics. */
  readonly topicId: string;
}

export interface SequenceMark extends SequenceKey {
  readonly groupType: string | null;
  /** Every seq up to here is accounted for. */
  readonly contiguousSeq: number;
  /** When its newest message was stored. */
  readonly lastMessageAt: Date;
  readonly tailCheckedAt: Date | null;
  /** The `lastMessageAt` its last scan saw with nothing pending; null: scan it. */
  readonly scannedAt: Date | null;
}

/** A run of missing seqs, both ends included. */
export interface Hole {
  readonly fromSeq: number;
  readonly toSeq: number;
}

export type AccountKind = 'system' | 'recalled' | 'expired' | 'unrecoverable';

/**
 * The archive's view of message sequences, for gap detection and backfill. Everything is derived
 * from the rows already there (group_messages, sequence_accounts): no extra write on the hot path.
 */
export function createSequenceStore(pool: Pool) {
  return {
    /**
     * Starts a mark for every sequence with a message since `since` and none yet (just below its
     * first message), and moves the marks' last activity forward. Reads only the rows stored since
     * the previous call (five minutes' margin for transactions that committed late). A mark younger
     * than `graceMs` moves down to an earlier message that arrived late.
     */
    async refreshMarks(since: Date, graceMs: number): Promise<void> {
      await pool.query(
        `WITH previous AS (SELECT refreshed_at FROM gap_scan_state WHERE id),
         this_call AS (
           INSERT INTO gap_scan_state (id, refreshed_at) VALUES (true, now())
           ON CONFLICT (id) DO UPDATE SET refreshed_at = excluded.refreshed_at
         )
         INSERT INTO sequence_marks (sdk_app_id, group_id, topic_id, group_type, contiguous_seq, last_message_at)
         SELECT sdk_app_id, group_id, topic_id, max(group_type), min(msg_seq) - 1, max(stored_at)
         FROM group_messages
         WHERE stored_at >= greatest($1, coalesce((SELECT refreshed_at FROM previous) - interval '5 minutes', $1))
         GROUP BY sdk_app_id, group_id, topic_id
         ON CONFLICT (sdk_app_id, group_id, topic_id) DO UPDATE
           SET last_message_at = greatest(sequence_marks.last_message_at, excluded.last_message_at),
               group_type = coalesce(sequence_marks.group_type, excluded.group_type),
               contiguous_seq = CASE
                 WHEN sequence_marks.started_at > now() - make_interval(secs => $2::float8 / 1000)
                 THEN least(sequence_marks.contiguous_seq, excluded.contiguous_seq)
                 ELSE sequence_marks.contiguous_seq END`,
        [since, graceMs],
      );
    },

    /** The marks of sequences active since `since` that are still open, AVChatRoom excluded (no history). */
    async activeMarks(since: Date): Promise<SequenceMark[]> {
      const { rows } = await pool.query<{
        sdk_app_id: string;
        group_id: string;
        topic_id: string;
        group_type: string | null;
        contiguous_seq: string;
        last_message_at: Date;
        tail_checked_at: Date | null;
        scanned_at: Date | null;
      }>(
        // Longest unchecked tail first: when tail checks are rationed, every sequence gets its turn.
        `SELECT sdk_app_id::text, group_id, topic_id, group_type, contiguous_seq::text, last_message_at,
                tail_checked_at, scanned_at
         FROM sequence_marks
         WHERE last_message_at >= $1 AND closed_reason IS NULL AND coalesce(group_type, '') <> 'AVChatRoom'
         ORDER BY tail_checked_at NULLS FIRST`,
        [since],
      );
      return rows.map((row) => ({
        sdkAppId: row.sdk_app_id,
        groupId: row.group_id,
        topicId: row.topic_id,
        groupType: row.group_type,
        contiguousSeq: Number(row.contiguous_seq),
        lastMessageAt: row.last_message_at,
        tailCheckedAt: row.tail_checked_at,
        scannedAt: row.scanned_at,
      }));
    },

    /**
     * The holes above a mark whose next message was stored at least `graceMs` ago (callbacks come late
     * and out of order: a younger hole may still fill by itself), and the highest seq accounted for.
     * The mark moves up to the first hole. `pending`: a younger hole was seen (scan again later);
     * otherwise the mark is settled at its last message (no scan until another one arrives).
     */
    async scan(
      mark: SequenceMark,
      graceMs: number,
      now: Date,
    ): Promise<{ holes: Hole[]; highest: number; pending: boolean }> {
      const { rows } = await pool.query<{ seq: string; at: Date | null }>(
        `SELECT msg_seq::text AS seq, max(stored_at) AS at FROM (
           SELECT msg_seq, stored_at FROM group_messages
             WHERE sdk_app_id = $1 AND group_id = $2 AND topic_id = $3 AND msg_seq > $4
           UNION ALL
           SELECT msg_seq, NULL FROM sequence_accounts
             WHERE sdk_app_id = $1 AND group_id = $2 AND topic_id = $3 AND msg_seq > $4
         ) s GROUP BY msg_seq ORDER BY msg_seq`,
        [mark.sdkAppId, mark.groupId, mark.topicId, mark.contiguousSeq],
      );
      const holes: Hole[] = [];
      let expected = mark.contiguousSeq + 1;
      let contiguous = mark.contiguousSeq;
      let blocked = false;
      let pending = false;
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq > expected) {
          blocked = true;
          // Accounts carry no time: a hole before one is as old as can be.
          const after = row.at?.getTime() ?? 0;
          if (now.getTime() - after >= graceMs) {
            holes.push({ fromSeq: expected, toSeq: seq - 1 });
          } else {
            pending = true;
          }
        }
        if (!blocked) {
          contiguous = seq;
        }
        expected = seq + 1;
      }
      await pool.query(
        `UPDATE sequence_marks SET contiguous_seq = greatest(contiguous_seq, $4), scanned_at = $5
         WHERE sdk_app_id = $1 AND group_id = $2 AND topic_id = $3`,
        [mark.sdkAppId, mark.groupId, mark.topicId, contiguous, pending ? null : mark.lastMessageAt],
      );
      return { holes, highest: expected - 1, pending };
    },

    /** Records holes; resolves with those not known before (the ones to backfill). */
    async recordHoles(key: SequenceKey, holes: readonly Hole[]): Promise<Hole[]> {
      if (holes.length === 0) {
        return [];
      }
      const { rows } = await pool.query<{ from_seq: string; to_seq: string }>(
        `INSERT INTO sequence_holes (sdk_app_id, group_id, topic_id, from_seq, to_seq)
         SELECT $1, $2, $3, f, t FROM unnest($4::bigint[], $5::bigint[]) AS u(f, t)
         ON CONFLICT (sdk_app_id, group_id, topic_id, from_seq) DO NOTHING
         RETURNING from_seq::text, to_seq::text`,
        [key.sdkAppId, key.groupId, key.topicId, holes.map((h) => h.fromSeq), holes.map((h) => h.toSeq)],
      );
      return rows.map((row) => ({ fromSeq: Number(row.from_seq), toSeq: Number(row.to_seq) }));
    },

    /** Seqs that will never be message rows, with why. */
    async account(key: SequenceKey, entries: readonly { seq: number; kind: AccountKind; detail?: string }[]) {
      if (entries.length === 0) {
        return;
      }
      await pool.query(
        `INSERT INTO sequence_accounts (sdk_app_id, group_id, topic_id, msg_seq, kind, detail)
         SELECT $1, $2, $3, s, k, d FROM unnest($4::bigint[], $5::text[], $6::text[]) AS u(s, k, d)
         ON CONFLICT (sdk_app_id, group_id, topic_id, msg_seq) DO NOTHING`,
        [
          key.sdkAppId,
          key.groupId,
          key.topicId,
          entries.map((e) => e.seq),
          entries.map((e) => e.kind),
          entries.map((e) => e.detail ?? null),
        ],
      );
    },

    /** Closes the holes of a sequence that lie within [fromSeq, toSeq]: backfill went through them. */
    async closeHoles(key: SequenceKey, range: Hole): Promise<void> {
      await pool.query(
        `UPDATE sequence_holes SET state = 'closed', closed_at = now()
         WHERE sdk_app_id = $1 AND group_id = $2 AND topic_id = $3 AND state = 'open'
           AND from_seq >= $4 AND to_seq <= $5`,
        [key.sdkAppId, key.groupId, key.topicId, range.fromSeq, range.toSeq],
      );
    },

    async setTailChecked(key: SequenceKey, at: Date): Promise<void> {
      await pool.query(
        `UPDATE sequence_marks SET tail_checked_at = $4 WHERE sdk_app_id = $1 AND group_id = $2 AND topic_id = $3`,
        [key.sdkAppId, key.groupId, key.topicId, at],
      );
    },

    /** Tencent says the group is gone: no more scans or backfill of its sequences. */
    async close(key: SequenceKey, reason: string): Promise<void> {
      await pool.query(
        `UPDATE sequence_marks SET closed_reason = $4 WHERE sdk_app_id = $1 AND group_id = $2 AND topic_id = $3`,
        [key.sdkAppId, key.groupId, key.topicId, reason],
      );
    },

    /** When the oldest open hole was found; undefined when none is open. */
    async oldestOpenHoleAt(): Promise<Date | undefined> {
      const { rows } = await pool.query<{ at: Date | null }>(
        `SELECT min(found_at) AS at FROM sequence_holes WHERE state = 'open'`,
      );
      return rows[0]?.at ?? undefined;
    },

    /**
     * Open holes of these apps found before `before`, oldest first, at most `limit`, of sequences still scanned:
     * the scan queues their first page again (a no-op while its job exists), so a hole whose
     * queuing a crash cut off is still backfilled.
     */
    async openHolesFoundBefore(
      before: Date,
      limit: number,
      sdkAppIds: readonly string[],
    ): Promise<(SequenceKey & Hole & { groupType: string | null })[]> {
      const { rows } = await pool.query<{
        sdk_app_id: string;
        group_id: string;
        topic_id: string;
        group_type: string | null;
        from_seq: string;
        to_seq: string;
      }>(
        `SELECT h.sdk_app_id::text, h.group_id, h.topic_id, m.group_type, h.from_seq::text, h.to_seq::text
         FROM sequence_holes h
         JOIN sequence_marks m USING (sdk_app_id, group_id, topic_id)
         WHERE h.state = 'open' AND h.found_at < $1 AND m.closed_reason IS NULL AND h.sdk_app_id = ANY($3::bigint[])
         ORDER BY h.found_at LIMIT $2`,
        [before, limit, sdkAppIds],
      );
      return rows.map((row) => ({
        sdkAppId: row.sdk_app_id,
        groupId: row.group_id,
        topicId: row.topic_id,
        groupType: row.group_type,
        fromSeq: Number(row.from_seq),
        toSeq: Number(row.to_seq),
      }));
    },

    /** The open holes, oldest first (for the gaps report and the oldest-hole gauge). */
    async openHoles(): Promise<(SequenceKey & Hole & { foundAt: Date })[]> {
      const { rows } = await pool.query<{
        sdk_app_id: string;
        group_id: string;
        topic_id: string;
        from_seq: string;
        to_seq: string;
        found_at: Date;
      }>(
        `SELECT sdk_app_id::text, group_id, topic_id, from_seq::text, to_seq::text, found_at
         FROM sequence_holes WHERE state = 'open' ORDER BY found_at`,
      );
      return rows.map((row) => ({
        sdkAppId: row.sdk_app_id,
        groupId: row.group_id,
        topicId: row.topic_id,
        fromSeq: Number(row.from_seq),
        toSeq: Number(row.to_seq),
        foundAt: row.found_at,
      }));
    },
  };
}

export type SequenceStore = ReturnType<typeof createSequenceStore>;
