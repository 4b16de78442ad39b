import { gaps } from './gaps.js';
import { replay } from './replay.js';
import { send, UsageError } from './send.js';
import { stack } from './stack.js';

// `pnpm imsync <command>`: the developer tools. `pnpm start` is `imsync stack`.

const commands: Record<string, (argv: string[]) => Promise<number>> = { gaps, replay, send, stack };
const [name = 'help', ...argv] = process.argv.slice(2);
const command = commands[name];
if (!command) {
  process.stdout.write('usage: imsync <send|replay|gaps|stack> [--help]\n');
  process.exit(name === 'help' || name === '--help' ? 0 : 2);
}
try {
  process.exitCode = await command(argv);
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    process.stderr.write(`imsync ${name}: ${(error as Error).message}\n`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
