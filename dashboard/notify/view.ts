/** One notification of an alarm as the API, the UI and the PDF show it (no imports: the web bundle uses it too). */
export interface NotificationView {
  channel: string
  to: string
  /** When it was sent or given up, ms UTC. */
  at: number
  status: 'sent' | 'failed'
  attempts: number
  /** 0 = the first notice; k = the k-th escalation. */
  level: number
  error?: string
}
