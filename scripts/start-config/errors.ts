/** The typed errors of `coldproof start`'s settings and the shape of their messages. */
import { flagName } from './describe.ts'
import type { Setting } from './settings.ts'

export type ConfigErrorCode = 'ERR_CONFIG_INVALID' | 'ERR_CONFIG_FILE'

/** A setting with a bad value, or an unreadable config file; the message names the setting and where its value came from. */
export class ConfigError extends Error {
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    readonly setting?: string,
    readonly source?: string,
  ) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** Where a value came from: `flag --port`, `env COLDPROOF_PORT`, `config file /etc/coldproof.json ("port")`, `default`. */
export type Source = string

/** The error of one setting's bad value, named as the user gave it: `--port (from env COLDPROOF_PORT): …`. */
export function invalidSetting(setting: Pick<Setting, 'flag' | 'key'>, source: Source, problem: string): ConfigError {
  return new ConfigError('ERR_CONFIG_INVALID', `${flagName(setting)} (from ${source}): ${problem}`, setting.key, source)
}
