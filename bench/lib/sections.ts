import { existsSync, readFileSync } from 'node:fs';

// A generated section of a Markdown file that another command also writes (BENCHMARKS.md is
// rewritten whole by `pnpm bench`; its archive section comes from `pnpm bench:archive`).

const start = (name: string) => `<!-- ${name}: generated, do not edit -->`;
const end = (name: string) => `<!-- /${name} -->`;

/** `text` with the section `name` replaced by `body` (appended when the section is not there yet). */
export function withSection(text: string, name: string, body: string): string {
  const block = `${start(name)}\n${body.trim()}\n${end(name)}`;
  const from = text.indexOf(start(name));
  const to = text.indexOf(end(name));
  if (from === -1 || to === -1) {
    return `${text.trimEnd()}\n\n${block}\n`;
  }
  return text.slice(0, from) + block + text.slice(to + end(name).length);
}

/** The section `name` of the file at `path`, markers included, or '' when there is none. */
export function sectionOf(path: string, name: string): string {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const from = text.indexOf(start(name));
  const to = text.indexOf(end(name));
  return from === -1 || to === -1 ? '' : text.slice(from, to + end(name).length);
}
