/** The audit trail, a page at a time (docs/API.md, "Audit trail"). */
import type { AuditPageWire, AuditRecordWire } from '../../common/api-schemas.ts'
import { request } from './request.ts'

export type AuditRow = AuditRecordWire

export async function listAudit(before?: number, limit = 20): Promise<AuditPageWire> {
  return request('GET', `/api/audit?limit=${limit}${before === undefined ? '' : `&before=${before}`}`)
}
