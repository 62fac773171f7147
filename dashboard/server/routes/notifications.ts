/** Alarm notification rules (admin only): docs/API.md, "Notifications". */
import type { FastifyInstance } from 'fastify'
import { ERROR_RESPONSES } from '../schemas.ts'
import { ApiError } from '../errors.ts'
import { NotifyConfigError } from '../../notify/config.ts'

const ADMIN_ONLY = [] as const

export default async function notificationRoutes(app: FastifyInstance): Promise<void> {
  const { writeLimit } = app.dashboard
  const notifier = () => {
    const n = app.dashboard.notifier
    if (!n)
      throw new ApiError(
        'ERR_NOTIFICATIONS_UNAVAILABLE',
        'notifications are not set up on this server (start it with `coldproof start`, which reads --notify-config)',
      )
    return n
  }

  app.get(
    '/api/notifications/rules',
    {
      config: { roles: ADMIN_ONLY },
      schema: { tags: ['notifications'], response: ERROR_RESPONSES },
    },
    async () => notifier().config(),
  )

  app.put<{ Body: unknown }>(
    '/api/notifications/rules',
    {
      config: { roles: ADMIN_ONLY, rateLimit: writeLimit },
      schema: { tags: ['notifications'], body: { type: 'object' }, response: ERROR_RESPONSES },
    },
    async (req) => {
      try {
        const shown = await notifier().setConfig(req.body)
        await app.dashboard.audit(req, 'notifications.rules_changed', 'rules', {
          rules: shown.rules.length,
          channels: Object.keys(shown.channels).length,
        })
        req.log.info(
          { by: req.user!.username, rules: shown.rules.length, channels: Object.keys(shown.channels) },
          'notification rules changed',
        )
        return shown
      } catch (e) {
        // "$.rules[0].severities[1]" → field "body.rules[0].severities[1]", like every other 400.
        if (e instanceof NotifyConfigError)
          throw new ApiError('ERR_VALIDATION', e.message.replace(/^\$/, 'body'), e.path.replace(/^\$/, 'body'))
        throw e
      }
    },
  )
}
