/**
 * One route plugin per API area (dashboard/server/routes/), registered in a
 * fixed order; /tiles/ only when a tiles directory is configured.
 */
import type { FastifyInstance } from 'fastify'
import sessionRoutes from './routes/session.ts'
import userRoutes from './routes/users.ts'
import shipmentRoutes from './routes/shipments.ts'
import alarmRoutes from './routes/alarms.ts'
import deviceRoutes from './routes/devices.ts'
import ledgerRoutes from './routes/ledger.ts'
import reportRoutes from './routes/reports.ts'
import streamRoutes from './routes/stream.ts'
import metricsRoutes from './routes/metrics.ts'
import healthRoutes from './routes/health.ts'
import checkpointRoutes from './routes/checkpoint.ts'
import backupRoutes from './routes/backup.ts'
import tilesRoutes from './routes/tiles.ts'
import notificationRoutes from './routes/notifications.ts'
import type { DashboardOptions } from './dashboard-types.ts'

export async function registerApiRoutes(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  await app.register(healthRoutes)
  await app.register(checkpointRoutes)
  if (opts.tilesDir) await app.register(tilesRoutes, { dir: opts.tilesDir })
  await app.register(sessionRoutes)
  await app.register(userRoutes)
  await app.register(shipmentRoutes)
  await app.register(alarmRoutes)
  await app.register(deviceRoutes)
  await app.register(ledgerRoutes)
  await app.register(backupRoutes)
  await app.register(notificationRoutes)
  await app.register(reportRoutes)
  await app.register(streamRoutes)
  await app.register(metricsRoutes)
}
