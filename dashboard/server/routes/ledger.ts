/**
 * The ledger: size and counters, the latest signed checkpoint, entries,
 * inclusion proofs (also as a C2SP tlog-proof when the size is the latest
 * checkpoint's) and consistency proofs (docs/API.md, "Ledger").
 */
import type { FastifyInstance } from 'fastify'
import { ERROR_RESPONSES, IntegrityCheckSchema as INTEGRITY, LedgerSummarySchema } from '../schemas.ts'
import { ApiError } from '../errors.ts'
import { leafHash } from '../../../ledger/tlog/index.ts'
import { formatTlogProof } from '../../../ledger/tlog/index.ts'
import { parseVerifierKey } from '../../../ledger/tlog/index.ts'
import { toHex } from '../../../ledger/protocol/index.ts'

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64')
const INDEX = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const

export default async function ledgerRoutes(app: FastifyInstance): Promise<void> {
  const { ledger } = app.dashboard

  function checkpointView() {
    const cp = ledger.latestCheckpoint()
    if (!cp) return null
    let publicKey: string | null = null
    try {
      publicKey = toHex(parseVerifierKey(ledger.verifierKey).publicKey)
    } catch {
      publicKey = null
    }
    return {
      origin: ledger.origin,
      size: cp.size,
      rootHash: cp.rootHash,
      note: cp.note,
      publicKey,
      verifierKey: ledger.verifierKey,
    }
  }

  app.get(
    '/api/ledger',
    {
      schema: {
        tags: ['ledger'],
        response: {
          200: LedgerSummarySchema,
          ...ERROR_RESPONSES,
        },
      },
    },
    async () => {
      const st = ledger.stats()
      return {
        size: ledger.size(),
        latestCheckpoint: checkpointView(),
        quarantined: st.quarantineByReason,
        entriesByType: st.entriesByType,
        lastIntegrityCheck: app.dashboard.integrity.last(),
      }
    },
  )

  app.post(
    '/api/ledger/check',
    {
      config: { roles: ['operator'], rateLimit: app.dashboard.writeLimit },
      schema: { tags: ['ledger'], response: { 200: INTEGRITY, ...ERROR_RESPONSES } },
    },
    async () => app.dashboard.integrity.run(),
  )

  app.get(
    '/api/ledger/checkpoint',
    {
      schema: {
        tags: ['ledger'],
        response: { 200: { $ref: 'Checkpoint#' }, 404: { $ref: 'Error#' }, ...ERROR_RESPONSES },
      },
    },
    async () => {
      const cp = checkpointView()
      if (!cp) throw new ApiError('ERR_CHECKPOINT_NOT_FOUND', 'no checkpoint has been signed yet')
      return cp
    },
  )

  const entryParams = { type: 'object', properties: { index: INDEX }, required: ['index'] } as const
  const mustIndex = (i: number) => {
    if (i >= ledger.size())
      throw new ApiError('ERR_ENTRY_NOT_FOUND', `no entry ${i}: the log has ${ledger.size()} entries`, 'params.index')
  }

  app.get<{ Params: { index: number } }>(
    '/api/ledger/entries/:index',
    {
      schema: {
        tags: ['ledger'],
        params: entryParams,
        response: {
          200: {
            type: 'object',
            properties: {
              index: { type: 'integer' },
              type: { type: 'string' },
              time: { type: 'integer' },
              prev: { type: 'string' },
              body: { type: 'object', additionalProperties: true },
              hash: { type: 'string' },
              bytes: { type: 'string' },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req) => {
      mustIndex(req.params.index)
      const e = await ledger.getEntry(req.params.index)
      return {
        index: e.entry.index,
        type: e.entry.type,
        time: e.entry.time,
        prev: e.entry.prev,
        body: e.entry.body,
        hash: e.hash,
        bytes: b64(e.bytes),
      }
    },
  )

  app.get<{ Params: { index: number }; Querystring: { size?: number } }>(
    '/api/ledger/entries/:index/proof',
    {
      schema: {
        tags: ['ledger'],
        params: entryParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { size: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              index: { type: 'integer' },
              size: { type: 'integer' },
              leafHash: { type: 'string' },
              proof: { type: 'array', items: { type: 'string' } },
              tlogProof: { type: ['string', 'null'] },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req) => {
      const { index } = req.params
      mustIndex(index)
      const cp = ledger.latestCheckpoint()
      const size = req.query.size ?? cp?.size ?? ledger.size()
      if (size > ledger.size())
        throw new ApiError(
          'ERR_VALIDATION',
          `size ${size} is larger than the log (${ledger.size()})`,
          'querystring.size',
        )
      if (index >= size)
        throw new ApiError('ERR_VALIDATION', `entry ${index} is not in a tree of size ${size}`, 'querystring.size')
      const [proof, bytes] = await Promise.all([ledger.inclusionProof(index, size), ledger.entryBytes(index)])
      return {
        index,
        size,
        leafHash: b64(leafHash(bytes)),
        proof: proof.map(b64),
        tlogProof: cp && cp.size === size ? formatTlogProof(index, proof, cp.note) : null,
      }
    },
  )

  app.get<{ Querystring: { from: number; to: number } }>(
    '/api/ledger/consistency',
    {
      schema: {
        tags: ['ledger'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { from: { type: 'integer', minimum: 0 }, to: { type: 'integer', minimum: 0 } },
          required: ['from', 'to'],
        },
        response: {
          200: {
            type: 'object',
            properties: {
              from: { type: 'integer' },
              to: { type: 'integer' },
              proof: { type: 'array', items: { type: 'string' } },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req) => {
      const { from, to } = req.query
      if (to > ledger.size())
        throw new ApiError('ERR_VALIDATION', `"to" ${to} is larger than the log (${ledger.size()})`, 'querystring.to')
      if (from > to)
        throw new ApiError('ERR_VALIDATION', `"from" ${from} is larger than "to" ${to}`, 'querystring.from')
      return { from, to, proof: (await ledger.consistencyProof(from, to)).map(b64) }
    },
  )

  app.get<{ Querystring: { limit?: number } }>(
    '/api/ledger/quarantine',
    {
      config: { roles: ['operator'] },
      schema: {
        tags: ['ledger'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    at: { type: 'integer' },
                    reason: { type: 'string' },
                    message: { type: 'string' },
                    deviceId: { type: ['string', 'null'] },
                    payload: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req) => {
      const items = await ledger.quarantined({ limit: req.query.limit ?? 100, reverse: true })
      return {
        items: items.map((q) => ({
          at: q.time,
          reason: q.reason,
          message: q.message,
          deviceId: q.deviceId ?? null,
          payload: q.raw || null,
        })),
      }
    },
  )
}
