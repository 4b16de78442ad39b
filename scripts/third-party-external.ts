import type { Plugin } from 'esbuild';

/**
 * Bundles the workspace's own code (@imsync/*, from its TypeScript sources) and leaves every other
 * package an import, resolved at run time from node_modules. Go regexps have no lookahead, hence
 * the filter in the callback.
 */
export const thirdPartyExternal: Plugin = {
  name: 'third-party-external',
  setup(builder) {
    builder.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@imsync/') ? undefined : { path: args.path, external: true },
    );
  },
};
