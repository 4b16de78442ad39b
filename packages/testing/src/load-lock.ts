import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

// The integration project runs two files at once on two cores. Most files are light, but a few
// drive a sustained load for minutes (a callback stream through a whole pipeline, a Redis Cluster,
// wrk at saturation), and what they assert depends on the CPU they get: two of them side by side
// starve each other's processes (answers past the simulator's 5 s, seen as hundreds of failures),
// which is a test artefact, not a property of imsync. Such files take this lock for their whole
// run, so at most one of them runs at a time, beside light files.

const LOCK_DIR = join(tmpdir(), 'imsync-load-test.lock');
const POLL_MS = 250;
/** A heavy file may wait for the others to end: all of them, one after another, take minutes. */
const WAIT_MS = 30 * 60_000;

/** True when no process `pid` is running (the lock's holder died without releasing it). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function acquire(): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      // mkdir is atomic: exactly one process creates the directory.
      await mkdir(LOCK_DIR);
      await writeFile(join(LOCK_DIR, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
    }
    const holder = Number(await readFile(join(LOCK_DIR, 'pid'), 'utf8').catch(() => '0'));
    if (holder > 0 && gone(holder)) {
      await rm(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`waited ${WAIT_MS} ms for ${LOCK_DIR} (held by pid ${holder})`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function release(): Promise<void> {
  const holder = Number(await readFile(join(LOCK_DIR, 'pid'), 'utf8').catch(() => '0'));
  if (holder === process.pid) {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

/** Call at the top of a test file that drives a sustained load: its tests run while no other such file does. */
export function runsAlone(): void {
  beforeAll(acquire, WAIT_MS + 60_000);
  afterAll(release);
}
