import { repoRoot } from '@imsync/local-services';
import { SDK_APP_ID, TOKEN } from '../receiver.js';
import { MIB, run } from './util.js';

export interface SimulateOptions {
  /** The callback URL. */
  url: string;
  rate: number;
  seconds: number;
  databaseUrl: string;
  /** Check afterwards that every acknowledged message is in the archive, once. */
  verify: boolean;
}

/**
 * The simulator (\`pnpm imsync send\`) in its own process: new group messages over 2000 groups, no
 * repeats, \`rate\` a second on a clock (open loop, up to 512 in flight). Returns its JSON summary.
 */
export async function simulate(options: SimulateOptions): Promise<string> {
  // It exits 1 when any callback failed (a 503 on a saturated machine): its summary says so, and
  // the report shows it; only a run with no summary at all is an error.
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      'apps/cli/src/main.ts',
      'send',
      '--url',
      options.url,
      '--app-id',
      SDK_APP_ID,
      '--token',
      TOKEN,
      '--count',
      String(Math.round(options.rate * options.seconds)),
      '--rate',
      String(options.rate),
      '--concurrency',
      '512',
      '--duplicates',
      '0',
      '--groups',
      '2000',
      ...(options.verify ? ['--verify', '--verify-timeout', '180'] : []),
      '--json',
    ],
    { cwd: repoRoot, env: { ...process.env, DATABASE_URL: options.databaseUrl }, maxBuffer: 64 * MIB },
  ).catch((error: { stdout?: string }) => {
    if (!error.stdout?.startsWith('{')) {
      throw error;
    }
    return { stdout: error.stdout };
  });
  return stdout;
}
