/**
 * A throwaway self-signed certificate for 127.0.0.1 and localhost, made with
 * the openssl command line, for the TLS tests (mqtts, HTTPS). Where openssl is
 * missing, `openssl` is undefined and tests skip with NO_OPENSSL as the reason.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'

function findOpenssl(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

/** The openssl binary, or undefined where it is not installed. */
export const openssl = findOpenssl()

export const NO_OPENSSL = 'openssl command not found: cannot make a test certificate'

/** Writes `<name>.key` and `<name>.crt` (EC P-256, valid one day) into `dir`; returns their paths. */
export function selfSigned(dir: string, name: string): { cert: string; key: string } {
  if (!openssl) throw new Error(NO_OPENSSL)
  const key = join(dir, `${name}.key`),
    cert = join(dir, `${name}.crt`)
  execFileSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  )
  return { cert, key }
}
