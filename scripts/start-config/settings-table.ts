import { defaultText } from './describe.ts'
import { SETTINGS, type Setting } from './settings.ts'

/** The settings table of docs/OPERATIONS.md, generated from SETTINGS. */
export function settingsTable(): string {
  const cell = (x: string) => x.replace(/\|/g, '\\|')
  const rows = (SETTINGS as readonly Setting[]).map((x) => {
    const d = defaultText(x)
    return `| \`${cell(x.flag)}\` | ${x.env ? `\`${x.env}\`` : ''} | \`${x.key}\` | ${d !== undefined ? `\`${cell(d)}\`` : ''} | ${cell(x.description)}${x.secret ? ' (secret)' : ''} |`
  })
  return [
    '| flag | environment | config file key | default | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n')
}
