/**
 * `coldproof start` refusals as one line that names the problem and the fix
 * (no stack trace): a ledger another process holds open, a port in use, a
 * damaged ledger (its own ERR_LEDGER_ message already says how to restore).
 */
export interface StartContext {
  dataDir: string
  host: string
  httpPort: number
  mqttPort: number
  externalBroker: boolean
}

type Err = Error & { code?: unknown; cause?: unknown; address?: unknown; port?: unknown; syscall?: unknown }

function chain(e: unknown): Err[] {
  const out: Err[] = []
  for (
    let cur = e as Err | undefined;
    cur && typeof cur === 'object' && out.length < 8;
    cur = cur.cause as Err | undefined
  )
    out.push(cur)
  return out
}

export function describeStartError(e: unknown, ctx: StartContext): string {
  const errs = chain(e)
  if (
    errs.some(
      (x) => x.code === 'LEVEL_LOCKED' || /\bLOCK\b.*(temporarily unavailable|Resource|lock)/i.test(String(x.message)),
    )
  ) {
    return `coldproof start: ERR_LEDGER_LOCKED: the ledger in ${ctx.dataDir} is in use by another process (probably another "coldproof start"); stop that one first (Ctrl-C in its terminal), or start this one with another --data directory`
  }
  const inUse = errs.find((x) => x.code === 'EADDRINUSE')
  if (inUse) {
    const port = typeof inUse.port === 'number' ? inUse.port : Number(/:(\d+)\s*$/.exec(String(inUse.message))?.[1])
    const which =
      port === ctx.httpPort && port !== ctx.mqttPort
        ? { name: 'dashboard HTTP', flag: '--port <port> (env COLDPROOF_PORT)' }
        : port === ctx.mqttPort && port !== ctx.httpPort
          ? { name: 'embedded MQTT broker', flag: '--mqtt-port <port> (env COLDPROOF_MQTT_PORT)' }
          : { name: 'dashboard or broker', flag: '--port / --mqtt-port' }
    return `coldproof start: ERR_PORT_IN_USE: port ${Number.isFinite(port) ? port : '?'} on ${ctx.host} (${which.name}) is already in use, perhaps by another ColdProof; stop that program or choose another port with ${which.flag}`
  }
  const denied = errs.find((x) => x.code === 'EACCES' && x.syscall === 'listen')
  if (denied)
    return `coldproof start: ERR_PORT_DENIED: not allowed to listen on ${String(denied.message).replace(/^listen EACCES: permission denied /, '')}; ports below 1024 need privileges: choose a port above 1023 with --port / --mqtt-port`
  const first = errs[0]
  const code = typeof first?.code === 'string' ? `${first.code}: ` : ''
  const msg = String(first?.message ?? e).split('\n')[0]
  return `coldproof start: ${code}${msg}`
}
