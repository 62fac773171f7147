/**
 * Prometheus metrics (prom-client) in the dashboard's own Registry, so two
 * dashboards in one process (tests) never share series. Values that other
 * parts own (ledger counters, broker connections) are read when scraped.
 * Series are listed in docs/API.md, "Metrics".
 */
import { Registry, Counter, Gauge, Histogram } from 'prom-client'

export interface BrokerMetricsSnapshot {
  connections: number
  /** Refusals by reason (broker/refusals.ts). */
  refusals?: Record<string, number>
  /** Refusals grouped by security kind (login_failed, login_backoff, acl_denied, ...). */
  securityEvents?: Record<string, number>
  /** Publishes held back by the rate limit. */
  throttled?: number
  /** Open sockets that have sent no CONNECT yet. */
  idleSockets?: number
  /** Password (scrypt) checks started. */
  passwordChecks?: number
}
/**
 * `pending`: messages received from the broker whose outcome (entry or quarantine record) is not durable yet.
 * `duplicates`: exact replays of a reading the ledger holds, answered with the receipt and not stored again.
 */
export interface IngestMetricsSnapshot {
  received: number
  pending: number
  duplicates?: number
}

export interface MetricsSources {
  /** Readings stored in the ledger. */
  readingsIngested: () => number
  /** Quarantined messages by reason code. */
  quarantinedByReason: () => Record<string, number>
  /** The bounded quarantine: records and bytes kept, rejections not kept (over a cap) by reason. */
  quarantineStore?: () => { records: number; bytes: number; droppedByReason: Record<string, number> }
  logSize: () => number
  /** Ledger write health: healthy or not, failed write attempts (database batches, checkpoints.log appends). */
  ledgerHealth?: () => { ok: boolean; code?: string; writeFailures: { database: number; anchor: number } }
  /** Device chain state: reading.fork entries logged (forks), devices flagged compromised, readings held above gaps. */
  chains?: () => { forks: number; compromised: number; held: number }
  openAlarms: () => number
  sseClients: () => number
  brokerMetrics?: () => BrokerMetricsSnapshot
  ingestMetrics?: () => IngestMetricsSnapshot
}

export interface DashboardMetrics {
  registry: Registry
  /** Seconds from the ledger receiving a reading (entry time) to the dashboard seeing it committed. */
  observeIngestLatency(seconds: number): void
}

function setCounter(c: Counter, v: number, labels?: Record<string, string>): void {
  // A counter mirroring a total kept elsewhere: reset, then add the current total.
  if (labels) c.inc(labels, v)
  else c.inc(v)
}

export function createMetrics(src: MetricsSources): DashboardMetrics {
  const registry = new Registry()
  new Counter({
    name: 'coldproof_readings_ingested_total',
    help: 'Readings stored in the ledger',
    registers: [registry],
    collect() {
      this.reset()
      setCounter(this, src.readingsIngested())
    },
  })
  new Counter({
    name: 'coldproof_quarantined_total',
    help: 'Messages rejected by the ingest and kept in quarantine, by reason',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [reason, n] of Object.entries(src.quarantinedByReason())) setCounter(this, n, { reason })
    },
  })
  if (src.chains) {
    const chains = src.chains
    new Counter({
      name: 'coldproof_device_forks_total',
      help: 'reading.fork entries logged: two different signed readings of one device and seq',
      registers: [registry],
      collect() {
        this.reset()
        setCounter(this, chains().forks)
      },
    })
    new Gauge({
      name: 'coldproof_devices_compromised',
      help: 'Devices flagged compromised by a fork',
      registers: [registry],
      collect() {
        this.set(chains().compromised)
      },
    })
    new Gauge({
      name: 'coldproof_readings_held',
      help: 'Verified readings held above a gap, outside the log',
      registers: [registry],
      collect() {
        this.set(chains().held)
      },
    })
  }
  if (src.quarantineStore) {
    const q = src.quarantineStore
    new Gauge({
      name: 'coldproof_quarantine_records',
      help: 'Quarantine records kept',
      registers: [registry],
      collect() {
        this.set(q().records)
      },
    })
    new Gauge({
      name: 'coldproof_quarantine_bytes',
      help: 'Bytes of the quarantine records kept',
      registers: [registry],
      collect() {
        this.set(q().bytes)
      },
    })
    new Counter({
      name: 'coldproof_quarantine_dropped_total',
      help: 'Rejections counted but not kept because a quarantine cap was reached, by reason',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset()
        for (const [reason, n] of Object.entries(q().droppedByReason)) setCounter(this, n, { reason })
      },
    })
  }
  const latency = new Histogram({
    name: 'coldproof_ingest_latency_seconds',
    help: 'Time from the ledger receiving a reading to its commit being seen by the dashboard',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  if (src.ledgerHealth) {
    const health = src.ledgerHealth
    new Gauge({
      name: 'coldproof_ledger_healthy',
      help: 'Whether the ledger can write (0 while the disk is full or writes fail; see /health for the reason)',
      registers: [registry],
      collect() {
        this.set(health().ok ? 1 : 0)
      },
    })
    new Counter({
      name: 'coldproof_ledger_write_failures_total',
      help: 'Failed durable write attempts of the ledger (retried with backoff), by target',
      labelNames: ['target'],
      registers: [registry],
      collect() {
        this.reset()
        const f = health().writeFailures
        setCounter(this, f.database, { target: 'database' })
        setCounter(this, f.anchor, { target: 'checkpoints_log' })
      },
    })
  }
  new Gauge({
    name: 'coldproof_log_size',
    help: 'Entries in the ledger',
    registers: [registry],
    collect() {
      this.set(src.logSize())
    },
  })
  new Gauge({
    name: 'coldproof_open_alarms',
    help: 'Open (unacknowledged) alarms across the fleet',
    registers: [registry],
    collect() {
      this.set(src.openAlarms())
    },
  })
  new Gauge({
    name: 'coldproof_sse_clients',
    help: 'Connected live-stream clients',
    registers: [registry],
    collect() {
      this.set(src.sseClients())
    },
  })
  new Gauge({
    name: 'coldproof_broker_connections',
    help: 'MQTT clients connected to the broker',
    registers: [registry],
    collect() {
      this.set(src.brokerMetrics ? src.brokerMetrics().connections : 0)
    },
  })
  if (src.brokerMetrics) {
    const broker = src.brokerMetrics
    new Counter({
      name: 'coldproof_broker_refusals_total',
      help: 'Clients refused by the broker, by reason (docs/OPERATIONS.md, "Refusal reasons")',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset()
        for (const [reason, n] of Object.entries(broker().refusals ?? {})) setCounter(this, n, { reason })
      },
    })
    new Gauge({
      name: 'coldproof_broker_idle_sockets',
      help: 'Broker sockets open without a CONNECT yet',
      registers: [registry],
      collect() {
        this.set(broker().idleSockets ?? 0)
      },
    })
    new Counter({
      name: 'coldproof_broker_password_checks_total',
      help: 'Service-account password (scrypt) checks the broker ran',
      registers: [registry],
      collect() {
        this.reset()
        setCounter(this, broker().passwordChecks ?? 0)
      },
    })
  }
  new Counter({
    name: 'coldproof_security_events_total',
    help: 'Security events by kind: broker refusals grouped (login_failed, login_backoff, acl_denied, rate_limited, oversize, protocol, idle_socket, capacity), rate-limit hits (throttled) and quarantined messages',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset()
      const b = src.brokerMetrics?.()
      const kinds: Record<string, number> = { ...(b?.securityEvents ?? {}) }
      if (b?.throttled !== undefined) kinds.throttled = b.throttled
      kinds.quarantined = Object.values(src.quarantinedByReason()).reduce((a, n) => a + n, 0)
      for (const [kind, n] of Object.entries(kinds)) setCounter(this, n, { kind })
    },
  })
  if (src.ingestMetrics) {
    const ingest = src.ingestMetrics
    new Counter({
      name: 'coldproof_ingest_messages_received_total',
      help: 'MQTT reading messages received by the ingest',
      registers: [registry],
      collect() {
        this.reset()
        setCounter(this, ingest().received)
      },
    })
    new Counter({
      name: 'coldproof_ingest_duplicates_total',
      help: 'Exact replays of a reading the ledger already holds: answered with the receipt, not stored again',
      registers: [registry],
      collect() {
        this.reset()
        setCounter(this, ingest().duplicates ?? 0)
      },
    })
    new Gauge({
      name: 'coldproof_ingest_pending',
      help: 'Messages received from the broker whose outcome is not durable yet (not yet acknowledged)',
      registers: [registry],
      collect() {
        this.set(ingest().pending)
      },
    })
  }
  return {
    registry,
    observeIngestLatency(seconds) {
      if (Number.isFinite(seconds) && seconds >= 0) latency.observe(seconds)
    },
  }
}
