const HERE = 'http://dashboard.invalid';

/**
 * Where to go after login: only paths on this site, or a link to the login page becomes a
 * phishing tool. Resolved the way a browser would (so `/\evil.example` and friends count as other
 * sites) and kept if it stays here. The resolved path is checked too: dot segments can turn a
 * path into `//evil.example` (`/.//evil.example`), which a browser reads as another host.
 */
export function safeNext(next: string | undefined, home: string): string {
  if (!next) {
    return home;
  }
  try {
    const url = new URL(next, HERE);
    const path = `${url.pathname}${url.search}${url.hash}`;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused here.
    const plain = next.startsWith('/') && !/[\\\u0000-\u001f]/.test(next);
    return url.origin === HERE && plain && !/^\/[/\\]/.test(path) ? path : home;
  } catch {
    return home;
  }
}
