import { existsSync } from 'node:fs';
import { APPS, type AppName } from '@imsync/local-services';
import { validate } from 'dockerfile-utils';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { MaintainEnvSchema, MigrateEnvSchema } from '../apps/worker/src/config.js';
import {
  apps,
  type ComposeService,
  composeDefaults,
  composeSchemaErrors,
  dockerComposeConfig,
  dockerComposeInstalled,
  entriesOf,
  envExample,
  environmentProblems,
  read,
  readCompose,
  root,
} from './compose-files.js';

// Offline checks of the container files (no Docker engine here): they fail when the files drift
// from the code: a renamed variable, a build target or an entry point that no longer exists.

const { text: composeText, compose } = readCompose('docker-compose.yml');
const dockerfile = read('Dockerfile');
const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);

/** The files `pnpm build` writes for an app: one dist/<name>.js per entry in package.json. */
function builtFiles(manifest: string): string[] {
  const entries = (JSON.parse(read(manifest)) as { imsync: { entries: string[] } }).imsync.entries;
  return entries.map((entry) => entry.replace(/^src\/(.*)\.ts$/, 'dist/$1.js'));
}

/** The CMD of a Dockerfile stage, as an exec-form array. */
function stageCmd(stage: string): string[] {
  const body = dockerfile
    .split(/^FROM /m)
    .find((part) => new RegExp(`AS ${stage}\\s*$`, 'm').test(part.split('\n')[0] ?? ''));
  const cmd = body?.match(/^CMD (\[.*\])$/m)?.[1];
  return cmd ? (JSON.parse(cmd) as string[]) : [];
}

test('docker-compose.yml is a valid compose file (compose-spec schema)', () => {
  expect(composeSchemaErrors(compose)).toEqual([]);
  // docker-compose 1.x, which validates offline, rejects a top-level `name:`.
  expect(Object.keys(compose)).not.toContain('name');
});

test('docker-compose config -q accepts it (when docker-compose is installed, as in CI)', ({ skip }) => {
  skip(!dockerComposeInstalled() && !process.env.CI, 'docker-compose not installed');
  dockerComposeConfig('docker-compose.yml');
});

test('the observability profile (Prometheus, Grafana) validates, its files in place', ({ skip }) => {
  skip(!dockerComposeInstalled() && !process.env.CI, 'docker-compose not installed');
  dockerComposeConfig('docker-compose.yml', ['observability']);
  for (const name of ['prometheus', 'grafana']) {
    const service = compose.services[name] as ComposeService & { profiles?: string[] };
    expect(service.profiles).toEqual(['observability']);
    // Mounted files exist (compose would mount a missing one as an empty directory).
    for (const volume of service.volumes ?? []) {
      const [source] = volume.split(':');
      if (source?.startsWith('./')) {
        expect(existsSync(`${root}${source.slice(2)}`), source).toBe(true);
      }
    }
    expect(service.ports?.every((port) => port.startsWith('127.0.0.1:'))).toBe(true);
  }
  // The provisioned dashboard queries the provisioned data source.
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/imsync.json')) as {
    panels: { type: string; datasource?: { uid: string } }[];
  };
  const uids = new Set(dashboard.panels.filter((p) => p.type !== 'row').map((p) => p.datasource?.uid));
  expect(uids).toEqual(
    new Set([
      (parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string }[] })
        .datasources[0]?.uid,
    ]),
  );
});

test('the Dockerfile lints clean', () => {
  const problems = validate(dockerfile).map((d) => `${d.range.start.line + 1}: ${d.message}`);
  expect(problems).toEqual([]);
});

describe.each(Object.entries(apps))('%s', (name, app) => {
  const service = compose.services[name] as ComposeService;

  test('is built from a stage of the Dockerfile that runs the built entry point, with a health check', () => {
    expect(service.build?.target).toBe(name);
    expect(stages).toContain(name);
    const cmd = stageCmd(name);
    expect(cmd[0]).toBe('node');
    expect(builtFiles(app.manifest)).toContain(cmd.at(-1));
    // The node flags the benchmarks and the built-output tests run it with (V8's heap sizing …).
    expect(cmd.slice(1, -1)).toEqual(APPS[name as AppName].nodeFlags);
    // And `pnpm start:built` runs it as the image does.
    const scripts = (JSON.parse(read(app.manifest)) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:built']).toBe(cmd.join(' '));
    const stage = dockerfile.slice(dockerfile.indexOf(`AS ${name}\n`));
    expect(stage.split(/^FROM /m)[0]).toMatch(/^HEALTHCHECK /m);
  });

  test('sets every variable the app requires, and only variables the app reads', () => {
    const { unread, missing } = environmentProblems(service, app.schema);
    expect(unread).toEqual([]);
    expect(missing).toEqual([]);
  });
});

test('the migrate service runs a file the worker build produces, before any worker starts', () => {
  const migrate = compose.services.migrate as ComposeService;
  expect(migrate.build?.target).toBe('worker');
  expect(builtFiles(apps.worker.manifest)).toContain(migrate.command?.at(-1));
  expect(compose.services.worker?.depends_on?.migrate?.condition).toBe('service_completed_successfully');
  const entries = entriesOf(MigrateEnvSchema);
  expect(Object.keys(migrate.environment ?? {}).filter((key) => !(key in entries))).toEqual([]);
});

test('the archive-maintenance service runs a file the worker build produces, as the owner, after the migration', () => {
  const maintenance = compose.services['archive-maintenance'] as ComposeService;
  expect(maintenance.build?.target).toBe('worker');
  expect(builtFiles(apps.worker.manifest)).toContain(maintenance.command?.at(-1));
  expect(maintenance.depends_on?.migrate?.condition).toBe('service_completed_successfully');
  const entries = entriesOf(MaintainEnvSchema);
  expect(Object.keys(maintenance.environment ?? {}).filter((key) => !(key in entries))).toEqual([]);
  expect(maintenance.environment?.DATABASE_URL).toBe(compose.services.migrate?.environment?.DATABASE_URL);
  expect(maintenance.ports).toBeUndefined();
});

describe('least privilege', () => {
  test.each(['receiver', 'worker', 'dashboard', 'migrate', 'archive-maintenance'])(
    '%s: read-only root filesystem, no capabilities, no privilege gain',
    (name) => {
      const service = compose.services[name] as ComposeService;
      expect(service.read_only).toBe(true);
      expect(service.cap_drop).toEqual(['ALL']);
      expect(service.cap_add).toBeUndefined();
      expect(service.security_opt).toContain('no-new-privileges:true');
    },
  );

  test('the app images run as node, with app files it cannot write (owned by root)', () => {
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).not.toMatch(/--chown=node/);
    for (const name of ['receiver', 'worker', 'dashboard']) {
      expect(dockerfile).toMatch(new RegExp(`^COPY --from=build /out/${name} /app$`, 'm'));
    }
  });

  test('Redis needs a password: started by the ACL script, every client URL carries the user', () => {
    const redis = compose.services.redis as ComposeService;
    expect(redis.user).toBe('redis');
    expect(redis.read_only).toBe(true);
    expect(redis.cap_drop).toEqual(['ALL']);
    expect(redis.entrypoint?.join(' ')).toMatch(/start-redis\.sh$/);
    expect(redis.volumes).toContain('./deploy/redis/start-redis.sh:/usr/local/etc/imsync/start-redis.sh:ro');
    expect(read('deploy/redis/start-redis.sh')).toMatch(/user default off/);
    for (const name of ['receiver', 'worker', 'dashboard']) {
      expect(compose.services[name]?.environment?.REDIS_URL).toMatch(/^redis:\/\/imsync:[^@]+@redis:6379$/);
    }
  });

  test('workers use the archive writer role; only the migrate and archive-maintenance services use the owner', () => {
    const role = compose.services.migrate?.environment?.ARCHIVE_WRITER_ROLE;
    expect(role).toBeTruthy();
    expect(compose.services.worker?.environment?.DATABASE_URL?.startsWith(`postgres://${role}:`)).toBe(true);
    expect(compose.services.migrate?.environment?.DATABASE_URL).toMatch(/^postgres:\/\/\$\{POSTGRES_USER:-imsync\}:/);
  });

  test('PostgreSQL keeps only the capabilities its entrypoint needs to drop to its own user', () => {
    const postgres = compose.services.postgres as ComposeService;
    expect(postgres.cap_drop).toEqual(['ALL']);
    expect(postgres.security_opt).toContain('no-new-privileges:true');
  });
});

test('workers can be scaled: no fixed container name, no published port', () => {
  const worker = compose.services.worker as ComposeService;
  expect(worker.container_name).toBeUndefined();
  expect(worker.ports).toBeUndefined();
});

test('Redis keeps what it acknowledged: AOF on, no eviction, a health check, a volume', () => {
  const redis = compose.services.redis as ComposeService & { volumes?: string[] };
  expect(redis.command?.join(' ')).toMatch(/--appendonly yes/);
  expect(redis.command?.join(' ')).toMatch(/--maxmemory-policy noeviction/);
  expect(redis.healthcheck).toBeDefined();
  expect(redis.volumes?.length).toBeGreaterThan(0);
});

test('images are pinned to a version, never latest', () => {
  const images = [
    ...Object.values(compose.services).flatMap((s) => (s.image ? [s.image] : [])),
    ...[...dockerfile.matchAll(/^ARG NODE_IMAGE=(\S+)/gm)].map((m) => m[1] as string),
  ];
  expect(images.length).toBeGreaterThan(2);
  for (const image of images) {
    expect(image).toMatch(/:v?\d[\w.-]*$/);
  }
});

test('.env.example documents every variable the compose file reads, with the same default', () => {
  const example = envExample();
  const used = composeDefaults(composeText);
  expect(used.length).toBeGreaterThan(5);
  for (const [name, fallback] of used) {
    expect(example.get(name), name).toBe(fallback);
  }
});
