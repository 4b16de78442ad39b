import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Where a process spent its CPU: a V8 CPU profile (node --cpu-prof) summed by self time per
// package or subsystem, so BENCHMARKS.md can say what limits a figure, not only what it is.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

/** Shares of busy (non-idle) samples per place, largest first. */
export function summarizeProfile(dir: string): { place: string; share: number }[] {
  const file = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(dir, name))
    // The largest profile is the main thread's (others are helper threads).
    .sort((a, b) => readFileSync(b).length - readFileSync(a).length)[0];
  if (!file) {
    return [];
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const counts = new Map<string, number>();
  let busy = 0;
  for (const id of profile.samples) {
    const place = placeOf(nodes.get(id));
    if (place === 'idle') {
      continue;
    }
    busy++;
    counts.set(place, (counts.get(place) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([place, count]) => ({ place, share: count / Math.max(1, busy) }))
    .sort((a, b) => b.share - a.share);
}

function placeOf(node: ProfileNode | undefined): string {
  const { functionName, url } = node?.callFrame ?? { functionName: '', url: '' };
  if (functionName === '(idle)') {
    return 'idle';
  }
  if (functionName === '(garbage collector)') {
    return 'garbage collection';
  }
  if (url === '') {
    // Native code: mostly socket writes and reads, buffers, and running queued callbacks.
    return /write|read|Buffer|String/i.test(functionName) ? 'sockets and buffers (native)' : 'other native / runtime';
  }
  const pkg = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/)?.[1];
  if (pkg) {
    return pkg;
  }
  if (url.startsWith('node:')) {
    if (/http|net|stream|buffer|_tls|dns/.test(url)) {
      return 'Node http, net and streams';
    }
    if (/crypto/.test(url)) {
      return 'Node crypto (hashes, request ids)';
    }
    if (/timers|task_queues|events|async_hooks|process/.test(url)) {
      return 'Node event loop, timers, promises';
    }
    return `Node core (${url.replace(/^node:(internal\/)?/, '').split('/')[0]})`;
  }
  return 'imsync code';
}
