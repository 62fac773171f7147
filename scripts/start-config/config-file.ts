/** The config file (`--config <file>`): a JSON object whose keys are settings' keys. */
import { readFileSync } from 'node:fs'
import { ConfigError, type Source } from './errors.ts'
import { SETTINGS } from './settings.ts'

/** Reads and checks the file; `source` is where --config itself came from. */
export function readConfigFile(file: string, source: Source): Record<string, unknown> {
  const fileError = (problem: string, setting = 'config', at: Source = source) =>
    new ConfigError('ERR_CONFIG_FILE', `--config (from ${source}): ${problem}`, setting, at)
  let body: string
  try {
    body = readFileSync(file, 'utf8')
  } catch (e) {
    throw fileError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (e) {
    throw fileError(`${file} is not JSON: ${(e as Error).message}`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw fileError(`${file} must hold a JSON object of settings, e.g. { "port": 8080 }`)
  }
  const known = new Set<string>(SETTINGS.map((x) => x.key).filter((k) => k !== 'config'))
  for (const k of Object.keys(json)) {
    if (!known.has(k))
      throw fileError(
        `${file} has an unknown setting "${k}"; known settings: ${[...known].join(', ')}`,
        k,
        `config file ${file}`,
      )
  }
  return json as Record<string, unknown>
}
