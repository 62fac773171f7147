/** How a setting reads to people: its flag name, its default and its --help line. */
import type { Setting } from './settings.ts'

/** The long flag alone, as error messages name it: '--metrics-token'. */
export function flagName(setting: Pick<Setting, 'flag'>): string {
  return setting.flag.split(' ')[0]
}

/** The default as --help and the docs show it. */
export function defaultText(setting: Pick<Setting, 'default' | 'defaultText'>): string | undefined {
  if (setting.defaultText !== undefined) return setting.defaultText
  return setting.default === undefined ? undefined : String(setting.default)
}

/** Help text of one setting: description, then its environment variable and default. */
export function helpText(setting: Setting): string {
  const extra = [
    setting.env ? `env ${setting.env}` : '',
    defaultText(setting) !== undefined ? `default ${defaultText(setting)}` : '',
  ]
  if (setting.secret) extra.push('prefer the env or the config file: flags show in ps')
  const tail = extra.filter(Boolean).join('; ')
  return tail ? `${setting.description} (${tail})` : setting.description
}
