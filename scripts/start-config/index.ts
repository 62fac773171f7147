/**
 * `coldproof start`'s settings: flags, environment variables, the JSON config
 * file and their defaults, all from one table (settings.ts). This is the door
 * the CLI, the docs generator and the tests import.
 */
export { addStartOptions } from './commander-options.ts'
export { defaultText, flagName, helpText } from './describe.ts'
export { ConfigError, type ConfigErrorCode, type Source } from './errors.ts'
export { resolveStartConfig, type ResolveInput, type ResolvedConfig } from './resolve.ts'
export { SETTINGS, type Setting, type StartConfig } from './settings.ts'
export { settingsTable } from './settings-table.ts'
