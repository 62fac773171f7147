/**
 * Resolves every setting from its sources. Precedence, highest first:
 * flag > environment variable > config file (`--config <file>`) > default.
 * An empty environment variable counts as unset.
 */
import { dirname, resolve } from 'node:path'
import { readConfigFile } from './config-file.ts'
import { crossCheck } from './cross-check.ts'
import { invalidSetting, type Source } from './errors.ts'
import type { ParseContext } from './parsers.ts'
import { flagName } from './describe.ts'
import { SETTINGS, type Setting, type StartConfig } from './settings.ts'

function envValue(env: NodeJS.ProcessEnv, setting: Setting): string | undefined {
  const v = setting.env ? env[setting.env] : undefined
  return v === undefined || v === '' ? undefined : v
}

function parseWith(setting: Setting, raw: unknown, source: Source, ctx: ParseContext): unknown {
  try {
    return setting.parse(raw, ctx)
  } catch (e) {
    throw invalidSetting(setting, source, (e as Error).message)
  }
}

export interface ResolveInput {
  /** Commander's parsed options and, per key, whether the value came from the command line. */
  flags: Record<string, unknown>
  fromCli: (key: string) => boolean
  env?: NodeJS.ProcessEnv
  cwd?: string
}

export interface ResolvedConfig {
  config: StartConfig
  /** Where each set value came from (for messages and tests). */
  sources: Partial<Record<keyof StartConfig, Source>>
}

/** Resolves every setting: flag > env > config file > default; validates each value and the pairs that go together. */
export function resolveStartConfig({
  flags,
  fromCli,
  env = process.env,
  cwd = process.cwd(),
}: ResolveInput): ResolvedConfig {
  const here: ParseContext = { baseDir: cwd }
  const out: Record<string, unknown> = {}
  const sources: Record<string, Source> = {}
  const all = SETTINGS as readonly Setting[]
  const rawOf = (
    setting: Setting,
    file: Record<string, unknown>,
    fileName: string | undefined,
  ): { raw: unknown; source: Source; ctx: ParseContext } | undefined => {
    if (fromCli(setting.key) && flags[setting.key] !== undefined)
      return { raw: flags[setting.key], source: `flag ${flagName(setting)}`, ctx: here }
    const e = envValue(env, setting)
    if (e !== undefined) return { raw: setting.repeatable ? e.split(',') : e, source: `env ${setting.env}`, ctx: here }
    if (fileName && file[setting.key] !== undefined)
      return {
        raw: file[setting.key],
        source: `config file ${fileName} ("${setting.key}")`,
        ctx: { baseDir: dirname(fileName) },
      }
    return undefined
  }
  const configSetting = all.find((x) => x.key === 'config')!
  const cfg = rawOf(configSetting, {}, undefined)
  let file: Record<string, unknown> = {}
  let fileName: string | undefined
  if (cfg) {
    fileName = parseWith(configSetting, cfg.raw, cfg.source, cfg.ctx) as string
    file = readConfigFile(fileName, cfg.source)
    out.config = fileName
    sources.config = cfg.source
  }
  for (const setting of all) {
    if (setting.key === 'config') continue
    const r = rawOf(setting, file, fileName)
    if (r) {
      out[setting.key] = parseWith(setting, r.raw, r.source, r.ctx)
      sources[setting.key] = r.source
    } else if (setting.default !== undefined) {
      out[setting.key] = setting.key === 'data' ? resolve(cwd, String(setting.default)) : setting.default
      sources[setting.key] = 'default'
    }
  }
  const config = out as unknown as StartConfig
  crossCheck(config, sources)
  return { config, sources }
}
