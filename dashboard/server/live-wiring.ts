/**
 * The live stream wiring: once the app is ready the monitor folds the ledger
 * and its events go to the open live streams (alarms and acks with their
 * notifications) and, for alarms, to the notifier, whose escalation check runs
 * on a timer. stop() undoes it when the app closes.
 */
import type { DashboardContext } from './dashboard-types.ts'

export interface LiveWiring {
  start(): Promise<void>
  stop(): Promise<void>
}

export function wireLiveStream(ctx: DashboardContext): LiveWiring {
  const { monitor, notifier, sse, opts } = ctx
  let escalationTimer: NodeJS.Timeout | undefined
  return {
    async start() {
      await monitor.start()
      monitor.subscribe(
        (e) => {
          // The notifier only enqueues here: a slow channel never holds up the monitor (dashboard/notify/notifier.ts).
          if (e.event === 'alarm') notifier?.onAlarm(e.data)
          sse.broadcast(
            e.event === 'alarm' || e.event === 'ack'
              ? ({
                  event: e.event,
                  data: { ...e.data, notifications: ctx.notificationsOf(e.data.shipmentId, e.data.alarmId) },
                } as typeof e)
              : e,
          )
        },
        // With no live stream open only the notifier listens, to alarms: the monitor then builds no
        // reading or shipment event per reading (and nothing is serialised for nobody).
        (event) => sse.size() > 0 || (event === 'alarm' && notifier !== null),
      )
      const escalateEvery = opts.notifications?.escalationCheckMs ?? 30_000
      if (notifier && escalateEvery > 0) {
        escalationTimer = setInterval(() => notifier.tick(), escalateEvery)
        escalationTimer.unref()
      }
      // A small ledger is folded before the first request (no partial state to explain); a large one
      // is folded after, so that the server answers within fastify's ready timeout whatever the size.
      if (monitor.progress().readingsTotal <= (opts.catchUp?.waitUpTo ?? 10_000)) await monitor.caughtUp()
    },
    async stop() {
      if (escalationTimer) clearInterval(escalationTimer)
      monitor.stop()
      await notifier?.close()
    },
  }
}
