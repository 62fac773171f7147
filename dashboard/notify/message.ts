/**
 * What a notification says: the e-mail text and the webhook JSON for one alarm.
 * Both name the shipment, the alarm, its severity and a link to the shipment
 * page, so a person can act from the message alone.
 */

/** The alarm fields a notification uses (the dashboard's AlarmView has them all). */
export interface NotifyAlarm {
  alarmId: string
  shipmentId: string
  deviceId: string | null
  kind: string
  severity: string | null
  message: string
  raisedAt: number
  state: 'open' | 'acknowledged'
}

export interface Notice {
  alarm: NotifyAlarm
  /** 0 = first notice; k = k-th escalation. */
  level: number
  /** For an escalation: how long the alarm has been unacknowledged, ms. */
  unackedForMs: number
  ruleId: string
  /** Link to the shipment page, or null when no public URL is configured. */
  link: string | null
}

export function shipmentLink(baseUrl: string | null, shipmentId: string): string | null {
  // A device alarm outside any shipment (e.g. a forked chain) links to the fleet's alarms.
  if (!baseUrl) return null
  return shipmentId ? `${baseUrl}/#/shipment/${encodeURIComponent(shipmentId)}` : `${baseUrl}/#/alarms`
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`

export function mailOf(n: Notice): { subject: string; text: string } {
  const a = n.alarm
  const sev = (a.severity ?? 'unrated').toUpperCase()
  const what = a.kind.replace(/_/g, ' ')
  const where = a.shipmentId ? `shipment ${a.shipmentId}` : `logger ${a.deviceId ?? '?'}`
  const subject = `${n.level > 0 ? `[ESCALATION ${n.level}] ` : ''}[ColdProof] ${sev} alarm on ${where}: ${what}`
  const lines = [
    n.level > 0
      ? `This alarm is still NOT ACKNOWLEDGED after ${minutes(n.unackedForMs)}; you are escalation contact ${n.level}.`
      : 'A cold-chain alarm was raised.',
    '',
    `Shipment:  ${a.shipmentId || '(none: a device alarm)'}`,
    `Alarm:     ${a.alarmId}`,
    `Kind:      ${what}`,
    `Severity:  ${a.severity ?? 'unrated'}`,
    `Logger:    ${a.deviceId ?? 'shipment-wide'}`,
    `Raised:    ${new Date(a.raisedAt).toISOString()} (device time)`,
    `Details:   ${a.message}`,
    '',
    n.link
      ? `Open the shipment and acknowledge the alarm: ${n.link}`
      : 'Acknowledge the alarm on the ColdProof dashboard (Alarms page).',
    '',
    `Sent by ColdProof notification rule "${n.ruleId}".`,
  ]
  return { subject, text: lines.join('\n') + '\n' }
}

export function webhookPayloadOf(n: Notice, deliveryId: string, sentAt: number) {
  const a = n.alarm
  return {
    type: n.level > 0 ? 'alarm.escalated' : 'alarm.raised',
    deliveryId,
    sentAt: new Date(sentAt).toISOString(),
    rule: n.ruleId,
    escalationLevel: n.level,
    unacknowledgedForMs: n.level > 0 ? n.unackedForMs : 0,
    link: n.link,
    alarm: {
      alarmId: a.alarmId,
      shipmentId: a.shipmentId,
      deviceId: a.deviceId,
      kind: a.kind,
      severity: a.severity,
      message: a.message,
      raisedAt: new Date(a.raisedAt).toISOString(),
      state: a.state,
    },
  }
}
