/** Settings that only make sense together, checked once every value is resolved. */
import { readFileSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import { invalidSetting, type Source } from './errors.ts'
import { SETTINGS, type Setting, type StartConfig } from './settings.ts'

function invalid(key: keyof StartConfig, sources: Partial<Record<string, Source>>, problem: string): never {
  const setting = (SETTINGS as readonly Setting[]).find((x) => x.key === key)!
  throw invalidSetting(setting, sources[key] ?? 'default', problem)
}

/** Settings that only make sense together. */
export function crossCheck(c: StartConfig, sources: Partial<Record<string, Source>>): void {
  for (const [cert, key] of [
    ['tlsCert', 'tlsKey'],
    ['mqttTlsCert', 'mqttTlsKey'],
  ] as const) {
    if (c[cert] && !c[key]) invalid(cert, sources, `needs ${key === 'tlsKey' ? '--tls-key' : '--mqtt-tls-key'} as well`)
    if (c[key] && !c[cert])
      invalid(key, sources, `needs ${cert === 'tlsCert' ? '--tls-cert' : '--mqtt-tls-cert'} as well`)
    if (c[cert] && c[key]) {
      try {
        createSecureContext({ cert: readFileSync(c[cert]!), key: readFileSync(c[key]!) })
      } catch (e) {
        invalid(key, sources, `does not go with the certificate ${c[cert]}: ${(e as Error).message}`)
      }
    }
  }
  if (c.broker && c.mqttTlsCert)
    invalid(
      'mqttTlsCert',
      sources,
      "applies to the embedded broker only; with --broker, TLS is the external broker's (use an mqtts:// URL)",
    )
  if (c.broker === undefined && (c.brokerUsername !== undefined || c.brokerPassword !== undefined)) {
    invalid(
      c.brokerUsername !== undefined ? 'brokerUsername' : 'brokerPassword',
      sources,
      'applies to an external broker only; give --broker <url> as well',
    )
  }
}
