/** The settings as commander options of `coldproof start`. */
import { Option, type Command } from 'commander'
import { helpText } from './describe.ts'
import { SETTINGS, type Setting } from './settings.ts'

/** Commander's property name for a flag ('--mqtt-port <port>' -> mqttPort, '--no-demo' -> demo). */
function attributeOf(flag: string): string {
  const long = flag.split(/[ ,]/)[0].replace(/^--(no-)?/, '')
  return long.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
}

/** Adds every setting to the command as an option without a commander default, so an unset flag leaves room for env, file and default. */
export function addStartOptions(cmd: Command): Command {
  for (const setting of SETTINGS as readonly Setting[]) {
    if (attributeOf(setting.flag) !== setting.key)
      throw new Error(`start-config: flag ${setting.flag} does not map to key ${setting.key}`)
    const o = new Option(setting.flag, helpText(setting))
    cmd.addOption(o)
  }
  return cmd
}
