/**
 * The dashboard server's public surface, for the start-up code and tests.
 * API documentation: docs/API.md.
 */
export { buildDashboard, DEFAULT_PUBLIC_DIR } from './app.ts'
export type { DashboardOptions, DashboardContext, BundleBuilder } from './app.ts'
export { openUserStore, hashPassword, verifyPassword, ROLES } from './users.ts'
export type { UserStore, UserStoreOptions, SeedUser, Role, PublicUser } from './users.ts'
export { createFleetMonitor } from './monitor.ts'
export type { FleetMonitor, MonitorEvent, AlarmView, ShipmentSummaryView, DeviceStateView } from './monitor.ts'
export type { BrokerMetricsSnapshot, IngestMetricsSnapshot } from './metrics.ts'
export { API_ERROR_CODES, ApiError } from './errors.ts'
