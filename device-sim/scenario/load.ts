/** Scenario files on disk: a path, or a built-in scenario by name (device-sim/scenarios/). */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ScenarioError, SimError } from '../errors.ts'
import { parseScenario } from './parse.ts'
import type { Scenario } from './types.ts'

export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios')

/** Names of the built-in scenarios (device-sim/scenarios/*.json). */
export function builtInScenarioPath(name: string): string {
  return join(SCENARIO_DIR, `${name}.json`)
}

/** Loads a scenario from a file path, or a built-in one by name (`reefer-2-8`). */
export function loadScenario(pathOrName: string): Scenario {
  const candidates = [resolve(pathOrName)]
  if (/^[a-z0-9-]+$/.test(pathOrName)) candidates.push(builtInScenarioPath(pathOrName))
  const path = candidates.find((p) => existsSync(p))
  if (!path)
    throw new SimError(
      'ERR_SCENARIO_NOT_FOUND',
      `no scenario file ${JSON.stringify(pathOrName)} (looked at ${candidates.join(', ')})`,
      { candidates },
    )
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new ScenarioError('', `${path} is not valid JSON: ${(e as Error).message}`, { file: path })
  }
  try {
    return parseScenario(json)
  } catch (e) {
    if (e instanceof ScenarioError)
      throw new ScenarioError(e.path, `${e.message.slice(e.path ? e.path.length + 1 : 0)} (in ${path})`, { file: path })
    throw e
  }
}
