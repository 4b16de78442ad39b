import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { ConfigError } from '@imsync/runtime';
import { DEMO_PASSWORD, demoPasswordProblem, isLoopbackHost, MIN_PASSWORD_LENGTH } from './config.js';

const VARIABLE = 'DASHBOARD_PASSWORD_FILE';

export interface FilePassword {
  password: string;
  /** True when this start created the file (nobody knows the password yet). */
  generated: boolean;
}

/**
 * The dashboard password kept in `path`: read when the file exists (a mounted Docker secret, or
 * one generated on an earlier start), generated and saved (mode 0600) when it does not. `host` is
 * where the dashboard listens: a file holding the demo password is refused off loopback, as
 * DASHBOARD_PASSWORD is.
 */
export async function loadOrCreatePassword(path: string, host: string): Promise<FilePassword> {
  const existing = await readPassword(path);
  if (existing !== undefined) {
    return { password: checked(existing, path, host), generated: false };
  }
  // 18 random bytes: 144 bits, 24 characters that need no quoting anywhere.
  const password = randomBytes(18).toString('base64url');
  if (await saveExclusively(path, `${password}\n`)) {
    return { password, generated: true };
  }
  // Another dashboard on the same volume created it first: its password is the one.
  const winner = await readPassword(path);
  if (winner === undefined) {
    throw new ConfigError(`${VARIABLE}: ${path} vanished while it was being created; start again`);
  }
  return { password: checked(winner, path, host), generated: false };
}

async function readPassword(path: string): Promise<string | undefined> {
  try {
    // A secret written with `echo` ends with a newline that is not part of the password.
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      return undefined;
    }
    throw new ConfigError(`${VARIABLE}: cannot read ${path}: ${(error as Error).message}`);
  }
}

/**
 * Writes the file in full under a temporary name, then links it into place. `link` fails when the
 * name exists, so of two processes starting at once exactly one wins, and no reader ever sees a
 * half-written file. Resolves false when the file already existed.
 */
async function saveExclusively(path: string, content: string): Promise<boolean> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content, { mode: 0o600, flag: 'wx' });
    await link(temporary, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') {
      return false;
    }
    throw new ConfigError(
      `${VARIABLE}: cannot create ${path}: ${(error as Error).message} (its directory must exist and be writable by the dashboard's user)`,
    );
  } finally {
    await unlink(temporary).catch(() => {});
  }
}

function checked(password: string, path: string, host: string): string {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new ConfigError(`${VARIABLE}: ${path} must hold a password of at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password === DEMO_PASSWORD && !isLoopbackHost(host)) {
    throw new ConfigError(demoPasswordProblem(`${VARIABLE} (${path})`));
  }
  return password;
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
