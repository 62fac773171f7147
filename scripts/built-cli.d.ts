/** scripts/built-cli.js: the pre-built bundle of `coldproof <name>` when it matches its sources, else null. */
export function builtCommand(name: string, where?: { root?: URL; dist?: URL }): URL | null
